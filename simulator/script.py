"""What the simulated fleet and backend say: pure builders, no I/O.

Everything here is a function of its arguments (and of a seeded random
generator), so the tests check the exact topics and payloads without a broker.
Topics come from the protocol package's TopicScheme; payloads follow protocol.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from itertools import cycle, islice
from random import Random
from typing import Any, Final
import uuid

from .wire import protocol

VoiceType = protocol.VoiceType

# Rooms are named after these, in order; more rooms become room_9, room_10...
ROOM_IDS: Final = (
    "living_room",
    "kitchen",
    "bedroom",
    "office",
    "bathroom",
    "hallway",
    "garage",
    "dining_room",
)

DEFAULT_XIAOZHI_MAC: Final = "cc:ba:97:11:0e:84"


def room_ids(count: int) -> list[str]:
    """Return the ids of the first count rooms."""
    return [
        ROOM_IDS[index] if index < len(ROOM_IDS) else f"room_{index + 1}"
        for index in range(count)
    ]


def room_name(room_id: str) -> str:
    """Return a room's name as Home Assistant shows it: living_room -> Living room."""
    words = room_id.replace("_", " ")
    return words[:1].upper() + words[1:]


# Devices ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DeviceKind:
    """A type of device: its protocol type, id prefix and what people call it."""

    device_type: str
    id_prefix: str
    label: str


# Device types take turns in this order, so every fleet of three or more has one
# of each and the first device is always a voice box.
DEVICE_KINDS: Final = (
    DeviceKind("voice_box", "VB", "voice box"),
    DeviceKind("vr", "VR", "VR headset"),
    DeviceKind("browser", "BR", "browser"),
)


@dataclass(frozen=True, slots=True)
class DeviceSpec:
    """Who a simulated device is; mac is set on voice boxes that speak xiaozhi."""

    device_id: str
    device_type: str
    name: str
    mac: str | None = None

    @property
    def username(self) -> str:
        """Return the MQTT username of the device's own login (docs/broker-acl.md).

        Its id; a MAC without its colons, since a mosquitto username cannot
        hold ":".
        """
        return self.device_id.replace(":", "")


def voice_box_count(devices: int) -> int:
    """Return how many voice boxes a fleet of this size has."""
    return len(range(0, devices, len(DEVICE_KINDS)))


def plan_fleet(devices: int, macs: Sequence[str] = ()) -> list[DeviceSpec]:
    """Return the devices of a fleet: VB_0001, VR_0001, BR_0001, VB_0002, ...

    Each is named after a room ("Kitchen VR headset"); the voice boxes take the
    xiaozhi MACs in order, and a voice box with a MAC uses it as its id, as a
    xiaozhi box does: Home Assistant can then wake it by picking the device.

    Raises:
        ValueError: more MACs than voice boxes.
    """
    if len(macs) > voice_box_count(devices):
        raise ValueError(
            f"{len(macs)} xiaozhi MACs need as many voice boxes; a fleet of "
            f"{devices} has {voice_box_count(devices)} (every third device)"
        )
    free_macs = iter(macs)
    specs = []
    for index in range(devices):
        kind = DEVICE_KINDS[index % len(DEVICE_KINDS)]
        number = index // len(DEVICE_KINDS) + 1
        lap, place = divmod(index, len(ROOM_IDS))
        name = f"{room_name(ROOM_IDS[place])} {kind.label}"
        mac = next(free_macs, None) if kind is DEVICE_KINDS[0] else None
        specs.append(
            DeviceSpec(
                device_id=protocol.validate_identifier(
                    mac or f"{kind.id_prefix}_{number:04}"
                ),
                device_type=kind.device_type,
                # Names repeat once every room has one of each kind: number them.
                name=f"{name} {lap + 1}" if lap else name,
                mac=mac,
            )
        )
    return specs


# Device types that play media: they report a position (and the length of
# what they play) in every status, as the fleet's headsets do. Others report
# one only while they play or are paused.
PLAYING_TYPES: Final = frozenset({"vr"})
# What a simulated headset plays: a 90-minute film. Past its end the position
# stays at the end (no timer runs for it); stop, play or seek from there.
FILM_MS: Final = 90 * 60 * 1000


@dataclass(frozen=True, slots=True)
class DeviceState:
    """What a device reports in its retained status.

    While playing, the position advances by itself from position_ms, valid at
    the monotonic moment since: nothing is published per second.
    """

    status: str = "idle"
    position_ms: int = 0
    session_id: str = ""
    # Not part of what the state says: two states at the same position are
    # the same state, whenever they were taken.
    since: float = field(default=0.0, compare=False)

    def position_at(self, now: float, duration_ms: int | None = None) -> int:
        """Return the position at monotonic time now, at most duration_ms."""
        position = self.position_ms
        if self.status == "playing":
            position += max(0, round((now - self.since) * 1000))
        return position if duration_ms is None else min(position, duration_ms)


# The commands apply_command acts on; any other leaves the state as it is.
ACTED_ON: Final = frozenset({"play", "pause", "stop", "join", "leave"})


def apply_command(
    state: DeviceState,
    command: str,
    data: dict[str, Any],
    *,
    now: float = 0.0,
    duration_ms: int | None = None,
) -> DeviceState:
    """Return the state after a device or session command (unknown: no change).

    now is the monotonic moment the command arrives: play and pause without a
    positionMs go on from, or stop at, where the device has got to by then.

    Raises:
        ValueError: the command's payload is unusable (bad positionMs or sessionId).
    """
    match command:
        case "play":
            position = _position(data, state, now, duration_ms)
            return replace(state, status="playing", position_ms=position, since=now)
        case "pause":
            position = _position(data, state, now, duration_ms)
            return replace(state, status="paused", position_ms=position, since=now)
        case "stop":
            return replace(state, status="idle", position_ms=0, since=now)
        case "join":
            try:
                session_id = protocol.validate_identifier(data.get("sessionId"))
            except protocol.IdentifierError as err:
                raise ValueError(f"sessionId is {err.reason}") from None
            return replace(state, session_id=session_id)
        case "leave":
            return replace(state, session_id="")
    return state


def _position(
    data: dict[str, Any], state: DeviceState, now: float, duration_ms: int | None
) -> int:
    value = data.get("positionMs")
    if value is None:
        return state.position_at(now, duration_ms)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"positionMs must be a whole number >= 0, not {value!r}")
    return value if duration_ms is None else min(value, duration_ms)


def duration_of(spec: DeviceSpec) -> int | None:
    """Return how long what the device plays lasts, if it says (headsets do)."""
    return FILM_MS if spec.device_type in PLAYING_TYPES else None


def announce_payload(spec: DeviceSpec, timestamp: str) -> dict[str, Any]:
    """Return the discovery announce of a device."""
    return {
        "deviceId": spec.device_id,
        "type": spec.device_type,
        "name": spec.name,
        "timestamp": timestamp,
    }


def status_payload(
    spec: DeviceSpec, state: DeviceState, timestamp: str, now: float = 0.0
) -> dict[str, Any]:
    """Return the retained status of a device at monotonic time now.

    A headset reports its position and the length of its film always; another
    device its position only while it plays or is paused (a voice box that
    only idles says nothing of media, and gets no media player).
    """
    payload: dict[str, Any] = {
        "deviceId": spec.device_id,
        "type": spec.device_type,
        "status": state.status,
    }
    duration = duration_of(spec)
    if duration is not None or state.status in ("playing", "paused"):
        payload["positionMs"] = state.position_at(now, duration)
    if duration is not None:
        payload["durationMs"] = duration
    payload["sessionId"] = state.session_id
    payload["timestamp"] = timestamp
    return payload


def heartbeat_payload(spec: DeviceSpec, status: str, timestamp: str) -> dict[str, Any]:
    """Return a heartbeat of a device."""
    return {
        "deviceId": spec.device_id,
        "type": spec.device_type,
        "status": status,
        "timestamp": timestamp,
    }


def will_payload(spec: DeviceSpec, timestamp: str) -> dict[str, Any]:
    """Return the Last Will a device registers when it connects."""
    return {
        "deviceId": spec.device_id,
        "status": protocol.OFFLINE,
        "timestamp": timestamp,
    }


# Device-defined events: the protocol leaves their shape to each device type.
_EVENTS: Final[dict[str, tuple[dict[str, Any], ...]]] = {
    "voice_box": (
        {"type": "button", "button": "main"},
        {"type": "button", "button": "volume_up"},
        {"type": "mute", "muted": True},
    ),
    "vr": (
        {"type": "headset", "worn": True},
        {"type": "headset", "worn": False},
        {"type": "controller", "button": "trigger"},
    ),
    "browser": (
        {"type": "tab", "visible": False},
        {"type": "tab", "visible": True},
    ),
}


def event_payload(rng: Random, spec: DeviceSpec, timestamp: str) -> dict[str, Any]:
    """Return a random event of the kind this type of device sends."""
    return {**rng.choice(_EVENTS[spec.device_type]), "timestamp": timestamp}


# Conversations ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Intent:
    """One canned request, what the backend shows and does, and its answer."""

    utterance: str
    refined: str
    action: str
    data: dict[str, Any]
    tool: str
    answer: str


INTENTS: Final = (
    Intent(
        "turn on the lights",
        "Turn on the lights.",
        "light_control",
        {"on": True, "brightness": 80},
        "control_light",
        "Turning on the lights at eighty percent.",
    ),
    Intent(
        "what is the weather like tomorrow",
        "What is the weather like tomorrow?",
        "weather",
        {"location": "Lyon", "condition": "cloudy", "high_c": 18, "low_c": 9},
        "get_weather",
        "Tomorrow will be cloudy, with a high of eighteen and a low of nine degrees.",
    ),
    Intent(
        "set a timer for ten minutes",
        "Set a timer for 10 minutes.",
        "timer",
        {"duration_s": 600, "label": "Timer"},
        "set_timer",
        "Your ten minute timer starts now.",
    ),
    Intent(
        "play some jazz",
        "Play some jazz.",
        "music",
        {"artist": "Miles Davis", "track": "So What", "playing": True},
        "play_music",
        "Playing So What by Miles Davis.",
    ),
)

FAILURE_ANSWER: Final = "Sorry, that did not work. Please try again."


class Service(StrEnum):
    """Which of the backend's two services publishes a message, on its own clock.

    protocol.md section 4, "Two publishers, two clocks": the wake-word service
    hears the user (wake_detected, listening until the transcript is final,
    the transcripts); the AI gateway does the rest (processing, display
    actions, tool runs, the answer, responding and idle again).
    """

    WAKE_WORD = "wake_word"
    GATEWAY = "gateway"


_WAKE_WORD_STATES: Final = frozenset({"wake_detected", "listening"})
_TRANSCRIPTS: Final = frozenset(
    {
        VoiceType.TRANSCRIPT,
        VoiceType.TRANSCRIPT_INTERIM,
        VoiceType.TRANSCRIPT_FINAL,
        VoiceType.TRANSCRIPT_REFINED,
    }
)


@dataclass(frozen=True, slots=True)
class Step:
    """One voice message of a conversation, without its timestamp.

    The timestamp (epoch ms) is added when the message goes out, by the clock
    of the service that sends it.
    """

    at: float  # seconds after the conversation starts
    message_type: protocol.VoiceType
    payload: dict[str, Any]

    @property
    def service(self) -> Service:
        """Return the service that publishes this message."""
        if self.message_type in _TRANSCRIPTS or (
            self.message_type is VoiceType.STATE
            and self.payload.get("state") in _WAKE_WORD_STATES
        ):
            return Service.WAKE_WORD
        return Service.GATEWAY


def step_timestamp(step: Step, now_ms: int, clock_skew: float) -> int:
    """Return a step's timestamp, by the clock of the service that sends it.

    now_ms is the gateway's clock (the machine's); the wake-word service's is
    clock_skew seconds ahead of it, or behind when negative.
    """
    if step.service is Service.WAKE_WORD:
        return now_ms + round(clock_skew * 1000)
    return now_ms


@dataclass(frozen=True, slots=True)
class ConversationPlan:
    """A whole conversation in one room, ready to be played."""

    room_id: str
    session_id: str
    intent: Intent
    streamed: bool
    steps: tuple[Step, ...]

    @property
    def duration(self) -> float:
        """Return the seconds from the first message to the last."""
        return self.steps[-1].at


def new_session_id(rng: Random) -> str:
    """Return a UUID-like session id drawn from rng (reproducible with a seed)."""
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def plan_conversation(
    rng: Random,
    room_id: str,
    *,
    streamed: bool | None = None,
    chunks: int | None = None,
    interim_rate: float = 12.0,
    chunk_rate: float = 25.0,
    pause: float = 0.3,
) -> ConversationPlan:
    """Return the messages of one conversation, in protocol.md section 1 order.

    Args:
        rng: decides the request, the optional steps and the outcomes.
        room_id: the room the conversation happens in.
        streamed: a streamed answer (start, chunks, complete) or a single
            response; None lets rng choose.
        chunks: how many chunks a streamed answer has (the answer's words are
            repeated as needed); None sends each word of the answer once.
        interim_rate: interim transcripts per second while the user speaks.
        chunk_rate: chunks per second while the answer streams.
        pause: the gap between the other steps; the backend "thinks" for twice
            as long before its display action.
    """
    protocol.validate_identifier(room_id)
    if chunks is not None and chunks < 0:
        raise ValueError("chunks must be 0 or more")
    intent = rng.choice(INTENTS)
    session_id = new_session_id(rng)
    if streamed is None:
        streamed = rng.random() < 0.7
    refined = rng.random() < 0.3
    success = rng.random() < 0.9
    keep_open = rng.choice((None, True, False))  # None: no overlay hint
    confidence = round(rng.uniform(0.75, 0.99), 2)

    steps: list[Step] = []
    clock = 0.0

    def add(gap: float, message_type: protocol.VoiceType, **payload: Any) -> None:
        nonlocal clock
        clock += gap
        steps.append(Step(round(clock, 6), message_type, payload))

    add(0, VoiceType.STATE, state="wake_detected")
    add(pause, VoiceType.STATE, state="listening")
    words = intent.utterance.split()
    for count in range(1, len(words) + 1):
        add(
            1 / interim_rate,
            VoiceType.TRANSCRIPT_INTERIM,
            text=" ".join(words[:count]),
            sequence=count,
        )
    add(
        1 / interim_rate,
        VoiceType.TRANSCRIPT_FINAL,
        text=intent.utterance,
        confidence=confidence,
    )
    if refined:
        add(pause, VoiceType.TRANSCRIPT_REFINED, text=intent.refined)
    add(pause, VoiceType.STATE, state="processing")
    add(
        2 * pause,
        VoiceType.DISPLAY_ACTION,
        type=intent.action,
        data={"room": room_id, **intent.data},
    )
    add(pause, VoiceType.TOOL_EXECUTED, tool_name=intent.tool, success=success)
    add(pause, VoiceType.STATE, state="responding")
    answer = intent.answer if success else FAILURE_ANSWER
    if streamed:
        add(pause, VoiceType.STREAM_START)
        answer_words = answer.split()
        count = len(answer_words) if chunks is None else chunks
        for word in islice(cycle(answer_words), count):
            # Each chunk carries its leading space, as token streams do.
            add(1 / chunk_rate, VoiceType.STREAM_CHUNK, chunk=f" {word}")
        add(1 / chunk_rate, VoiceType.STREAM_COMPLETE)
    else:
        add(pause, VoiceType.RESPONSE, text=answer)
    if keep_open is not None:
        add(pause, VoiceType.OVERLAY_HINT, keep_open=keep_open)
    add(pause, VoiceType.STATE, state="idle")
    return ConversationPlan(room_id, session_id, intent, streamed, tuple(steps))


def voice_schemes(
    scheme: protocol.TopicScheme, also_legacy: bool
) -> tuple[protocol.TopicScheme, ...]:
    """Return the layouts every voice message goes out on, in publishing order.

    Migration mode sends on the configured version first, then on v0; a scheme
    that is v0 already has nothing to add.
    """
    if also_legacy and not scheme.is_legacy:
        return (scheme, scheme.legacy())
    return (scheme,)


def step_messages(
    schemes: Sequence[protocol.TopicScheme],
    plan: ConversationPlan,
    step: Step,
    timestamp_ms: int,
) -> list[tuple[str, dict[str, Any]]]:
    """Return the (topic, payload) pairs one step publishes, stamped."""
    payload = {**step.payload, "timestamp": timestamp_ms}
    return [
        (scheme.voice_topic(plan.room_id, plan.session_id, step.message_type), payload)
        for scheme in schemes
    ]
