"""The soak's hostile traffic: garbage, floods of new ids, valid-looking noise.

Pure: a seed in, FuzzMessage values out, the same ones for the same seed;
scripts/soak publishes them. Every topic is inside one voice_mqtt namespace
(voice topics, device topics, the announce and admin request topics) and is
one a broker accepts (no wildcard, no NUL, no control character), since a
broker disconnects a client that publishes on a topic it refuses. Hostile ids
with `/ + #` therefore travel in payload fields, where the protocol allows ids.

What the garbage is aimed at (valid topics, the payload for each, the ids in
them) is in devkit/fuzz_targets.py; the hostile values it is made of are the
tables of devkit/fuzz_literals.py.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import StrEnum
import json
from random import Random
import time
from typing import Final

from simulator.wire import protocol

from . import fuzz_literals as literals
from .fuzz_targets import DeviceType, Targets, VoiceType, dump

MIN_DEPTH: Final = 300  # nesting of the deep payloads that are still JSON
MAX_PAYLOAD: Final = protocol.MAX_PAYLOAD_BYTES


class Kind(StrEnum):
    """What a fuzzed message is meant to try."""

    MALFORMED_JSON = "malformed_json"
    BAD_UTF8 = "bad_utf8"
    NOT_AN_OBJECT = "not_an_object"
    WRONG_TYPES = "wrong_types"
    HUGE_NUMBERS = "huge_numbers"
    NAN_INFINITY = "nan_infinity"
    DEEP_NESTING = "deep_nesting"
    OVERSIZE = "oversize"
    HOSTILE_IDS = "hostile_ids"
    HOSTILE_STRINGS = "hostile_strings"
    UNKNOWN_TYPE = "unknown_type"
    EMPTY_RETAINED = "empty_retained"
    ADMIN_REQUEST = "admin_request"
    RANDOM_VALID = "random_valid"
    FLOOD_DEVICE = "flood_device"
    FLOOD_ROOM = "flood_room"


# How often each kind of garbage comes, relative to the others. Oversize is
# rare: at 100,000 messages it is still some 400 payloads of 64-128 KiB.
WEIGHTS: Final[dict[Kind, float]] = {
    Kind.MALFORMED_JSON: 10,
    Kind.BAD_UTF8: 6,
    Kind.NOT_AN_OBJECT: 4,
    Kind.WRONG_TYPES: 12,
    Kind.HUGE_NUMBERS: 8,
    Kind.NAN_INFINITY: 5,
    Kind.DEEP_NESTING: 4,
    Kind.OVERSIZE: 0.4,
    Kind.HOSTILE_IDS: 8,
    Kind.HOSTILE_STRINGS: 5,
    Kind.UNKNOWN_TYPE: 4,
    Kind.EMPTY_RETAINED: 4,
    Kind.ADMIN_REQUEST: 2,
    Kind.RANDOM_VALID: 3,
}


@dataclass(frozen=True, slots=True)
class FuzzMessage:
    """One message to publish.

    names is the room or device its topic (or announce payload) names, when
    that id is a valid topic level: what the message could make appear.
    """

    kind: Kind
    topic: str
    payload: bytes
    retain: bool = False
    names: tuple[str, str] | None = None  # ("room" | "device", id)


@dataclass(frozen=True, slots=True)
class Plan:
    """How much to send: fuzzed messages, and new ids each sent once."""

    messages: int
    device_ids: int
    room_ids: int
    seed: int = 0

    @property
    def total(self) -> int:
        """Return how many messages the plan holds."""
        return self.messages + self.device_ids + self.room_ids


def flood_device_ids(seed: int, count: int) -> list[str]:
    """Return count distinct device ids, each a valid topic level."""
    tag = Random(seed).getrandbits(16)
    return [f"FLOOD_{tag:04x}_{index:06d}" for index in range(count)]


def flood_room_ids(seed: int, count: int) -> list[str]:
    """Return count distinct room ids, each a valid topic level."""
    tag = Random(seed).getrandbits(16)
    return [f"flood_{tag:04x}_room_{index:05d}" for index in range(count)]


def generate(
    plan: Plan,
    scheme: protocol.TopicScheme | None = None,
    clock: Callable[[], float] = time.time,
) -> Iterator[FuzzMessage]:
    """Yield the plan's messages: the floods spread evenly through the garbage."""
    rng = Random(plan.seed)
    maker = MessageMaker(Random(rng.getrandbits(64)), scheme, clock)
    devices = iter(flood_device_ids(plan.seed, plan.device_ids))
    rooms = iter(flood_room_ids(plan.seed, plan.room_ids))
    left = [plan.messages, plan.device_ids, plan.room_ids]
    while total := sum(left):
        pick = rng.randrange(total)
        if pick < left[0]:
            left[0] -= 1
            yield maker.fuzz()
        elif pick < left[0] + left[1]:
            left[1] -= 1
            yield maker.flood_device(next(devices))
        else:
            left[2] -= 1
            yield maker.flood_room(next(rooms))


class MessageMaker:
    """Makes one message at a time; all choices from its own seeded generator."""

    def __init__(
        self,
        rng: Random,
        scheme: protocol.TopicScheme | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """Aim at scheme's namespace (the default one by default)."""
        self.rng = rng
        self.scheme = scheme or protocol.TopicScheme()
        # The targets draw from the same generator: one seed, one sequence.
        self.targets = Targets(rng, self.scheme, clock)
        self._makers: dict[Kind, Callable[[], FuzzMessage]] = {
            Kind.MALFORMED_JSON: self._malformed_json,
            Kind.BAD_UTF8: self._bad_utf8,
            Kind.NOT_AN_OBJECT: self._not_an_object,
            Kind.WRONG_TYPES: self._wrong_types,
            Kind.HUGE_NUMBERS: self._huge_numbers,
            Kind.NAN_INFINITY: self._nan_infinity,
            Kind.DEEP_NESTING: self._deep_nesting,
            Kind.OVERSIZE: self._oversize,
            Kind.HOSTILE_IDS: self._hostile_ids,
            Kind.HOSTILE_STRINGS: self._hostile_strings,
            Kind.UNKNOWN_TYPE: self._unknown_type,
            Kind.EMPTY_RETAINED: self._empty_retained,
            Kind.ADMIN_REQUEST: self._admin_request,
            Kind.RANDOM_VALID: self._random_valid,
        }
        self._kinds = list(WEIGHTS)
        self._weights = list(WEIGHTS.values())

    def fuzz(self, kind: Kind | None = None) -> FuzzMessage:
        """Return one message of kind, or of a random kind of garbage."""
        if kind is None:
            kind = self.rng.choices(self._kinds, self._weights)[0]
        return self._makers[kind]()

    def flood_device(self, device_id: str) -> FuzzMessage:
        """Return a new device's valid retained status."""
        topic = self.scheme.device_topic(device_id, DeviceType.STATUS)
        body = {
            "deviceId": device_id,
            "type": "vr",
            "status": "idle",
            "positionMs": 0,
            "sessionId": "",
            "timestamp": self.targets.iso(),
        }
        return FuzzMessage(
            Kind.FLOOD_DEVICE, topic, dump(body), True, ("device", device_id)
        )

    def flood_room(self, room_id: str) -> FuzzMessage:
        """Return a new room's valid state message."""
        topic = self.scheme.voice_topic(
            room_id, self.targets.session(), VoiceType.STATE
        )
        body = {"state": "listening", "timestamp": self.targets.ms()}
        return FuzzMessage(Kind.FLOOD_ROOM, topic, dump(body), False, ("room", room_id))

    # The kinds ---------------------------------------------------------------

    def _malformed_json(self) -> FuzzMessage:
        topic, body, names = self.targets.pick()
        if self.rng.random() < 0.5:
            payload = self.rng.choice(literals.MALFORMED_JSON)
        else:  # a valid payload cut short
            text = dump(body)
            payload = text[: self.rng.randrange(1, len(text))]
        return FuzzMessage(Kind.MALFORMED_JSON, topic, payload, names=names)

    def _bad_utf8(self) -> FuzzMessage:
        topic, body, names = self.targets.pick()
        bad = self.rng.choice(literals.BAD_UTF8)
        text = dump(body)
        cut = self.rng.randrange(len(text))
        payload = bad if self.rng.random() < 0.3 else text[:cut] + bad + text[cut:]
        return FuzzMessage(Kind.BAD_UTF8, topic, payload, names=names)

    def _not_an_object(self) -> FuzzMessage:
        topic, _body, names = self.targets.pick()
        payload = self.rng.choice(literals.NOT_OBJECTS)
        return FuzzMessage(Kind.NOT_AN_OBJECT, topic, payload, names=names)

    def _wrong_types(self) -> FuzzMessage:
        topic, body, names = self.targets.pick()
        for field in self.rng.sample(sorted(body), self.rng.randint(1, len(body))):
            body[field] = self.rng.choice(literals.WRONG_VALUES)
        return FuzzMessage(Kind.WRONG_TYPES, topic, dump(body), names=names)

    def _with_literal(self, kind: Kind, table: tuple[str, ...]) -> FuzzMessage:
        topic, body, names = self.targets.pick()
        numeric = [
            key
            for key in ("timestamp", "positionMs", "sequence", "confidence")
            if key in body
        ]
        field = self.rng.choice(numeric or sorted(body))
        body[field] = "__LITERAL__"
        literal = self.rng.choice(table)
        payload = dump(body).replace(b'"__LITERAL__"', literal.encode())
        return FuzzMessage(kind, topic, payload, names=names)

    def _huge_numbers(self) -> FuzzMessage:
        return self._with_literal(Kind.HUGE_NUMBERS, literals.HUGE_LITERALS)

    def _nan_infinity(self) -> FuzzMessage:
        return self._with_literal(Kind.NAN_INFINITY, literals.NAN_LITERALS)

    def _deep_nesting(self) -> FuzzMessage:
        topic, body, names = self.targets.pick()
        if self.rng.random() < 0.2:  # too deep for any parser's recursion
            depth = self.rng.randint(5_000, 15_000)
            payload = b"[" * depth + b"]" * depth
        else:  # still JSON, deep inside a field (the whole object of an event)
            depth = self.rng.randint(MIN_DEPTH, 2 * MIN_DEPTH)
            body["data" if "data" in body else "nested"] = "__DEEP__"
            deep = b'{"a":' * depth + b"{}" + b"}" * depth
            payload = dump(body).replace(b'"__DEEP__"', deep)
        return FuzzMessage(Kind.DEEP_NESTING, topic, payload, names=names)

    def _oversize(self) -> FuzzMessage:
        topic, body, names = self.targets.pick()
        size = self.rng.randint(MAX_PAYLOAD + 1, 2 * MAX_PAYLOAD)
        body["padding"] = ""
        filler = size - len(dump(body))
        body["padding"] = "x" * max(filler, 1)
        return FuzzMessage(Kind.OVERSIZE, topic, dump(body), names=names)

    def _hostile_ids(self) -> FuzzMessage:
        if self.rng.random() < 0.3:  # a topic level that is too long
            long_id = "y" * self.rng.randint(129, 400)
            if self.rng.random() < 0.5:
                topic = self.scheme.voice_topic("r", "s", VoiceType.STATE).replace(
                    "/room/r/", f"/room/{long_id}/"
                )
                payload = dump({"state": "idle"})
            else:
                topic = f"{self.scheme.device_prefix}/{long_id}/status"
                payload = dump({"status": "idle"})
            return FuzzMessage(Kind.HOSTILE_IDS, topic, payload)
        device = self.targets.pool_device()
        topic_type = self.rng.choice(
            (
                DeviceType.ANNOUNCE,
                DeviceType.STATUS,
                DeviceType.HEARTBEAT,
                DeviceType.LWT,
            )
        )
        topic = self.scheme.device_topic(device, topic_type)
        body = self.targets.device_body(topic_type, device)
        field = "deviceId"
        if topic_type is DeviceType.STATUS and self.rng.random() < 0.5:
            field = "sessionId"
        body[field] = self.rng.choice(literals.HOSTILE_IDS)
        names = None if topic_type is DeviceType.ANNOUNCE else ("device", device)
        return FuzzMessage(Kind.HOSTILE_IDS, topic, dump(body), names=names)

    def _hostile_strings(self) -> FuzzMessage:
        topic, body, names = self.targets.pick()
        text = self.rng.choice(literals.HOSTILE_STRINGS)
        if self.rng.random() < 0.03:  # long, yet under the size limit once escaped
            text *= 60_000 // len(json.dumps(text))
        keys = [key for key, value in body.items() if isinstance(value, str)]
        keys = [key for key in keys if key != "deviceId"] or ["extra"]
        body[self.rng.choice(keys)] = text
        payload = dump(body)
        if len(payload) > MAX_PAYLOAD:
            payload = payload[:MAX_PAYLOAD]  # cut: then it is malformed as well
        return FuzzMessage(Kind.HOSTILE_STRINGS, topic, payload, names=names)

    def _unknown_type(self) -> FuzzMessage:
        topic, body, names = self.targets.pick()
        head, _, _ = topic.rpartition("/")
        if topic.startswith(self.scheme.voice_root + "/"):
            # Up to the session: {voice_root}/room/{room}/session/{session}
            levels = len(self.scheme.voice_root.split("/")) + 4
            head = "/".join(topic.split("/")[:levels])
        level = self.rng.choice(
            ("bogus", "State", "response/stream", "state/extra", "$x")
        )
        topic = f"{head}/{level}"
        return FuzzMessage(Kind.UNKNOWN_TYPE, topic, dump(body), names=names)

    def _empty_retained(self) -> FuzzMessage:
        if self.rng.random() < 0.7:
            device = self.targets.pool_device()
            topic_type = self.rng.choice((DeviceType.STATUS, DeviceType.LWT))
            topic = self.scheme.device_topic(device, topic_type)
            names = ("device", device)
            return FuzzMessage(Kind.EMPTY_RETAINED, topic, b"", True, names)
        topic, _body, names = self.targets.pick()
        return FuzzMessage(Kind.EMPTY_RETAINED, topic, b"", True, names)

    def _admin_request(self) -> FuzzMessage:
        payload = self.rng.choice((b"", b"{}", b"garbage", b"\xff", b"[" * 1000))
        topic = self.scheme.admin_request_topic
        return FuzzMessage(Kind.ADMIN_REQUEST, topic, payload)

    def _random_valid(self) -> FuzzMessage:
        topic, body, names = self.targets.pick(fresh=True)
        return FuzzMessage(Kind.RANDOM_VALID, topic, dump(body), names=names)
