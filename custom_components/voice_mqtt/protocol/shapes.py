"""A heartbeat's shape: its bytes, but for the value of its timestamp.

A device sends the same heartbeat every 15 s but for the timestamp, which a
live heartbeat does not use: it only says "still here". Once one heartbeat has
been parsed, the next of the same shape needs its timestamp checked, not a
whole JSON parse with its dictionary and models.

The shape is learned from a payload the decoder accepted, and proved by the
decoder itself: the slot is filled with two other values and decoded, and
only if each time the timestamp, and nothing else, became that value is the
shape kept. The slot admits no quote, backslash or control character (and a
number slot only digits), so whatever fills it leaves the JSON around it as
it was: a payload that fits is one the decoder would accept with the same
fields, provided its timestamp is valid, which `fits` checks with the same
function the decoder uses. Anything else does not fit and is parsed the whole
way, rejections included. Pure Python: no Home Assistant import.
"""

from __future__ import annotations

import re
from typing import Any, Final, Self

from .decoding import decode_object
from .values import MAX_PAYLOAD_BYTES, ProtocolError, parse_timestamp

# What an ISO 8601 timestamp is written with; never a quote or a backslash.
_TEXT_CHARACTERS: Final = (
    b"0123456789:.+- ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
)
_TEXT_SLOT: Final = re.compile(rb"[0-9A-Za-z:.+ -]{1,40}")
_LONGEST_TEXT: Final = 40
# Epoch milliseconds as JSON writes a whole number: no sign, no leading zero.
_NUMBER_SLOT: Final = re.compile(rb"0|[1-9][0-9]{0,15}")
_LONGEST_NUMBER: Final = 16
_TEXT_PROBES: Final = ("a", "bb")
_NUMBER_PROBES: Final = (1, 22)


class HeartbeatShape:
    """One device's heartbeat, with its timestamp's value as the only slot.

    A plain class with slots, so that the fleet's record of a device's last
    heartbeat can be one object with its shape (fewer objects to reach per
    message is most of what a heartbeat costs in a large process).
    """

    __slots__ = ("head", "longest", "number", "raw", "tail")

    def __init__(
        self,
        raw: bytes,
        head: bytes | None = None,
        tail: bytes = b"",
        *,
        number: bool = False,
    ) -> None:
        """Keep raw, and the bytes around its slot (none: only raw fits)."""
        self.raw = raw
        self.head = head
        self.tail = tail
        self.number = number  # the timestamp is epoch milliseconds, not a string
        # The longest slot that keeps the payload within the size limit.
        room = MAX_PAYLOAD_BYTES - len(tail) - (0 if head is None else len(head))
        self.longest = min(_LONGEST_NUMBER if number else _LONGEST_TEXT, room)

    @classmethod
    def learn(cls, raw: bytes) -> Self:
        """Return the shape of a heartbeat payload the decoder accepted."""
        try:
            data = decode_object(raw)
        except ProtocolError:
            data = None
        if data is None:
            return cls(raw)
        value = data.get("timestamp")
        if isinstance(value, str) and _TEXT_SLOT.fullmatch(token := value.encode()):
            found = _find(raw, data, b'"' + token + b'"', 1, _TEXT_PROBES)
        elif type(value) is int and _NUMBER_SLOT.fullmatch(token := b"%d" % value):
            found = _find(raw, data, token, 0, _NUMBER_PROBES)
        else:
            found = None
        if found is None:
            return cls(raw)
        return cls(raw, *found, number=type(value) is int)

    def fits(self, raw: bytes | bytearray | str) -> bool:
        """Tell whether raw is this heartbeat with a valid timestamp of its own."""
        if raw == self.raw:
            return True
        head = self.head
        if (
            head is None
            or type(raw) is not bytes
            or not raw.startswith(head)
            or not raw.endswith(tail := self.tail)
        ):
            return False
        slot = raw[len(head) : len(raw) - len(tail)]
        if not 0 < len(slot) <= self.longest:
            return False  # none, or head and tail overlap, or too long
        value: int | str
        if self.number:
            if not slot.isdigit() or (slot[0] == 48 and len(slot) > 1):  # 48: "0"
                return False
            value = int(slot)
        else:
            if slot.translate(None, _TEXT_CHARACTERS):
                return False  # a character no timestamp is written with
            value = slot.decode()
        try:
            parse_timestamp(value)
        except ValueError:
            return False
        return True


def _find(
    raw: bytes,
    data: dict[str, Any],
    token: bytes,
    quote: int,
    probes: tuple[Any, ...],
) -> tuple[bytes, bytes] | None:
    """Return the head and tail around the timestamp's value, if proved."""
    start = raw.find(token)
    while start != -1:
        head = raw[: start + quote]
        tail = raw[start + len(token) - quote :]
        if all(_proves(head, tail, data, probe) for probe in probes):
            return head, tail
        start = raw.find(token, start + 1)
    return None


def _proves(head: bytes, tail: bytes, data: dict[str, Any], probe: Any) -> bool:
    """Tell whether filling the slot with probe changes the timestamp alone."""
    try:
        decoded = decode_object(head + str(probe).encode() + tail)
    except ProtocolError:
        return False
    return (
        decoded is not None
        and type(decoded.get("timestamp")) is type(probe)
        and decoded == {**data, "timestamp": probe}
    )
