"""The arithmetic of scripts/benchmark --real-broker: what it sends, what it makes.

The load: a schedule computed before the run, so that its rates can be
checked without a broker and the publisher only has to keep time. Both
subscribers get the same schedule: every device status change is sent to
voice_mqtt (`devices/<id>/status`) and to the hand-made MQTT sensor
(`handmade/<id>/status`) at the same moment, and the heartbeats are shared
out equally between the two. Entities knows which entity each change is for.

The sums: sends are matched to the state_changed events they caused, per
entity; the latencies are summed up as percentiles, and the two subscribers'
p99s over the same changes compared with a bootstrap confidence interval,
which gives the verdict. The CPU of a process is read from /proc/<pid>/stat.

Nothing here talks to a broker or to Home Assistant: devkit.latency does.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import IntEnum
import json
import math
import os
from pathlib import Path
import random
from typing import Any, Final, Literal

from simulator.wire import protocol

# The load ----------------------------------------------------------------------

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


# The sums -------------------------------------------------------------------------

PERCENTILES = (50, 90, 99)


def percentile(values: Sequence[float], rank: float) -> float:
    """Return the nearest-rank percentile of sorted values (nan when empty).

    The smallest value that at least rank percent of the values do not exceed:
    p99 of 300 values is the 297th, a value that was measured.
    """
    if not values:
        return math.nan
    index = max(math.ceil(rank / 100 * len(values)) - 1, 0)
    return values[min(index, len(values) - 1)]


@dataclass(frozen=True, slots=True)
class Send:
    """A state-changing message as the publisher handed it over."""

    entity: str  # the entity it should change
    value: str  # the state it should show
    sent: float  # time.time() when handed to paho


@dataclass(frozen=True, slots=True)
class Seen:
    """A state_changed event as the websocket delivered it."""

    entity: str
    value: str
    fired: float  # the event's time_fired, as an epoch


@dataclass(frozen=True, slots=True)
class Outcome:
    """A send and the event it caused, if one came within the timeout."""

    send: Send
    seen: Seen | None

    @property
    def latency(self) -> float | None:
        """Return the seconds from the send to time_fired."""
        return None if self.seen is None else self.seen.fired - self.send.sent


@dataclass
class Matched:
    """Every send's outcome, and the events no send explains."""

    outcomes: list[Outcome] = field(default_factory=list)
    unexplained: int = 0  # e.g. a value no send carried, or one that came too late


def match(sends: Iterable[Send], events: Iterable[Seen], timeout: float) -> Matched:
    """Pair each send with the event it caused.

    Neither sensor shows the payload's extra fields, so a change is known by
    its entity and its value. Messages of one entity travel on one connection,
    in order, so the events of an entity come in the order of its sends: each
    event belongs to the earliest unmatched send of the same value that came
    before it and no longer than timeout before it. Sends passed over are
    lost (a lost flip also makes the next one change nothing). This is exact
    while the timeout is shorter than the time before an entity is sent the
    same value again (LoadPlan.recurrence).
    """
    by_entity: dict[str, list[Send]] = defaultdict(list)
    for send in sends:
        by_entity[send.entity].append(send)
    seen_by_entity: dict[str, list[Seen]] = defaultdict(list)
    for seen in events:
        seen_by_entity[seen.entity].append(seen)
    result = Matched()
    for entity, entity_sends in by_entity.items():
        entity_sends.sort(key=lambda send: send.sent)
        seen_list = sorted(seen_by_entity.pop(entity, ()), key=lambda s: s.fired)
        _match_entity(entity_sends, seen_list, timeout, result)
    result.unexplained += sum(len(rest) for rest in seen_by_entity.values())
    result.outcomes.sort(key=lambda outcome: outcome.send.sent)
    return result


def _match_entity(
    sends: list[Send], events: list[Seen], timeout: float, result: Matched
) -> None:
    """Match the events of one entity to its sends, both in time order."""
    first = 0  # the earliest send not yet matched or lost
    for seen in events:
        found = next(
            (
                index
                for index in range(first, len(sends))
                if sends[index].sent > seen.fired - timeout
                and sends[index].value == seen.value
            ),
            None,
        )
        if found is None or sends[found].sent > seen.fired:
            result.unexplained += 1
            continue
        result.outcomes.extend(Outcome(send, None) for send in sends[first:found])
        result.outcomes.append(Outcome(sends[found], seen))
        first = found + 1
    result.outcomes.extend(Outcome(send, None) for send in sends[first:])


@dataclass(frozen=True, slots=True)
class Summary:
    """The latencies of one kind of entity, in milliseconds."""

    count: int
    lost: int
    p50: float
    p90: float
    p99: float
    max: float

    @classmethod
    def of(cls, latencies: Iterable[float | None]) -> Summary:
        """Sum up latencies in seconds; None is a send that got no event."""
        values = list(latencies)
        found = sorted(1000 * value for value in values if value is not None)
        p50, p90, p99 = (percentile(found, rank) for rank in PERCENTILES)
        return cls(
            len(values),
            len(values) - len(found),
            p50,
            p90,
            p99,
            found[-1] if found else math.nan,
        )

    def row(self, name: str) -> str:
        """Return a row of the report's table."""
        figures = "".join(
            f"{value:>8.1f}" for value in (self.p50, self.p90, self.p99, self.max)
        )
        return f"  {name:<26}{self.count:>8,}{figures}{self.lost:>7,}"


@dataclass(frozen=True, slots=True)
class Interval:
    """The difference of two p99s over the same changes, with its uncertainty.

    difference is the first's p99 minus the second's, in ms, over every pair;
    low and high bound it with the given confidence: a percentile bootstrap
    that draws the pairs (not each side alone) with replacement, so what the
    two latencies of one change share (the broker, hass's pauses) stays
    together. Two p99s of a minute of load differ by a millisecond or two by
    chance alone; the interval says how much.
    """

    pairs: int
    first: float  # p99, ms
    second: float
    difference: float
    low: float
    high: float
    confidence: float
    resamples: int

    @classmethod
    def of(
        cls,
        pairs: Sequence[tuple[float, float]],
        *,
        confidence: float = 0.95,
        resamples: int = 2000,
        seed: int = 0,
    ) -> Interval:
        """Compare the p99s of pairs of latencies in seconds, first and second."""
        firsts = [1000 * first for first, _ in pairs]
        seconds = [1000 * second for _, second in pairs]
        first, second = _p99(firsts), _p99(seconds)
        if not pairs:
            return cls(0, first, second, math.nan, math.nan, math.nan, confidence, 0)
        draw = random.Random(seed).choices  # noqa: S311 - resampling, not secrets
        indexes = range(len(pairs))
        differences = []
        for _ in range(resamples):
            drawn = draw(indexes, k=len(pairs))
            differences.append(
                _p99([firsts[i] for i in drawn]) - _p99([seconds[i] for i in drawn])
            )
        differences.sort()
        tail = 100 * (1 - confidence) / 2
        return cls(
            len(pairs),
            first,
            second,
            first - second,
            percentile(differences, tail),
            percentile(differences, 100 - tail),
            confidence,
            resamples,
        )

    def verdict(self, margin: float) -> Literal["yes", "no", "undecided"]:
        """Tell whether the first's p99 is no worse than the second's.

        yes: the whole interval is below margin ms; no: the whole interval is
        above it; undecided: the interval reaches across it, and a longer run
        would narrow it.
        """
        if self.high <= margin:
            return "yes"
        if self.low > margin:
            return "no"
        return "undecided"


def _p99(values: Iterable[float]) -> float:
    return percentile(sorted(values), 99)


def table_header() -> str:
    """Return the header of the rows Summary.row makes."""
    return (
        f"  {'ms':<26}{'changes':>8}{'p50':>8}{'p90':>8}{'p99':>8}{'max':>8}{'lost':>7}"
    )


def cpu_seconds(stat: str) -> float:
    """Return utime + stime of a /proc/<pid>/stat line, in seconds.

    The command name is in parentheses and may hold spaces and parentheses:
    the fields are counted after the last closing one.
    """
    fields = stat.rpartition(")")[2].split()
    # utime and stime are the 14th and 15th fields; fields[0] is the 3rd.
    ticks = int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def process_cpu(pid: int) -> float:
    """Return the CPU seconds a process used so far, 0 once it is gone."""
    try:
        return cpu_seconds(Path(f"/proc/{pid}/stat").read_text())
    except OSError:
        return 0.0
