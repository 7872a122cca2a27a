"""The fleet simulator: what it would publish, its options, and one real broker run."""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from itertools import pairwise
import json
from pathlib import Path
from random import Random
import re
import threading
import time
from typing import Any

import paho.mqtt.client as paho
import pytest
import pytest_socket

from devkit.broker import Broker, find_mosquitto
from simulator import (
    BrokerAddress,
    DeviceState,
    Kind,
    OptionError,
    Received,
    Simulator,
    SimulatorOptions,
)
from simulator.answers import answer_payload
from simulator.backend import Backend
from simulator.cli import parse_args
from simulator.runtime import Console, Inbox, Timers
from simulator.script import (
    DEFAULT_XIAOZHI_MAC,
    FAILURE_ANSWER,
    ConversationPlan,
    Service,
    Step,
    announce_payload,
    apply_command,
    event_payload,
    heartbeat_payload,
    plan_conversation,
    plan_fleet,
    room_ids,
    status_payload,
    step_messages,
    step_timestamp,
    voice_schemes,
    will_payload,
)
from simulator.wire import command_filter, protocol

V1 = protocol.TopicScheme()
V0 = protocol.TopicScheme(version="")
ISO = "2025-01-02T03:04:05.678Z"

# A conversation in protocol.md section 1 order, one token per message.
CONVERSATION = re.compile(
    r"state:wake_detected state:listening( interim)+ final( refined)?"
    r" state:processing display_action tool_executed state:responding"
    r"( response| start( chunk)* complete)( overlay)? state:idle"
)
TOKENS = {
    protocol.VoiceType.TRANSCRIPT_INTERIM: "interim",
    protocol.VoiceType.TRANSCRIPT_FINAL: "final",
    protocol.VoiceType.TRANSCRIPT_REFINED: "refined",
    protocol.VoiceType.DISPLAY_ACTION: "display_action",
    protocol.VoiceType.TOOL_EXECUTED: "tool_executed",
    protocol.VoiceType.RESPONSE: "response",
    protocol.VoiceType.STREAM_START: "start",
    protocol.VoiceType.STREAM_CHUNK: "chunk",
    protocol.VoiceType.STREAM_COMPLETE: "complete",
    protocol.VoiceType.OVERLAY_HINT: "overlay",
}


def rng(seed: int) -> Random:
    """Return a seeded generator: the simulator's choices, reproducible."""
    return Random(seed)  # noqa: S311 - not for security


def token(message_type: protocol.VoiceType, payload: dict[str, Any]) -> str:
    if message_type is protocol.VoiceType.STATE:
        return f"state:{payload['state']}"
    return TOKENS[message_type]


def shape(messages: list[tuple[protocol.VoiceType, dict[str, Any]]]) -> str:
    return " ".join(token(message_type, payload) for message_type, payload in messages)


# The order of a conversation's steps: what breaks a tie between messages
# stamped in the same millisecond (a loaded timer thread catches up at once).
STEP_ORDER = [
    "state:wake_detected",
    "state:listening",
    "interim",
    "final",
    "refined",
    "state:processing",
    "display_action",
    "tool_executed",
    "state:responding",
    "response",
    "start",
    "chunk",
    "complete",
    "overlay",
    "state:idle",
]


def in_publish_order(
    messages: list[tuple[protocol.VoiceType, dict[str, Any]]],
) -> list[tuple[protocol.VoiceType, dict[str, Any]]]:
    """Sort heard messages as published; a stable sort keeps each topic's order."""
    return sorted(
        messages,
        key=lambda m: (m[1]["timestamp"], STEP_ORDER.index(token(*m))),
    )


def published(
    plan: ConversationPlan, schemes: tuple[protocol.TopicScheme, ...]
) -> list[tuple[str, dict[str, Any]]]:
    return [
        message
        for index, step in enumerate(plan.steps)
        for message in step_messages(schemes, plan, step, 1_700_000_000_000 + index)
    ]


# Conversations -----------------------------------------------------------------


@pytest.mark.parametrize("streamed", [True, False, None])
def test_conversations_follow_the_protocol_order(streamed: bool | None) -> None:
    for seed in range(60):
        plan = plan_conversation(rng(seed), "kitchen", streamed=streamed)
        steps = [(step.message_type, step.payload) for step in plan.steps]
        assert CONVERSATION.fullmatch(shape(steps)), (seed, shape(steps))
        if streamed is not None:
            assert plan.streamed is streamed
        times = [step.at for step in plan.steps]
        assert times == sorted(times)
        assert times[0] == 0
        assert plan.duration == times[-1]
        for topic, payload in published(plan, (V1,)):
            # What the integration's own parser makes of every message.
            message = protocol.parse_voice_message(V1, topic, protocol.encode(payload))
            assert message is not None
            assert (message.room_id, message.session_id) == ("kitchen", plan.session_id)
            assert isinstance(payload["timestamp"], int)


def test_one_conversation_in_detail() -> None:
    plan = plan_conversation(
        rng(4), "salon", streamed=True, chunks=5, interim_rate=10, chunk_rate=20
    )
    by_type: dict[protocol.VoiceType, list[dict[str, Any]]] = {}
    for step in plan.steps:
        by_type.setdefault(step.message_type, []).append(step.payload)
    interims = by_type[protocol.VoiceType.TRANSCRIPT_INTERIM]
    sequences = [interim["sequence"] for interim in interims]
    assert sequences == list(range(1, len(interims) + 1))
    final = by_type[protocol.VoiceType.TRANSCRIPT_FINAL][0]
    assert interims[-1]["text"] == final["text"] == plan.intent.utterance
    assert 0.75 <= final["confidence"] <= 0.99
    (action,) = by_type[protocol.VoiceType.DISPLAY_ACTION]
    assert action["type"] == plan.intent.action
    assert action["data"]["room"] == "salon"
    (tool,) = by_type[protocol.VoiceType.TOOL_EXECUTED]
    assert tool["tool_name"] == plan.intent.tool
    assert isinstance(tool["success"], bool)
    chunks = [payload["chunk"] for payload in by_type[protocol.VoiceType.STREAM_CHUNK]]
    assert len(chunks) == 5
    assert all(re.fullmatch(r" \S+", chunk) for chunk in chunks)
    assert by_type[protocol.VoiceType.STREAM_START] == [{}]
    assert by_type[protocol.VoiceType.STREAM_COMPLETE] == [{}]
    assert protocol.VoiceType.RESPONSE not in by_type
    # Rates: interims 1/10 s apart, chunks 1/20 s apart.
    for message_type, gap in (
        (protocol.VoiceType.TRANSCRIPT_INTERIM, 0.1),
        (protocol.VoiceType.STREAM_CHUNK, 0.05),
    ):
        times = [step.at for step in plan.steps if step.message_type is message_type]
        assert {round(b - a, 6) for a, b in pairwise(times)} == {gap}


def test_a_streamed_answer_is_its_words_with_leading_spaces() -> None:
    plan = plan_conversation(rng(1), "kitchen", streamed=True)
    answer = "".join(
        step.payload["chunk"]
        for step in plan.steps
        if step.message_type is protocol.VoiceType.STREAM_CHUNK
    )
    success = next(
        step.payload["success"]
        for step in plan.steps
        if step.message_type is protocol.VoiceType.TOOL_EXECUTED
    )
    assert answer.strip() == (plan.intent.answer if success else FAILURE_ANSWER)
    empty = plan_conversation(rng(1), "kitchen", streamed=True, chunks=0)
    types = [step.message_type for step in empty.steps]
    assert protocol.VoiceType.STREAM_START in types
    assert protocol.VoiceType.STREAM_CHUNK not in types
    with pytest.raises(ValueError, match="chunks"):
        plan_conversation(rng(1), "kitchen", chunks=-1)
    with pytest.raises(protocol.IdentifierError):
        plan_conversation(rng(1), "a/b")


def test_a_seed_makes_conversations_reproducible() -> None:
    first = plan_conversation(rng(9), "office")
    assert first == plan_conversation(rng(9), "office")
    assert first.session_id != plan_conversation(rng(10), "office").session_id
    assert re.fullmatch(
        r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}",
        first.session_id,
    )


# What the wake-word service sends; the gateway sends the rest.
WAKE_WORD_TOKENS = {
    "state:wake_detected",
    "state:listening",
    "interim",
    "final",
    "refined",
}


@pytest.mark.parametrize("skew", [1.5, -1.0, -3600.0, 0.0])
def test_the_wake_word_service_stamps_by_its_own_clock(skew: float) -> None:
    now = 1_700_000_000_000
    for seed in range(20):
        plan = plan_conversation(rng(seed), "kitchen")
        for step in plan.steps:
            wake_word = token(step.message_type, step.payload) in WAKE_WORD_TOKENS
            assert step.service is (Service.WAKE_WORD if wake_word else Service.GATEWAY)
            assert step_timestamp(step, now, skew) == (
                now + round(skew * 1000) if wake_word else now
            )
    # The legacy single transcript is the wake-word service's too.
    legacy = Step(0, protocol.VoiceType.TRANSCRIPT, {"text": "hi"})
    assert legacy.service is Service.WAKE_WORD
    idle = Step(0, protocol.VoiceType.STATE, {"state": "idle"})
    assert idle.service is Service.GATEWAY


def test_topics_of_v1_v0_and_migration_mode() -> None:
    plan = plan_conversation(rng(2), "kitchen", streamed=False)
    session = plan.session_id
    assert voice_schemes(V1, also_legacy=False) == (V1,)
    assert voice_schemes(V0, also_legacy=False) == (V0,)
    assert voice_schemes(V0, also_legacy=True) == (V0,)
    both = voice_schemes(V1, also_legacy=True)
    assert both == (V1, V0)

    v1 = published(plan, (V1,))
    v0 = published(plan, (V0,))
    assert v1[0] == (
        f"v1/voice_assistant/room/kitchen/session/{session}/state",
        {"state": "wake_detected", "timestamp": 1_700_000_000_000},
    )
    assert v0[0][0] == f"voice_assistant/room/kitchen/session/{session}/state"
    assert [payload for _, payload in v1] == [payload for _, payload in v0]
    # Migration mode: each message on v1, then the same payload on v0.
    assert published(plan, both) == [
        message for pair in zip(v1, v0, strict=True) for message in pair
    ]
    for topic, payload in v0:
        assert protocol.parse_voice_message(V0, topic, json.dumps(payload))


# Devices --------------------------------------------------------------------------


def test_the_fleet_takes_turns_of_types_and_names_after_rooms() -> None:
    specs = plan_fleet(5, ["cc:ba:97:11:0e:84"])
    assert [(s.device_id, s.device_type, s.name, s.mac) for s in specs] == [
        (
            "cc:ba:97:11:0e:84",
            "voice_box",
            "Living room voice box",
            "cc:ba:97:11:0e:84",
        ),
        ("VR_0001", "vr", "Kitchen VR headset", None),
        ("BR_0001", "browser", "Bedroom browser", None),
        ("VB_0002", "voice_box", "Office voice box", None),
        ("VR_0002", "vr", "Bathroom VR headset", None),
    ]
    assert len({spec.name for spec in plan_fleet(30)}) == 30
    with pytest.raises(ValueError, match="voice boxes"):
        plan_fleet(3, ["cc:ba:97:11:0e:84", "cc:ba:97:11:0e:85"])
    assert room_ids(10)[:2] == ["living_room", "kitchen"]
    assert room_ids(10)[-1] == "room_10"


def test_device_payloads_parse_as_the_integration_expects() -> None:
    (spec,) = plan_fleet(1)
    state = DeviceState("playing", 1500, "S_1")
    cases = [
        (protocol.DeviceTopicType.ANNOUNCE, announce_payload(spec, ISO)),
        (protocol.DeviceTopicType.STATUS, status_payload(spec, state, ISO)),
        (protocol.DeviceTopicType.HEARTBEAT, heartbeat_payload(spec, "idle", ISO)),
        (protocol.DeviceTopicType.LWT, will_payload(spec, ISO)),
        (protocol.DeviceTopicType.EVENTS, event_payload(rng(0), spec, ISO)),
    ]
    parsed = [
        protocol.parse_device_message(
            V1, V1.device_topic(spec.device_id, topic_type), protocol.encode(payload)
        )
        for topic_type, payload in cases
    ]
    assert all(message and not message.id_mismatch for message in parsed)
    announce, status, heartbeat, will, event = (m.payload for m in parsed if m)
    assert announce == protocol.Announce(
        "VB_0001", "voice_box", "Living room voice box", announce.timestamp
    )
    assert announce.timestamp
    assert announce.timestamp.isoformat() == "2025-01-02T03:04:05.678000+00:00"
    assert cases[1][1] == {
        "deviceId": "VB_0001",
        "type": "voice_box",
        "status": "playing",
        "positionMs": 1500,
        "sessionId": "S_1",
        "timestamp": ISO,
    }
    assert isinstance(status, protocol.DeviceStatus)
    assert isinstance(heartbeat, protocol.Heartbeat)
    assert heartbeat.status == "idle"
    assert will == protocol.LastWill(False, "VB_0001", will.timestamp)
    assert isinstance(event, protocol.DeviceEvent)
    assert "type" in event.data


def test_commands_change_the_device_state() -> None:
    idle = DeviceState()
    playing = apply_command(idle, "play", {"positionMs": 3000})
    assert playing == DeviceState("playing", 3000, "")
    assert apply_command(playing, "pause", {}) == DeviceState("paused", 3000, "")
    assert apply_command(playing, "play", {}) == playing
    assert apply_command(playing, "stop", {}) == idle
    joined = apply_command(idle, "join", {"sessionId": "S_1"})
    assert joined == DeviceState(session_id="S_1")
    assert apply_command(joined, "leave", {}) == idle
    assert apply_command(joined, "reboot", {"now": True}) == joined
    for bad in (-1, 1.5, True, "10"):
        with pytest.raises(ValueError, match="positionMs"):
            apply_command(idle, "play", {"positionMs": bad})
    for bad_session in (None, "", "a/b", "#"):
        with pytest.raises(ValueError, match="sessionId"):
            apply_command(idle, "join", {"sessionId": bad_session})


def test_a_playing_device_moves_on_by_itself_and_reports_it_on_a_change() -> None:
    film = 90 * 60 * 1000
    playing = apply_command(
        DeviceState(), "play", {"positionMs": 1_000}, now=100.0, duration_ms=film
    )
    assert playing.position_at(100.0) == 1_000
    assert playing.position_at(112.5) == 13_500, "no status needed to move on"
    # Paused without a position: where it had got to; a paused one stays.
    paused = apply_command(playing, "pause", {}, now=130.0, duration_ms=film)
    assert (paused.status, paused.position_ms) == ("paused", 31_000)
    assert paused.position_at(500.0) == 31_000
    assert apply_command(paused, "pause", {}, now=600.0) == paused, "no change"
    # Play again from there; a seek while playing plays on from the new place.
    again = apply_command(paused, "play", {}, now=700.0, duration_ms=film)
    assert again.position_at(710.0) == 41_000
    sought = apply_command(again, "play", {"positionMs": 5}, now=720.0)
    assert sought.position_at(721.0) == 1_005
    # A film ends: the position stays at its end.
    assert sought.position_at(10**6, film) == film
    assert apply_command(sought, "pause", {"positionMs": 10**10}, duration_ms=film) == (
        DeviceState("paused", film, "")
    )
    # Joining keeps playing; stopping goes back to the start.
    joined = apply_command(sought, "join", {"sessionId": "S_1"}, now=730.0)
    assert (joined.session_id, joined.position_at(730.0)) == ("S_1", 10_005)
    assert apply_command(joined, "stop", {}) == DeviceState("idle", 0, "S_1")


def test_a_headset_reports_media_always_a_voice_box_only_when_it_plays() -> None:
    box, headset, _browser = plan_fleet(3)
    playing = DeviceState("playing", 2_000, "S_1", since=10.0)
    assert status_payload(headset, playing, ISO, 12.0) == {
        "deviceId": "VR_0001",
        "type": "vr",
        "status": "playing",
        "positionMs": 4_000,
        "durationMs": 5_400_000,
        "sessionId": "S_1",
        "timestamp": ISO,
    }
    idle = status_payload(box, DeviceState(), ISO)
    assert "positionMs" not in idle, "a box that idles says nothing of media"
    assert "durationMs" not in idle
    assert status_payload(box, DeviceState("paused", 7), ISO)["positionMs"] == 7
    assert status_payload(headset, DeviceState(), ISO)["positionMs"] == 0
    # What the integration parses it into.
    parsed = protocol.parse_device_payload(
        protocol.DeviceTopicType.STATUS,
        protocol.encode(status_payload(headset, playing, ISO, 12.0)),
    )
    assert isinstance(parsed, protocol.DeviceStatus)
    assert (parsed.position_ms, parsed.duration_ms) == (4_000, 5_400_000)


def test_devices_answer_commands_that_carry_a_message_id() -> None:
    playing = DeviceState("playing", 3000, "S_1")
    assert answer_payload("play", {}, playing, uptime=5) is None
    assert answer_payload("get_status", {"messageId": 7}, playing, uptime=5) is None
    assert answer_payload("get_status", {"messageId": "a"}, playing, uptime=5) == {
        "messageId": "a",
        "status": "success",
        "result": {
            "status": "playing",
            "positionMs": 3000,
            "sessionId": "S_1",
            "uptime": 5,
            "firmware": "simulator-1.0.0",
        },
    }
    assert answer_payload("pause", {"messageId": "b"}, playing, uptime=5) == {
        "messageId": "b",
        "status": "success",
        "result": {"status": "playing"},
    }
    refused = answer_payload(
        "join", {"messageId": "c"}, playing, uptime=5, refusal="sessionId is empty"
    )
    assert refused == {
        "messageId": "c",
        "status": "error",
        "result": {"error": "sessionId is empty"},
    }
    unknown = answer_payload("reboot", {"messageId": "d"}, playing, uptime=5)
    assert unknown is not None
    assert unknown["result"] == {"error": "unknown command reboot"}


def test_command_filters_follow_the_scheme() -> None:
    scheme = protocol.TopicScheme(device_prefix="home/devices")
    assert (
        command_filter(scheme.device_command_topic("VB_0001", "any"))
        == "home/devices/VB_0001/commands/#"
    )
    assert (
        command_filter(V1.session_command_topic("S_1", "any"))
        == "sessions/S_1/commands/#"
    )


# Options and the command line ----------------------------------------------------------


def test_the_command_line_defaults_are_the_options_defaults() -> None:
    options, duration = parse_args([])
    assert options == SimulatorOptions().validated()
    assert duration == 0
    legacy, _ = parse_args(["--version", "", "--devices", "0", "--seed", "3"])
    assert legacy.scheme.is_legacy
    assert legacy.xiaozhi_macs == ()  # no voice box, so no default MAC
    assert legacy.seed == 3
    two_macs = ["--xiaozhi-mac", "CCBA97110E85", "--xiaozhi-mac", DEFAULT_XIAOZHI_MAC]
    macs, _ = parse_args(["--devices", "4", *two_macs])
    assert macs.xiaozhi_macs == ("cc:ba:97:11:0e:85", DEFAULT_XIAOZHI_MAC)
    websocket, _ = parse_args(["--transport", "websockets"])
    assert str(websocket.broker) == "ws://127.0.0.1:9001/mqtt"
    elsewhere, _ = parse_args(["--transport", "websockets", "--port", "8080"])
    assert (elsewhere.broker.port, elsewhere.broker.transport) == (8080, "websockets")
    assert str(parse_args(["--port", "1884"])[0].broker) == "127.0.0.1:1884"
    assert parse_args(["--clock-skew", "-1.5"])[0].clock_skew == -1.5
    assert options.clock_skew == 0


def test_devices_can_log_in_as_themselves() -> None:
    # As the backend logs in, the devices too, unless each has its own login.
    shared, _ = parse_args(["--username", "sim", "--password", "s1"])
    fleet = Simulator(shared).devices
    assert {shared.device_broker(spec) for spec in fleet} == {shared.broker}
    own, _ = parse_args(
        ["--username", "sim", "--password", "s1", "--device-password", "d"]
    )
    logins = [
        (login.username, login.password, login.port)
        for login in map(own.device_broker, Simulator(own).devices)
    ]
    # A mosquitto username cannot hold ":": the box's MAC loses its colons.
    assert logins == [
        ("ccba97110e84", "d", 1883),
        ("VR_0001", "d", 1883),
        ("BR_0001", "d", 1883),
    ]
    assert (own.broker.username, own.broker.password) == ("sim", "s1")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--base", "voice/+"], "argument --base: 'voice/+' cannot be a topic prefix"),
        (["--device-prefix", ""], "argument --device-prefix:"),
        (["--xiaozhi-prefix", "$SYS"], "argument --xiaozhi-prefix:"),
        (["--version", "v/1"], "argument --version:"),
        (["--version", "", "--also-legacy"], "argument --also-legacy:"),
        (["--xiaozhi-mac", "nope"], "argument --xiaozhi-mac: not a MAC"),
        (
            [
                "--devices",
                "1",
                "--xiaozhi-mac",
                "ccba97110e85",
                "--xiaozhi-mac",
                "ccba97110e86",
            ],
            "argument --xiaozhi-mac: 2 MACs need 2 voice boxes, but --devices 1 makes 1",
        ),
        (
            ["--xiaozhi-mac", "CCBA97110E85", "--xiaozhi-mac", "cc:ba:97:11:0e:85"],
            "twice",
        ),
        (["--devices", "-1"], "argument --devices: must be 0 or more"),
        (["--chunk-rate", "0"], "argument --chunk-rate: must be more than 0"),
        (["--drop-interval", "-5"], "argument --drop-interval:"),
        (["--port", "0"], "argument --port:"),
        (["--duration", "-1"], "argument --duration:"),
        (["--rooms", "two"], "argument --rooms: invalid int value"),
        (["--clock-skew", "nan"], "argument --clock-skew: must be between"),
        (["--clock-skew", "-90000"], "argument --clock-skew: must be between"),
    ],
)
def test_bad_command_lines_are_refused(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        parse_args(argv)
    assert exited.value.code == 2
    assert message in capsys.readouterr().err


def test_bad_options_are_refused_without_a_command_line() -> None:
    with pytest.raises(OptionError) as refused:
        Simulator(SimulatorOptions(scheme=protocol.TopicScheme(base="a/#")))
    assert refused.value.option == "base"
    with pytest.raises(OptionError, match="xiaozhi-mac"):
        SimulatorOptions(devices=0).validated()


# Run-time parts ----------------------------------------------------------------------


def test_timers_run_in_time_order_and_stop_at_once() -> None:
    timers = Timers()
    ran: list[str] = []
    done = threading.Event()
    timers.start()
    try:
        timers.call_later(0.02, lambda: ran.append("b"))
        timers.call_later(0.01, lambda: ran.append("a"))
        timers.call_later(0.03, done.set)
        timers.call_later(3600, lambda: ran.append("never"))
        assert done.wait(30)
    finally:
        started = time.monotonic()
        timers.stop()
    assert ran == ["a", "b"]
    assert time.monotonic() - started < 30  # not the hour-long timer
    assert not timers.running


def test_a_conversation_can_take_its_own_pace() -> None:
    timers = Timers()
    backend = Backend(
        SimulatorOptions(phase_pause=0.3),
        Console(quiet=True),
        Inbox(),
        timers,
        Random(1),  # noqa: S311 - not for security
    )
    timers.start()
    try:
        usual = backend.begin("living_room")
        slow = backend.begin("kitchen", pause=2.0)
    finally:
        backend.disconnect()
        timers.stop()
    # wake_detected, then listening one pause later.
    assert [step.at for step in usual.plan.steps[:2]] == [0, 0.3]
    assert [step.at for step in slow.plan.steps[:2]] == [0, 2.0]


def test_the_inbox_waits_for_a_match() -> None:
    inbox = Inbox()
    first = Received(Kind.COMMAND, "VB_0001", "devices/VB_0001/commands/play", {})
    inbox.add(first)
    later = Received(Kind.WS_START, "VB_0001", "xiaozhi/m/down", {"type": "ws_start"})
    threading.Timer(0.05, inbox.add, (later,)).start()
    assert inbox.wait_for(lambda item: item.kind is Kind.WS_START, 30) is later
    assert inbox.wait_for(lambda item: item.kind is Kind.COMMAND) is first
    assert inbox.items(Kind.WS_START) == [later]
    with pytest.raises(TimeoutError):
        inbox.wait_for(lambda item: item.kind is Kind.DISPLAY_ACTION, 0.05)


# Against a real broker ---------------------------------------------------------------


@dataclass
class Listener:
    """A separate MQTT client that records everything it receives."""

    port: int
    topic_filter: str = "#"
    messages: list[paho.MQTTMessage] = field(default_factory=list)
    changed: threading.Condition = field(default_factory=threading.Condition)

    def __post_init__(self) -> None:
        subscribed = threading.Event()
        self.client = paho.Client(paho.CallbackAPIVersion.VERSION2)
        self.client.on_message = self._on_message
        self.client.on_subscribe = lambda *_: subscribed.set()
        self.client.connect("127.0.0.1", self.port)
        self.client.subscribe(self.topic_filter, qos=1)
        self.client.loop_start()
        assert subscribed.wait(30)

    def _on_message(self, _c: object, _u: object, message: paho.MQTTMessage) -> None:
        with self.changed:
            self.messages.append(message)
            self.changed.notify_all()

    def wait_for(
        self,
        predicate: Callable[[paho.MQTTMessage], bool],
        timeout: float = 30,
        start: int = 0,
    ) -> paho.MQTTMessage:
        """Return the first message from index start on that matches."""
        with self.changed:
            found = self.changed.wait_for(
                lambda: next((m for m in self.messages[start:] if predicate(m)), None),
                timeout,
            )
        assert found is not None, [m.topic for m in self.messages]
        return found

    def wait_until(self, condition: Callable[[], bool], timeout: float = 30) -> None:
        """Wait until condition(), read under the lock, holds."""
        with self.changed:
            assert self.changed.wait_for(condition, timeout), [
                m.topic for m in self.messages
            ]

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def payload(message: paho.MQTTMessage) -> dict[str, Any]:
    return json.loads(message.payload) if message.payload else {}


@pytest.fixture
def broker(tmp_path: Path) -> Generator[Broker]:
    """A mosquitto on a free loopback port, reachable despite pytest-socket."""
    if find_mosquitto() is None:
        pytest.skip("mosquitto is not installed")
    pytest_socket.enable_socket()
    pytest_socket.socket_allow_hosts(["127.0.0.1"], allow_unix_socket=True)
    try:
        with Broker(tmp_path, kind="mosquitto") as running:
            yield running
    finally:
        pytest_socket.disable_socket(allow_unix_socket=True)


def test_a_simulation_on_mosquitto(broker: Broker) -> None:
    listener = Listener(broker.port)
    options = SimulatorOptions(
        broker=BrokerAddress(port=broker.port),
        devices=2,
        rooms=1,
        heartbeat=0.2,
        conversation_interval=0,
        event_interval=0,
        interim_rate=200,
        chunk_rate=200,
        phase_pause=0.01,
        seed=5,
        quiet=True,
    )
    simulator = Simulator(options)
    try:
        simulator.start()
        assert [spec.device_id for spec in simulator.devices] == [
            "cc:ba:97:11:0e:84",
            "VR_0001",
        ]
        for device_id in ("cc:ba:97:11:0e:84", "VR_0001"):
            announce = listener.wait_for(
                lambda m, d=device_id: (
                    m.topic == "devices/discovery/announce"
                    and payload(m)["deviceId"] == d
                )
            )
            assert not announce.retain
            listener.wait_for(
                lambda m, d=device_id: (
                    m.topic == f"devices/{d}/heartbeat"
                    and payload(m)["status"] == "idle"
                )
            )
        # A late subscriber gets each device's retained status from the broker.
        late = Listener(broker.port, "devices/+/status")
        try:
            for device_id in ("cc:ba:97:11:0e:84", "VR_0001"):
                status = late.wait_for(lambda m, d=device_id: d in m.topic)
                assert status.retain
                assert payload(status)["status"] == "idle"
                assert payload(status)["sessionId"] == ""
        finally:
            late.close()

        session = simulator.run_conversation("living_room", streamed=True, chunks=4)
        prefix = f"v1/voice_assistant/room/living_room/session/{session}/"

        def heard() -> list[tuple[protocol.VoiceType, dict[str, Any]]]:
            with listener.changed:
                return [
                    (protocol.VoiceType(m.topic.removeprefix(prefix)), payload(m))
                    for m in listener.messages
                    if m.topic.startswith(prefix)
                ]

        # The broker keeps order per topic only: wait for the last message of
        # each kind, then put the conversation in the order its timestamps say.
        listener.wait_until(
            lambda: (
                {"state:idle", "complete"} <= set(shape(heard()).split())
                and shape(heard()).count("chunk") == 4
            )
        )
        voice = in_publish_order(heard())
        assert CONVERSATION.fullmatch(shape(voice)), shape(voice)
        assert shape(voice).count("chunk") == 4
        # The backend's own display action is not reported as received.
        assert simulator.received(Kind.DISPLAY_ACTION) == []

        # What others send: a command, a ws_start, a display action.
        listener.client.publish(
            "devices/cc:ba:97:11:0e:84/commands/play", '{"positionMs": 500}', qos=1
        )
        listener.client.publish(
            f"xiaozhi/{DEFAULT_XIAOZHI_MAC}/down",
            '{"type": "ws_start", "wss": "wss://voice.example/ws", "version": 3}',
            qos=1,
        )
        listener.client.publish(
            "v1/voice_assistant/room/kitchen/session/S_9/display_action",
            '{"type": "weather", "data": {}}',
            qos=1,
        )
        command = simulator.wait_for(lambda r: r.kind is Kind.COMMAND, 30)
        assert (command.receiver, command.payload) == (
            "cc:ba:97:11:0e:84",
            {"positionMs": 500},
        )
        listener.wait_for(
            lambda m: (
                m.topic == "devices/cc:ba:97:11:0e:84/status"
                and payload(m)["status"] == "playing"
                and payload(m)["positionMs"] == 500
            )
        )
        # Commands that ask for an answer get one, with the same messageId.
        for command, message_id in (("get_status", "m-1"), ("reboot", "m-2")):
            listener.client.publish(
                f"devices/VR_0001/commands/{command}",
                json.dumps({"messageId": message_id}),
                qos=1,
            )
        answers = {
            message_id: payload(
                listener.wait_for(
                    lambda m, i=message_id: (
                        m.topic == "devices/VR_0001/response"
                        and payload(m)["messageId"] == i
                    )
                )
            )
            for message_id in ("m-1", "m-2")
        }
        assert answers["m-1"]["status"] == "success"
        assert answers["m-1"]["result"]["firmware"] == "simulator-1.0.0"
        assert answers["m-1"]["result"]["uptime"] >= 0
        assert answers["m-2"] == {
            "messageId": "m-2",
            "status": "error",
            "result": {"error": "unknown command reboot"},
        }
        ws_start = simulator.wait_for(lambda r: r.kind is Kind.WS_START, 30)
        assert ws_start.payload["wss"] == "wss://voice.example/ws"
        action = simulator.wait_for(lambda r: r.kind is Kind.DISPLAY_ACTION, 30)
        assert action.payload == {"type": "weather", "data": {}}

        # A dropped connection makes the broker publish the device's will.
        simulator.drop_device("VR_0001")
        will = listener.wait_for(
            lambda m: m.topic == "devices/VR_0001/lwt" and m.payload
        )
        assert payload(will)["deviceId"] == "VR_0001"
        assert payload(will)["status"] == "offline"
        assert protocol.parse_timestamp(payload(will)["timestamp"])
        assert not simulator.device_online("VR_0001")
        assert not simulator.send_heartbeat("VR_0001")

        # Back again: the stale will is cleared and the device announces itself.
        with listener.changed:
            count = len(listener.messages)
        simulator.reconnect_device("VR_0001")
        listener.wait_for(
            lambda m: m.topic == "devices/VR_0001/lwt" and not m.payload, start=count
        )
        listener.wait_for(
            lambda m: (
                m.topic == "devices/discovery/announce"
                and payload(m)["deviceId"] == "VR_0001"
            ),
            start=count,
        )
        assert simulator.device_online("VR_0001")
    finally:
        simulator.stop()
        listener.close()
    # A clean stop sends DISCONNECTs: the broker keeps no will. The marker comes
    # after every retained message of the late subscription.
    late = Listener(broker.port)
    try:
        late.client.publish("test/marker", b"1", qos=1)
        late.wait_for(lambda m: m.topic == "test/marker")
        kept = {m.topic: payload(m) for m in late.messages if m.retain}
    finally:
        late.close()
    assert not [topic for topic in kept if topic.endswith("/lwt")]
    assert kept["devices/cc:ba:97:11:0e:84/status"]["status"] == "playing"


def test_two_clocks_on_mosquitto(broker: Broker) -> None:
    listener = Listener(broker.port, "v1/voice_assistant/room/+/session/+/#")
    options = SimulatorOptions(
        broker=BrokerAddress(port=broker.port),
        devices=0,
        xiaozhi_macs=(),
        rooms=1,
        heartbeat=0,
        conversation_interval=0,
        event_interval=0,
        interim_rate=200,
        chunk_rate=200,
        phase_pause=0.01,
        clock_skew=-3600,
        quiet=True,
    )
    simulator = Simulator(options)
    try:
        simulator.start()
        session = simulator.run_conversation("living_room", streamed=False)
        prefix = f"v1/voice_assistant/room/living_room/session/{session}/"
        stamps: dict[str, int] = {}

        def note(message: paho.MQTTMessage) -> bool:
            if message.topic == f"{prefix}state":
                stamps[payload(message)["state"]] = payload(message)["timestamp"]
            elif message.topic == f"{prefix}transcript/final":
                stamps["final"] = payload(message)["timestamp"]
            return {"wake_detected", "final", "processing", "idle"} <= stamps.keys()

        listener.wait_for(note)
    finally:
        simulator.stop()
        listener.close()
    # The wake-word service's clock is an hour behind the gateway's, which
    # is the machine's: its stamps are an hour older than the gateway's.
    hour = 3_600_000
    for heard in ("wake_detected", "final"):
        assert hour - 1000 < stamps["processing"] - stamps[heard] < hour + 1000
    assert 0 <= stamps["idle"] - stamps["processing"] < 1000


def test_devices_come_back_after_their_broker_was_killed(broker: Broker) -> None:
    options = SimulatorOptions(
        broker=BrokerAddress(port=broker.port),
        devices=2,
        rooms=1,
        heartbeat=0,
        conversation_interval=0,
        event_interval=0,
        interim_rate=200,
        chunk_rate=200,
        phase_pause=0.01,
        quiet=True,
    )
    simulator = Simulator(options)
    listener: Listener | None = None
    try:
        simulator.start()
        broker.kill()  # a crash: no will is sent, nobody is told
        broker.start()
        listener = Listener(broker.port)
        # paho reconnects each device (within its 1 to 10 s back-off): the
        # device clears its will, announces itself and publishes its status
        # again, with a new will registered.
        for device_id in ("cc:ba:97:11:0e:84", "VR_0001"):
            listener.wait_for(
                lambda m, d=device_id: (
                    m.topic == "devices/discovery/announce"
                    and payload(m)["deviceId"] == d
                )
            )
            listener.wait_for(
                lambda m, d=device_id: m.topic == f"devices/{d}/status" and not m.retain
            )
        listener.wait_until(lambda: simulator.device_online("VR_0001"))
        simulator.drop_device("VR_0001")
        will = listener.wait_for(
            lambda m: m.topic == "devices/VR_0001/lwt" and bool(m.payload)
        )
        assert payload(will)["status"] == "offline"
        # The backend subscribed again: a display action from others arrives.
        listener.client.publish(
            "v1/voice_assistant/room/kitchen/session/S_1/display_action",
            '{"type": "weather"}',
            qos=1,
        )
        simulator.wait_for(lambda r: r.kind is Kind.DISPLAY_ACTION, 30)
    finally:
        simulator.stop()
        if listener is not None:
            listener.close()
