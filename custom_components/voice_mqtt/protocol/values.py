"""Values inside topics and payloads: identifiers, MACs, timestamps, numbers.

Also the reasons a message is refused, which every other protocol module
raises. Pure Python: no Home Assistant import.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
import json
import math
import re
from typing import Final
from urllib.parse import urlsplit

MAX_ID_LENGTH: Final = 128
MAX_PAYLOAD_BYTES: Final = 64 * 1024

# Epoch milliseconds beyond year 9999 cannot become a datetime.
_MAX_EPOCH_MS: Final = 253_402_300_799_999
# Home Assistant stores states and attributes with orjson, which refuses
# integers beyond 64 bits (and one such attribute breaks the restore-state
# save of every entity): no number outside this range is taken.
MIN_INTEGER: Final = -(2**63)
MAX_INTEGER: Final = 2**63 - 1
# Data passed through to Home Assistant (a device event, a display action's
# data) becomes a state attribute: it must be storable by orjson (no deeper
# than ~255 levels) and fit the recorder, which refuses a state's attributes
# over 16 KiB. Our own limits leave room for both.
MAX_DATA_DEPTH: Final = 32
MAX_DATA_BYTES: Final = 8 * 1024
# Names that become attributes or registry names (tool, panel, device).
MAX_NAME_LENGTH: Final = 255


class Rejection(StrEnum):
    """Why an inbound message was dropped; the keys of the diagnostics counters."""

    OVERSIZE = "oversize"
    NOT_UTF8 = "not_utf8"
    INVALID_JSON = "invalid_json"
    NOT_AN_OBJECT = "not_an_object"
    INVALID_FIELD = "invalid_field"
    OUT_OF_RANGE = "out_of_range"
    TOO_DEEP = "too_deep"
    TOO_LARGE = "too_large"
    INVALID_TOPIC = "invalid_topic"
    INVALID_ID = "invalid_id"
    UNKNOWN_TYPE = "unknown_type"


class ProtocolError(ValueError):
    """An inbound topic or payload that does not follow the protocol."""

    def __init__(self, reason: Rejection, detail: str) -> None:
        """Keep the reason apart from the human detail."""
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


class OutOfRangeError(ValueError):
    """A number or timestamp beyond what can be stored or shown."""


class IdentifierError(ValueError):
    """An id that cannot be one topic level."""

    def __init__(self, reason: str) -> None:
        """Reason is one of: empty, too_long, forbidden_character, not_a_string."""
        super().__init__(reason)
        self.reason = reason


# / + # split or match topic levels; NUL and control characters are refused
# by brokers and by Home Assistant's topic validation. One regular expression:
# every message's ids go through it.
_FORBIDDEN_CHARACTER: Final = re.compile("[/+#\x00-\x1f\x7f-\x9f]")


def validate_identifier(value: object) -> str:
    """Return value if it can be one topic level, else raise IdentifierError."""
    if not isinstance(value, str):
        raise IdentifierError("not_a_string")
    if not value:
        raise IdentifierError("empty")
    if len(value) > MAX_ID_LENGTH:
        raise IdentifierError("too_long")
    if _FORBIDDEN_CHARACTER.search(value) is not None:
        raise IdentifierError("forbidden_character")
    return value


def is_valid_identifier(value: object) -> bool:
    """Tell whether value can be one topic level."""
    return (
        isinstance(value, str)
        and 0 < len(value) <= MAX_ID_LENGTH
        and _FORBIDDEN_CHARACTER.search(value) is None
    )


def validate_prefix(value: object, *, allow_empty: bool = False) -> str:
    """Return a topic prefix of one or more levels, or raise IdentifierError.

    Prefixes may span several levels (`home/devices`), but no level may be empty
    or hold a wildcard, and a prefix cannot start with `$` (reserved by brokers).
    """
    if allow_empty and value == "":
        return ""
    if not isinstance(value, str):
        raise IdentifierError("not_a_string")
    if value.startswith("$"):
        raise IdentifierError("forbidden_character")
    for level in value.split("/"):
        validate_identifier(level)
    return value


_MAC_SEPARATED = re.compile(r"[0-9a-f]{2}([:-])[0-9a-f]{2}(?:\1[0-9a-f]{2}){4}")
_MAC_DOTTED = re.compile(r"[0-9a-f]{4}\.[0-9a-f]{4}\.[0-9a-f]{4}")
_MAC_BARE = re.compile(r"[0-9a-f]{12}")


def normalize_mac(value: str) -> str:
    """Return a MAC as lowercase colon-separated pairs, or raise ValueError.

    Accepts `CC:BA:97:11:0E:84`, `cc-ba-97-11-0e-84`, `ccba.9711.0e84` and
    `ccba97110e84`, in either case, with surrounding blanks.
    """
    text = value.strip().lower()
    if not (
        _MAC_SEPARATED.fullmatch(text)
        or _MAC_DOTTED.fullmatch(text)
        or _MAC_BARE.fullmatch(text)
    ):
        raise ValueError(f"not a MAC address: {value!r}")
    digits = text.replace(":", "").replace("-", "").replace(".", "")
    return ":".join(digits[index : index + 2] for index in range(0, 12, 2))


def parse_timestamp(value: object) -> datetime | None:
    """Return an aware UTC datetime from epoch ms or ISO 8601, or raise ValueError.

    Any JSON value is safe here: integers too big for a float, NaN, infinity
    and years beyond 9999 raise OutOfRangeError, a ValueError.
    """
    if isinstance(value, str):  # first: what devices send, on every heartbeat
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(f"not ISO 8601: {value[:40]!r}") from None
        tzinfo = parsed.tzinfo
        if tzinfo is None:
            return parsed.replace(tzinfo=UTC)
        if tzinfo is UTC:
            return parsed  # "Z", as devices write it: nothing to convert
        try:
            return parsed.astimezone(UTC)
        except OverflowError:
            raise OutOfRangeError("out of range (years 1 to 9999)") from None
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError("a boolean is not a timestamp")
    if isinstance(value, int | float):
        # Compared before any conversion: float(10**400) would overflow.
        if not 0 <= value <= _MAX_EPOCH_MS:  # NaN compares false
            raise OutOfRangeError("epoch milliseconds out of range")
        return datetime.fromtimestamp(value / 1000, UTC)
    raise ValueError("a timestamp is epoch milliseconds or an ISO 8601 string")


def whole_number(value: object) -> int:
    """Return a JSON number that is whole and within 64 bits, or raise ValueError.

    A whole float (2.0) is taken as an int; booleans are not numbers here.
    """
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("must be a number")
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            raise OutOfRangeError("must be finite")
        if not value.is_integer():
            raise ValueError("must be a whole number")
        value = int(value)
    if not MIN_INTEGER <= value <= MAX_INTEGER:
        raise OutOfRangeError("must be within 64 bits")
    return value


def milliseconds(seconds: object) -> int:
    """Return seconds as whole milliseconds, zero or more, within 64 bits; or raise.

    What a seek sends the fleet (positionMs): Home Assistant's schema checks
    only that its seconds are zero or more, and lets infinity and numbers
    beyond 64 bits through. A fraction of a millisecond is rounded.

    Raises:
        OutOfRangeError: not finite, below zero or beyond 64 bits.
        ValueError: not a number.
    """
    if isinstance(seconds, bool) or not isinstance(seconds, int | float):
        raise ValueError("must be a number")
    if isinstance(seconds, float):
        scaled = seconds * 1000  # NaN stays NaN; a huge float becomes inf
        if not math.isfinite(scaled):
            raise OutOfRangeError("must be finite")
        value = round(scaled)
    else:
        value = seconds * 1000
    if value < 0:
        raise OutOfRangeError("must be zero or more")
    if value > MAX_INTEGER:
        raise OutOfRangeError("must be within 64 bits")
    return value


def is_websocket_url(value: object) -> bool:
    """Tell whether value is a ws:// or wss:// URL that names a host.

    What a voice device is told to open (ws_start): no blank or control
    character anywhere, a port (if any) that is a port.
    """
    if not isinstance(value, str) or not value.isprintable() or " " in value:
        return False
    try:
        parts = urlsplit(value)
        _ = parts.port  # raises for a port that is not one
    except ValueError:
        return False
    return parts.scheme in ("ws", "wss") and bool(parts.hostname)


def finite_number(value: object) -> float:
    """Return a JSON number as a finite float, or raise ValueError."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("must be a number")
    if isinstance(value, int) and not MIN_INTEGER <= value <= MAX_INTEGER:
        raise OutOfRangeError("must be within 64 bits")  # float() could overflow
    result = float(value)
    if not math.isfinite(result):
        raise OutOfRangeError("must be finite")
    return result


def check_storable(value: object) -> None:
    """Raise ProtocolError unless value can be a Home Assistant state attribute.

    Walked without recursion, so a deep value costs no stack: no container
    deeper than MAX_DATA_DEPTH, no integer beyond 64 bits, no infinity, at most
    MAX_DATA_BYTES once encoded.
    """
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth > MAX_DATA_DEPTH:
                raise ProtocolError(
                    Rejection.TOO_DEEP, f"nested deeper than {MAX_DATA_DEPTH} levels"
                )
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
        elif isinstance(item, int) and not isinstance(item, bool):
            if not MIN_INTEGER <= item <= MAX_INTEGER:
                raise ProtocolError(Rejection.OUT_OF_RANGE, "an integer beyond 64 bits")
        elif isinstance(item, float) and not math.isfinite(item):
            raise ProtocolError(Rejection.OUT_OF_RANGE, "a number beyond float range")
    size = len(json.dumps(value, ensure_ascii=False).encode())
    if size > MAX_DATA_BYTES:
        raise ProtocolError(
            Rejection.TOO_LARGE, f"{size} bytes of data, over {MAX_DATA_BYTES}"
        )


def epoch_ms(moment: datetime) -> int:
    """Return epoch milliseconds, the backend's timestamp form."""
    return int(moment.timestamp() * 1000)
