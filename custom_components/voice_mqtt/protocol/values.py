"""Values inside topics and payloads: identifiers, MACs, timestamps, numbers.

Also the reasons a message is refused, which every other protocol module
raises. Pure Python: no Home Assistant import.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
import math
import re
from typing import Final

MAX_ID_LENGTH: Final = 128
MAX_PAYLOAD_BYTES: Final = 64 * 1024

# Epoch milliseconds beyond year 9999 cannot become a datetime.
_MAX_EPOCH_MS: Final = 253_402_300_799_999


class Rejection(StrEnum):
    """Why an inbound message was dropped; the keys of the diagnostics counters."""

    OVERSIZE = "oversize"
    NOT_UTF8 = "not_utf8"
    INVALID_JSON = "invalid_json"
    NOT_AN_OBJECT = "not_an_object"
    INVALID_FIELD = "invalid_field"
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


class IdentifierError(ValueError):
    """An id that cannot be one topic level."""

    def __init__(self, reason: str) -> None:
        """Reason is one of: empty, too_long, forbidden_character, not_a_string."""
        super().__init__(reason)
        self.reason = reason


def _is_forbidden_char(char: str) -> bool:
    # / + # split or match topic levels; NUL and control characters are refused
    # by brokers and by Home Assistant's topic validation.
    return char in "/+#" or char <= "\x1f" or "\x7f" <= char <= "\x9f"


def validate_identifier(value: object) -> str:
    """Return value if it can be one topic level, else raise IdentifierError."""
    if not isinstance(value, str):
        raise IdentifierError("not_a_string")
    if not value:
        raise IdentifierError("empty")
    if len(value) > MAX_ID_LENGTH:
        raise IdentifierError("too_long")
    if any(_is_forbidden_char(char) for char in value):
        raise IdentifierError("forbidden_character")
    return value


def is_valid_identifier(value: object) -> bool:
    """Tell whether value can be one topic level."""
    try:
        validate_identifier(value)
    except IdentifierError:
        return False
    return True


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
    """Return an aware UTC datetime from epoch ms or ISO 8601, or raise ValueError."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError("a boolean is not a timestamp")
    if isinstance(value, int | float):
        if not (math.isfinite(value) and 0 <= value <= _MAX_EPOCH_MS):
            raise ValueError("epoch milliseconds out of range")
        return datetime.fromtimestamp(value / 1000, UTC)
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(f"not ISO 8601: {value[:40]!r}") from None
        if parsed.tzinfo is None:
            return parsed.replace(tzinfo=UTC)
        try:
            return parsed.astimezone(UTC)
        except OverflowError:
            raise ValueError("timestamp out of range") from None
    raise ValueError("a timestamp is epoch milliseconds or an ISO 8601 string")


def epoch_ms(moment: datetime) -> int:
    """Return epoch milliseconds, the backend's timestamp form."""
    return int(moment.timestamp() * 1000)
