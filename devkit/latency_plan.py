"""The load of scripts/benchmark --real-broker: what is sent, when, and on which topic.

Pure Python: the schedule is a list computed before the run, so its rates can
be checked without a broker, and the publisher only has to keep time. Both
subscribers get the same schedule: every device status change is sent to
voice_mqtt (`devices/<id>/status`) and to the hand-made MQTT sensor
(`handmade/<id>/status`) at the same moment, and the heartbeats are shared
out equally between the two. Entities knows which entity each change is for.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import IntEnum
import json
from typing import Any, Final

from simulator.wire import protocol

SCHEME: Final = protocol.TopicScheme()
HANDMADE_PREFIX: Final = "handmade"
DEVICE_TYPE: Final = "voice_box"
# A device status flips between these; it starts at the first.
DEVICE_VALUES: Final = ("idle", "playing")
# A room goes through a conversation like the simulator's, a new session
# for each; it starts idle in session s0.
ROOM_CYCLE: Final = ("wake_detected", "listening", "processing", "responding", "idle")


class Kind(IntEnum):
    """What a planned message is; the order breaks ties at the same moment."""

    VOICE_STATUS = 0  # devices/<id>/status, retained: a change
    HANDMADE_STATUS = 1  # handmade/<id>/status, retained: the same change
    ROOM_STATE = 2  # v1/voice_assistant/room/<room>/session/<s>/state: a change
    VOICE_BEAT = 3  # devices/<id>/heartbeat: changes nothing
    HANDMADE_BEAT = 4  # the unchanged status again, as a hand-made device would

    @property
    def changes_state(self) -> bool:
        """Tell whether the message is meant to fire a state_changed event."""
        return self <= Kind.ROOM_STATE


@dataclass(frozen=True, slots=True)
class LoadPlan:
    """How much is sent: rates are per second over the whole fleet."""

    devices: int = 200
    rooms: int = 5
    rate: float = 1_000.0  # every message
    seconds: float = 60.0
    status_rate: float = 40.0  # device status changes, each sent to both
    room_rate: float = 5.0  # room state changes

    @property
    def heartbeat_rate(self) -> float:
        """Return what the rate leaves for heartbeats, half to each subscriber."""
        return self.rate - 2 * self.status_rate - self.room_rate

    def check(self) -> None:
        """Raise ValueError for a plan that cannot be sent."""
        if self.devices < 1 or self.rooms < 0:
            raise ValueError("at least one device, and no fewer than 0 rooms")
        if self.rooms == 0 and self.room_rate > 0:
            raise ValueError("room state changes need at least one room")
        if (
            min(self.rate, self.seconds) <= 0
            or min(self.status_rate, self.room_rate) < 0
        ):
            raise ValueError("rates and seconds must be positive")
        if self.heartbeat_rate < 0:
            raise ValueError("the state changes alone exceed the rate")

    def recurrence(self) -> float:
        """Return the shortest time before an entity is sent the same value again.

        A change is matched to its event by entity and value, so a send that
        got no event within less than this can be told from the next one.
        """
        spans = []
        if self.status_rate > 0:
            spans.append(len(DEVICE_VALUES) * self.devices / self.status_rate)
        if self.room_rate > 0:
            spans.append(len(ROOM_CYCLE) * self.rooms / self.room_rate)
        return min(spans, default=float("inf"))


@dataclass(frozen=True, slots=True)
class Planned:
    """One message of the schedule."""

    at: float  # seconds after the start of the load
    kind: Kind
    target: int  # the device's or the room's index
    value: str  # the status or state it carries
    seq: int = -1  # numbers the state changes; -1 for heartbeats
    session: str = ""  # a room's session


def device_id(index: int) -> str:
    """Return the id of device index."""
    return f"LAT_{index:04}"


def room_id(index: int) -> str:
    """Return the id of room index."""
    return f"lat_room_{index}"


def _ticks(rate: float, seconds: float) -> Iterator[tuple[int, float]]:
    """Yield (count, moment) of a stream spread evenly over the seconds."""
    if rate <= 0:
        return
    count = 0
    while (at := (count + 0.5) / rate) < seconds:
        yield count, at
        count += 1


def _skeleton(plan: LoadPlan) -> list[Planned]:
    """Return every message in time order, heartbeats without their value."""
    planned: list[Planned] = []
    for count, at in _ticks(plan.status_rate, plan.seconds):
        value = DEVICE_VALUES[(count // plan.devices + 1) % len(DEVICE_VALUES)]
        pair = [Kind.VOICE_STATUS, Kind.HANDMADE_STATUS]
        # Alternate which goes first: the second waits behind the first in
        # Home Assistant, and neither subscriber should always be second.
        planned.extend(
            Planned(at, kind, count % plan.devices, value)
            for kind in (pair if count % 2 == 0 else pair[::-1])
        )
    for count, at in _ticks(plan.room_rate, plan.seconds):
        step = count // plan.rooms
        planned.append(
            Planned(
                at,
                Kind.ROOM_STATE,
                count % plan.rooms,
                ROOM_CYCLE[step % len(ROOM_CYCLE)],
                session=f"s{step // len(ROOM_CYCLE) + 1}",
            )
        )
    half = plan.heartbeat_rate / 2
    for kind in (Kind.VOICE_BEAT, Kind.HANDMADE_BEAT):
        planned.extend(
            Planned(at, kind, count % plan.devices, "")
            for count, at in _ticks(half, plan.seconds)
        )
    planned.sort(key=lambda message: message.at)  # stable: pairs stay in order
    return planned


def schedule(plan: LoadPlan) -> list[Planned]:
    """Return the whole load in time order, state changes numbered.

    A heartbeat carries the status its device has at that moment, so that it
    changes nothing for either subscriber.
    """
    status = [DEVICE_VALUES[0]] * plan.devices
    planned: list[Planned] = []
    seq = 0
    for message in _skeleton(plan):
        if message.kind.changes_state:
            if message.kind is Kind.VOICE_STATUS:
                status[message.target] = message.value
            planned.append(
                Planned(
                    message.at,
                    message.kind,
                    message.target,
                    message.value,
                    seq,
                    message.session,
                )
            )
            seq += 1
        else:
            planned.append(
                Planned(
                    message.at, message.kind, message.target, status[message.target]
                )
            )
    return planned


def _iso(moment: float) -> str:
    """Return a moment as the devices' ISO 8601 timestamp."""
    stamp = datetime.fromtimestamp(moment, UTC).isoformat(timespec="milliseconds")
    return stamp.replace("+00:00", "Z")


def render(message: Planned, sent: float) -> tuple[str, bytes, bool]:
    """Return the topic, payload and retain flag of a message sent at sent.

    State changes carry their seq and send time as extra fields, which
    neither subscriber reads: they are there to tell messages apart on the wire.
    """
    payload: dict[str, Any]
    match message.kind:
        case Kind.VOICE_STATUS | Kind.VOICE_BEAT:
            payload = {
                "deviceId": device_id(message.target),
                "type": DEVICE_TYPE,
                "status": message.value,
                "timestamp": _iso(sent),
            }
            kind = (
                protocol.DeviceTopicType.STATUS
                if message.kind is Kind.VOICE_STATUS
                else protocol.DeviceTopicType.HEARTBEAT
            )
            topic = SCHEME.device_topic(device_id(message.target), kind)
        case Kind.HANDMADE_STATUS | Kind.HANDMADE_BEAT:
            payload = {"status": message.value}
            topic = handmade_topic(message.target)
        case Kind.ROOM_STATE:
            payload = {"state": message.value, "timestamp": round(sent * 1000)}
            topic = SCHEME.voice_topic(
                room_id(message.target), message.session, protocol.VoiceType.STATE
            )
    if message.kind.changes_state:
        payload |= {"seq": message.seq, "sent": sent}
    retain = message.kind in (Kind.VOICE_STATUS, Kind.HANDMADE_STATUS)
    return topic, json.dumps(payload, separators=(",", ":")).encode(), retain


def handmade_topic(index: int) -> str:
    """Return the state topic of the hand-made sensor of device index."""
    return f"{HANDMADE_PREFIX}/{device_id(index)}/status"


def handmade_discovery(index: int, qos: int = 0) -> tuple[str, bytes]:
    """Return the retained MQTT discovery config of a hand-made sensor.

    What a user writes by hand for each device: one sensor on its status,
    unavailable after 45 s of silence as voice_mqtt's devices are; at QoS 0,
    MQTT's default, unless asked.
    """
    ident = f"hm_{device_id(index)}"
    config = {
        "name": "Status",
        "unique_id": f"{ident}_status",
        "state_topic": handmade_topic(index),
        "value_template": "{{ value_json.status }}",
        "expire_after": 45,
        "device": {"identifiers": [ident], "name": f"Handmade {device_id(index)}"},
    }
    if qos:
        config["qos"] = qos
    return f"homeassistant/sensor/{ident}/status/config", json.dumps(config).encode()


def initial_messages(
    plan: LoadPlan, sent: float, handmade_qos: int = 0
) -> Iterator[tuple[str, bytes, bool]]:
    """Yield what makes every entity exist before the load, in its first state."""
    for index in range(plan.devices):
        topic, payload = handmade_discovery(index, handmade_qos)
        yield topic, payload, True
        first = Planned(0.0, Kind.VOICE_STATUS, index, DEVICE_VALUES[0])
        yield render(first, sent)
        yield render(Planned(0.0, Kind.HANDMADE_STATUS, index, DEVICE_VALUES[0]), sent)
    for index in range(plan.rooms):
        yield render(
            Planned(0.0, Kind.ROOM_STATE, index, ROOM_CYCLE[-1], session="s0"), sent
        )


@dataclass
class Entities:
    """The entity each state change is meant for, found in the registry."""

    status: dict[int, str] = field(default_factory=dict)  # device index to id
    handmade: dict[int, str] = field(default_factory=dict)
    rooms: dict[int, str] = field(default_factory=dict)
    missing: int = 0
    group: dict[str, str] = field(default_factory=dict)  # entity id to group

    @classmethod
    def find(
        cls, registry: Iterable[Mapping[str, Any]], entry_id: str, plan: LoadPlan
    ) -> Entities:
        """Look the entities up by their unique ids."""
        by_unique = {
            (entry.get("platform"), entry.get("unique_id")): str(entry["entity_id"])
            for entry in registry
        }
        found = cls()
        for index in range(plan.devices):
            device = device_id(index)
            status = f"{entry_id}_device_{device}_device_status"
            found.add("status", index, by_unique.get(("voice_mqtt", status)))
            handmade = f"hm_{device}_status"
            found.add("handmade", index, by_unique.get(("mqtt", handmade)))
        for index in range(plan.rooms):
            room = f"{entry_id}_room_{room_id(index)}_assistant_state"
            found.add("room", index, by_unique.get(("voice_mqtt", room)))
        return found

    def add(self, group: str, index: int, entity: str | None) -> None:
        """Note the entity of a device or room in group; None when not there."""
        if entity is None:
            self.missing += 1
            return
        {"status": self.status, "handmade": self.handmade, "room": self.rooms}[group][
            index
        ] = entity
        self.group[entity] = group

    def watched(self, entity_id: str) -> bool:
        """Tell whether an entity is one whose changes are measured."""
        return entity_id in self.group

    def entity_of(self, message: Planned) -> str:
        """Return the entity a state-changing message is meant to change."""
        match message.kind:
            case Kind.VOICE_STATUS:
                return self.status[message.target]
            case Kind.HANDMADE_STATUS:
                return self.handmade[message.target]
            case _:
                return self.rooms[message.target]

    def all_initial(self, states: Iterable[Mapping[str, Any]]) -> bool:
        """Tell whether every watched entity shows its first state."""
        first = {"status": DEVICE_VALUES[0], "handmade": DEVICE_VALUES[0]}
        first["room"] = ROOM_CYCLE[-1]
        shown = {
            state["entity_id"]: state["state"]
            for state in states
            if state["entity_id"] in self.group
        }
        return all(
            shown.get(entity) == first[group] for entity, group in self.group.items()
        )
