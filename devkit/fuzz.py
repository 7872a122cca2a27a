"""The soak's hostile traffic: garbage, floods of new ids, valid-looking noise.

Pure: a seed in, FuzzMessage values out, the same ones for the same seed;
scripts/soak publishes them. Every topic is inside one voice_mqtt namespace
(voice topics, device topics, the announce and admin request topics) and is
one a broker accepts (no wildcard, no NUL, no control character), since a
broker disconnects a client that publishes on a topic it refuses. Hostile ids
with `/ + #` therefore travel in payload fields, where the protocol allows ids.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
import json
from random import Random
import time
from typing import Any, Final

from simulator.wire import protocol

VoiceType = protocol.VoiceType
DeviceType = protocol.DeviceTopicType

MIN_DEPTH: Final = 300  # nesting of the deep payloads that are still JSON
MAX_PAYLOAD: Final = protocol.MAX_PAYLOAD_BYTES
POOL_ROOMS: Final = 20  # rooms and devices that most garbage is aimed at
POOL_DEVICES: Final = 50


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


_WRONG_VALUES: Final[tuple[Any, ...]] = (
    7,
    -1,
    3.5,
    True,
    None,
    [],
    [1, "two"],
    {},
    {"nested": 1},
    "",
    "text",
    "2025-13-45T99:99:99",
)
_HUGE_LITERALS: Final = (
    "1" + "0" * 400,  # an integer no float can hold
    str(2**64),
    "-" + str(2**63 + 1),
    "1e400",  # json turns it into inf
    "-1e400",
    "1e-400",
    "9" * 4400,  # over Python's integer-digits limit
    "253402300800000",  # epoch ms just after year 9999
    "-1",
)
_NAN_LITERALS: Final = ("NaN", "Infinity", "-Infinity")
_HOSTILE_IDS: Final = (
    "a/b",
    "a+b",
    "a#b",
    "+",
    "#",
    "/",
    "../..",
    "x\x00y",
    "\x01",
    "tab\there",
    "\x85",
    "x" * 129,
    "",
    7,
    None,
)
_HOSTILE_STRINGS: Final = (
    "\ud800",  # a lone surrogate: valid JSON (escaped), invalid UTF-8
    "\udfff tail",
    "nul\x00inside",
    "bell\x07 and escape\x1b[31m",
    "\u202eright-to-left",
    "zero\u200bwidth",
    "🙂" * 50,
    "\uff46\uff55\uff4c\uff4c width",  # fullwidth letters
    "<script>alert(1)</script>",
    "{{ states('sun.sun') }}",
    "' OR 1=1 --",
)
_MALFORMED: Final = (
    b"{",
    b"}",
    b'{"state": "idle"',
    b'{"state": "idle",}',
    b"{'state': 'idle'}",
    b'{"state" "idle"}',
    b'{"state": idle}',
    b'{"a": 1} {"b": 2}',
    b"\xef\xbb\xbf{}",  # a UTF-8 byte order mark
    b"null garbage",
    b'{"a": "unterminated',
    b'{"a": 01}',
    b'{"a": .5}',
    b'{"a": +1}',
    b'{"a": 0x10}',
    b'{"a": "\\x41"}',
    b'{"a": "\\u12"}',
    b"\x00\x00\x00",
)
_BAD_UTF8: Final = (
    b"\xff\xfe\xfd",
    b"\xc0\xaf",  # an overlong slash
    b"\xe0\x80\xaf",
    b"\xed\xa0\x80",  # an encoded surrogate
    b"\xf4\x90\x80\x80",  # beyond U+10FFFF
    b"\xc3",  # cut in the middle of a character
    b"\x80\x81\x82",
)
_NOT_OBJECTS: Final = (
    b"[]",
    b"[1, 2, 3]",
    b'"idle"',
    b"42",
    b"true",
    b"null",
    b"-0.0",
    b'[{"state": "idle"}]',
)


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
        self.clock = clock
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
            "timestamp": self._iso(),
        }
        return FuzzMessage(
            Kind.FLOOD_DEVICE, topic, _dump(body), True, ("device", device_id)
        )

    def flood_room(self, room_id: str) -> FuzzMessage:
        """Return a new room's valid state message."""
        topic = self.scheme.voice_topic(room_id, self._session(), VoiceType.STATE)
        body = {"state": "listening", "timestamp": self._ms()}
        return FuzzMessage(
            Kind.FLOOD_ROOM, topic, _dump(body), False, ("room", room_id)
        )

    # Targets: a topic and the valid payload that belongs on it ---------------

    def _target(
        self, *, fresh: bool = False
    ) -> tuple[str, dict[str, Any], tuple[str, str]]:
        """Return a topic, a valid payload for it and what it names.

        The room or device is one of a small pool, or (fresh) a random new id.
        """
        if self.rng.random() < 0.5:
            room = self._fresh_id() if fresh else self._pool_room()
            message_type = self.rng.choice(list(VoiceType))
            topic = self.scheme.voice_topic(room, self._session(), message_type)
            return topic, self._voice_body(message_type), ("room", room)
        device = self._fresh_id() if fresh else self._pool_device()
        topic_type = self.rng.choice(list(DeviceType))
        topic = self.scheme.device_topic(device, topic_type)
        return topic, self._device_body(topic_type, device), ("device", device)

    def _voice_body(self, message_type: protocol.VoiceType) -> dict[str, Any]:
        body: dict[str, Any] = {"timestamp": self._ms()}
        match message_type:
            case VoiceType.STATE:
                body["state"] = self.rng.choice(
                    ("idle", "wake_detected", "listening", "processing", "responding")
                )
            case (
                VoiceType.RESPONSE | VoiceType.TRANSCRIPT | VoiceType.TRANSCRIPT_REFINED
            ):
                body["text"] = "turn on the lights"
            case VoiceType.TRANSCRIPT_INTERIM:
                body.update(text="turn on", sequence=self.rng.randrange(50))
            case VoiceType.TRANSCRIPT_FINAL:
                body.update(text="turn on the lights", confidence=0.85)
            case VoiceType.STREAM_CHUNK:
                body["chunk"] = " lights"
            case VoiceType.DISPLAY_ACTION:
                body.update(type="light_control", data={"room": "kitchen", "on": True})
            case VoiceType.TOOL_EXECUTED:
                body.update(tool_name="control_light", success=True)
            case VoiceType.OVERLAY_HINT:
                body["keep_open"] = True
        return body

    def _device_body(
        self, topic_type: protocol.DeviceTopicType, device: str
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"deviceId": device, "timestamp": self._iso()}
        match topic_type:
            case DeviceType.ANNOUNCE:
                body.update(type="vr", name=f"Fuzz {device}")
            case DeviceType.STATUS:
                body.update(type="vr", status="idle", positionMs=0, sessionId="")
            case DeviceType.HEARTBEAT:
                body.update(type="vr", status="idle")
            case DeviceType.EVENTS:
                body.update(event="button_pressed", button=1)
            case DeviceType.LWT:
                body["status"] = "offline"
        return body

    # The kinds ---------------------------------------------------------------

    def _malformed_json(self) -> FuzzMessage:
        topic, body, names = self._target()
        if self.rng.random() < 0.5:
            payload = self.rng.choice(_MALFORMED)
        else:  # a valid payload cut short
            text = _dump(body)
            payload = text[: self.rng.randrange(1, len(text))]
        return FuzzMessage(Kind.MALFORMED_JSON, topic, payload, names=names)

    def _bad_utf8(self) -> FuzzMessage:
        topic, body, names = self._target()
        bad = self.rng.choice(_BAD_UTF8)
        text = _dump(body)
        cut = self.rng.randrange(len(text))
        payload = bad if self.rng.random() < 0.3 else text[:cut] + bad + text[cut:]
        return FuzzMessage(Kind.BAD_UTF8, topic, payload, names=names)

    def _not_an_object(self) -> FuzzMessage:
        topic, _body, names = self._target()
        payload = self.rng.choice(_NOT_OBJECTS)
        return FuzzMessage(Kind.NOT_AN_OBJECT, topic, payload, names=names)

    def _wrong_types(self) -> FuzzMessage:
        topic, body, names = self._target()
        for field in self.rng.sample(sorted(body), self.rng.randint(1, len(body))):
            body[field] = self.rng.choice(_WRONG_VALUES)
        return FuzzMessage(Kind.WRONG_TYPES, topic, _dump(body), names=names)

    def _with_literal(self, kind: Kind, literals: tuple[str, ...]) -> FuzzMessage:
        topic, body, names = self._target()
        numeric = [
            key
            for key in ("timestamp", "positionMs", "sequence", "confidence")
            if key in body
        ]
        field = self.rng.choice(numeric or sorted(body))
        body[field] = "__LITERAL__"
        literal = self.rng.choice(literals)
        payload = _dump(body).replace(b'"__LITERAL__"', literal.encode())
        return FuzzMessage(kind, topic, payload, names=names)

    def _huge_numbers(self) -> FuzzMessage:
        return self._with_literal(Kind.HUGE_NUMBERS, _HUGE_LITERALS)

    def _nan_infinity(self) -> FuzzMessage:
        return self._with_literal(Kind.NAN_INFINITY, _NAN_LITERALS)

    def _deep_nesting(self) -> FuzzMessage:
        topic, body, names = self._target()
        if self.rng.random() < 0.2:  # too deep for any parser's recursion
            depth = self.rng.randint(5_000, 15_000)
            payload = b"[" * depth + b"]" * depth
        else:  # still JSON, deep inside a field (the whole object of an event)
            depth = self.rng.randint(MIN_DEPTH, 2 * MIN_DEPTH)
            body["data" if "data" in body else "nested"] = "__DEEP__"
            deep = b'{"a":' * depth + b"{}" + b"}" * depth
            payload = _dump(body).replace(b'"__DEEP__"', deep)
        return FuzzMessage(Kind.DEEP_NESTING, topic, payload, names=names)

    def _oversize(self) -> FuzzMessage:
        topic, body, names = self._target()
        size = self.rng.randint(MAX_PAYLOAD + 1, 2 * MAX_PAYLOAD)
        body["padding"] = ""
        filler = size - len(_dump(body))
        body["padding"] = "x" * max(filler, 1)
        return FuzzMessage(Kind.OVERSIZE, topic, _dump(body), names=names)

    def _hostile_ids(self) -> FuzzMessage:
        if self.rng.random() < 0.3:  # a topic level that is too long
            long_id = "y" * self.rng.randint(129, 400)
            if self.rng.random() < 0.5:
                topic = self.scheme.voice_topic("r", "s", VoiceType.STATE).replace(
                    "/room/r/", f"/room/{long_id}/"
                )
                payload = _dump({"state": "idle"})
            else:
                topic = f"{self.scheme.device_prefix}/{long_id}/status"
                payload = _dump({"status": "idle"})
            return FuzzMessage(Kind.HOSTILE_IDS, topic, payload)
        device = self._pool_device()
        topic_type = self.rng.choice(
            (
                DeviceType.ANNOUNCE,
                DeviceType.STATUS,
                DeviceType.HEARTBEAT,
                DeviceType.LWT,
            )
        )
        topic = self.scheme.device_topic(device, topic_type)
        body = self._device_body(topic_type, device)
        field = "deviceId"
        if topic_type is DeviceType.STATUS and self.rng.random() < 0.5:
            field = "sessionId"
        body[field] = self.rng.choice(_HOSTILE_IDS)
        names = None if topic_type is DeviceType.ANNOUNCE else ("device", device)
        return FuzzMessage(Kind.HOSTILE_IDS, topic, _dump(body), names=names)

    def _hostile_strings(self) -> FuzzMessage:
        topic, body, names = self._target()
        text = self.rng.choice(_HOSTILE_STRINGS)
        if self.rng.random() < 0.03:  # long, yet under the size limit once escaped
            text *= 60_000 // len(json.dumps(text))
        keys = [key for key, value in body.items() if isinstance(value, str)]
        keys = [key for key in keys if key != "deviceId"] or ["extra"]
        body[self.rng.choice(keys)] = text
        payload = _dump(body)
        if len(payload) > MAX_PAYLOAD:
            payload = payload[:MAX_PAYLOAD]  # cut: then it is malformed as well
        return FuzzMessage(Kind.HOSTILE_STRINGS, topic, payload, names=names)

    def _unknown_type(self) -> FuzzMessage:
        topic, body, names = self._target()
        head, _, _ = topic.rpartition("/")
        if topic.startswith(self.scheme.voice_root + "/"):
            # Up to the session: {voice_root}/room/{room}/session/{session}
            levels = len(self.scheme.voice_root.split("/")) + 4
            head = "/".join(topic.split("/")[:levels])
        level = self.rng.choice(
            ("bogus", "State", "response/stream", "state/extra", "$x")
        )
        topic = f"{head}/{level}"
        return FuzzMessage(Kind.UNKNOWN_TYPE, topic, _dump(body), names=names)

    def _empty_retained(self) -> FuzzMessage:
        if self.rng.random() < 0.7:
            device = self._pool_device()
            topic_type = self.rng.choice((DeviceType.STATUS, DeviceType.LWT))
            topic = self.scheme.device_topic(device, topic_type)
            names = ("device", device)
            return FuzzMessage(Kind.EMPTY_RETAINED, topic, b"", True, names)
        topic, _body, names = self._target()
        return FuzzMessage(Kind.EMPTY_RETAINED, topic, b"", True, names)

    def _admin_request(self) -> FuzzMessage:
        payload = self.rng.choice((b"", b"{}", b"garbage", b"\xff", b"[" * 1000))
        topic = self.scheme.admin_request_topic
        return FuzzMessage(Kind.ADMIN_REQUEST, topic, payload)

    def _random_valid(self) -> FuzzMessage:
        topic, body, names = self._target(fresh=True)
        return FuzzMessage(Kind.RANDOM_VALID, topic, _dump(body), names=names)

    # Values --------------------------------------------------------------------

    def _fresh_id(self) -> str:
        """Return a new random id, of the forms fleets use; valid, mostly new."""
        rng = self.rng
        match rng.randrange(5):
            case 0:
                return f"VR_{rng.randrange(10**6):06d}"
            case 1:
                return ":".join(f"{rng.randrange(256):02x}" for _ in range(6))
            case 2:
                return f"{rng.getrandbits(128):032x}"
            case 3:
                word = rng.choice(("кухня", "客厅", "salle_à_manger", "🙂"))
                return f"{word}_{rng.randrange(1000)}"
            case _:
                return f"room {rng.randrange(10**5)} $x"

    def _pool_room(self) -> str:
        return f"fuzz_room_{self.rng.randrange(POOL_ROOMS)}"

    def _pool_device(self) -> str:
        return f"FUZZ_{self.rng.randrange(POOL_DEVICES):03d}"

    def _session(self) -> str:
        return f"{self.rng.getrandbits(64):016x}"

    def _ms(self) -> int:
        return int(self.clock() * 1000)

    def _iso(self) -> str:
        moment = datetime.fromtimestamp(self.clock(), UTC)
        return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _dump(body: dict[str, Any]) -> bytes:
    # ensure_ascii keeps lone surrogates as \ud800 escapes: valid JSON.
    return json.dumps(body).encode()
