"""The wire protocol of the voice fleet: topics, identifiers and payloads.

This module imports nothing from Home Assistant (and nothing relative), so the
simulator and the property-based tests can load it on its own. It follows
shared/protocol.md; where they disagree, one of them has a bug.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from enum import StrEnum
import json
import math
import re
from typing import Any, Final

MAX_ID_LENGTH: Final = 128
MAX_PAYLOAD_BYTES: Final = 64 * 1024

DEFAULT_VERSION: Final = "v1"
LEGACY_VERSION: Final = ""  # v0: the layout without a version level
DEFAULT_BASE: Final = "voice_assistant"
DEFAULT_DEVICE_PREFIX: Final = "devices"
DEFAULT_SESSION_PREFIX: Final = "sessions"
DEFAULT_ADMIN_PREFIX: Final = "admin"
DEFAULT_XIAOZHI_PREFIX: Final = "xiaozhi"

ANNOUNCE_LEVEL: Final = "discovery"
OFFLINE: Final = "offline"

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


class VoiceType(StrEnum):
    """The message types of a voice session; the topic levels after the session."""

    STATE = "state"
    TRANSCRIPT = "transcript"
    TRANSCRIPT_INTERIM = "transcript/interim"
    TRANSCRIPT_FINAL = "transcript/final"
    TRANSCRIPT_REFINED = "transcript/refined"
    RESPONSE = "response"
    STREAM_START = "response/stream/start"
    STREAM_CHUNK = "response/stream/chunk"
    STREAM_COMPLETE = "response/stream/complete"
    DISPLAY_ACTION = "display_action"
    TOOL_EXECUTED = "tool_executed"
    OVERLAY_HINT = "overlay_hint"


_VOICE_TYPES: Final = {member.value: member for member in VoiceType}


class DeviceTopicType(StrEnum):
    """The per-device topics a device publishes on."""

    ANNOUNCE = "announce"
    STATUS = "status"
    HEARTBEAT = "heartbeat"
    EVENTS = "events"
    LWT = "lwt"


_DEVICE_TYPES: Final = {
    member.value: member
    for member in DeviceTopicType
    if member is not DeviceTopicType.ANNOUNCE
}


class Layout(StrEnum):
    """Which topic layout a voice message came on."""

    CURRENT = "current"  # the configured version
    LEGACY = "legacy"  # v0, listened to in migration mode


@dataclass(frozen=True, slots=True)
class VoiceTopic:
    """The parts of a voice session topic."""

    room_id: str
    session_id: str
    message_type: VoiceType


@dataclass(frozen=True, slots=True)
class DeviceTopic:
    """The parts of a device topic.

    device_id is empty for the announce topic, whose payload names the device.
    """

    device_id: str
    topic_type: DeviceTopicType


@dataclass(frozen=True, slots=True)
class TopicScheme:
    """Every topic of a configured namespace: building, filters and parsing."""

    version: str = DEFAULT_VERSION
    base: str = DEFAULT_BASE
    device_prefix: str = DEFAULT_DEVICE_PREFIX
    session_prefix: str = DEFAULT_SESSION_PREFIX
    admin_prefix: str = DEFAULT_ADMIN_PREFIX
    xiaozhi_prefix: str = DEFAULT_XIAOZHI_PREFIX

    def validate(self) -> TopicScheme:
        """Raise IdentifierError naming nothing; callers check field by field."""
        if self.version != LEGACY_VERSION:
            validate_identifier(self.version)
        for prefix in (
            self.base,
            self.device_prefix,
            self.session_prefix,
            self.admin_prefix,
            self.xiaozhi_prefix,
        ):
            validate_prefix(prefix)
        return self

    @property
    def is_legacy(self) -> bool:
        """Tell whether this is the v0 layout."""
        return self.version == LEGACY_VERSION

    def legacy(self) -> TopicScheme:
        """Return the same namespace in the v0 layout."""
        return replace(self, version=LEGACY_VERSION)

    @property
    def voice_root(self) -> str:
        """Return `{version}/{base}`, or `{base}` for v0."""
        return f"{self.version}/{self.base}" if self.version else self.base

    # Voice session topics -------------------------------------------------

    @property
    def voice_filter(self) -> str:
        """Return the filter for every session of every room."""
        return f"{self.voice_root}/room/+/session/+/#"

    def room_filter(self, room_id: str) -> str:
        """Return the filter for every session of one room."""
        return f"{self.voice_root}/room/{validate_identifier(room_id)}/session/+/#"

    def voice_topic(
        self, room_id: str, session_id: str, message_type: VoiceType
    ) -> str:
        """Return the topic of one message type of one session."""
        return (
            f"{self.voice_root}/room/{validate_identifier(room_id)}"
            f"/session/{validate_identifier(session_id)}/{message_type}"
        )

    def parse_voice_topic(self, topic: str) -> VoiceTopic:
        """Split a voice topic of this layout, or raise ProtocolError."""
        head = f"{self.voice_root}/room/"
        if not topic.startswith(head):
            raise ProtocolError(Rejection.INVALID_TOPIC, "not a voice topic")
        parts = topic[len(head) :].split("/", 3)
        if len(parts) != 4 or parts[1] != "session":
            raise ProtocolError(Rejection.INVALID_TOPIC, "not a session topic")
        room_id, _, session_id, type_text = parts
        if not (is_valid_identifier(room_id) and is_valid_identifier(session_id)):
            raise ProtocolError(Rejection.INVALID_ID, "invalid room or session id")
        if (message_type := _VOICE_TYPES.get(type_text)) is None:
            raise ProtocolError(Rejection.UNKNOWN_TYPE, f"unknown type {type_text!r}")
        return VoiceTopic(room_id, session_id, message_type)

    # Device topics --------------------------------------------------------

    @property
    def device_filter(self) -> str:
        """Return the filter for announce, status, heartbeat, events and lwt.

        Three levels exactly: commands (four levels) are not received back.
        """
        return f"{self.device_prefix}/+/+"

    @property
    def announce_topic(self) -> str:
        """Return the topic devices announce themselves on."""
        return f"{self.device_prefix}/{ANNOUNCE_LEVEL}/{DeviceTopicType.ANNOUNCE}"

    def device_topic(self, device_id: str, topic_type: DeviceTopicType) -> str:
        """Return one of a device's own topics."""
        if topic_type is DeviceTopicType.ANNOUNCE:
            return self.announce_topic
        return f"{self.device_prefix}/{validate_identifier(device_id)}/{topic_type}"

    def device_command_topic(self, device_id: str, command: str) -> str:
        """Return the topic of a command to one device."""
        return (
            f"{self.device_prefix}/{validate_identifier(device_id)}"
            f"/commands/{validate_identifier(command)}"
        )

    def session_command_topic(self, session_id: str, command: str) -> str:
        """Return the topic of a command to every device in a session."""
        return (
            f"{self.session_prefix}/{validate_identifier(session_id)}"
            f"/commands/{validate_identifier(command)}"
        )

    def parse_device_topic(self, topic: str) -> DeviceTopic:
        """Split a device topic, or raise ProtocolError."""
        head = f"{self.device_prefix}/"
        if not topic.startswith(head):
            raise ProtocolError(Rejection.INVALID_TOPIC, "not a device topic")
        parts = topic[len(head) :].split("/")
        if len(parts) != 2:
            raise ProtocolError(Rejection.INVALID_TOPIC, "not a device topic")
        device_id, type_text = parts
        if device_id == ANNOUNCE_LEVEL and type_text == DeviceTopicType.ANNOUNCE:
            return DeviceTopic("", DeviceTopicType.ANNOUNCE)
        if (topic_type := _DEVICE_TYPES.get(type_text)) is None:
            raise ProtocolError(Rejection.UNKNOWN_TYPE, f"unknown type {type_text!r}")
        if not is_valid_identifier(device_id):
            raise ProtocolError(Rejection.INVALID_ID, "invalid device id")
        return DeviceTopic(device_id, topic_type)

    # Admin and xiaozhi ----------------------------------------------------

    @property
    def admin_snapshot_topic(self) -> str:
        """Return the retained topic of the device list."""
        return f"{self.admin_prefix}/devices/snapshot"

    @property
    def admin_request_topic(self) -> str:
        """Return the topic on which anyone asks for a new snapshot."""
        return f"{self.admin_prefix}/request/snapshot"

    def ws_start_topic(self, mac: str) -> str:
        """Return the down topic of a xiaozhi device; mac in any notation."""
        return f"{self.xiaozhi_prefix}/{normalize_mac(mac)}/down"


# Payloads -------------------------------------------------------------------


class TranscriptStage(StrEnum):
    """How far speech recognition has got with an utterance."""

    INTERIM = "interim"
    FINAL = "final"
    REFINED = "refined"


@dataclass(frozen=True, slots=True)
class StateUpdate:
    """The session's assistant state changed."""

    state: str
    timestamp: datetime | None = None


@dataclass(frozen=True, slots=True)
class Transcript:
    """What the user said, at one stage of recognition."""

    text: str
    stage: TranscriptStage
    sequence: int | None = None
    confidence: float | None = None
    timestamp: datetime | None = None


@dataclass(frozen=True, slots=True)
class Response:
    """The assistant's complete answer."""

    text: str
    timestamp: datetime | None = None


@dataclass(frozen=True, slots=True)
class StreamStart:
    """A streamed answer begins."""

    timestamp: datetime | None = None


@dataclass(frozen=True, slots=True)
class StreamChunk:
    """One group of tokens of a streamed answer."""

    chunk: str
    timestamp: datetime | None = None


@dataclass(frozen=True, slots=True)
class StreamComplete:
    """A streamed answer ended."""

    timestamp: datetime | None = None


@dataclass(frozen=True, slots=True)
class DisplayAction:
    """Switch a UI panel."""

    action_type: str
    data: dict[str, Any]
    timestamp: datetime | None = None


@dataclass(frozen=True, slots=True)
class ToolExecuted:
    """The backend ran a tool."""

    tool_name: str
    success: bool
    timestamp: datetime | None = None


@dataclass(frozen=True, slots=True)
class OverlayHint:
    """Whether UIs should keep their overlay open."""

    keep_open: bool
    timestamp: datetime | None = None


type VoicePayload = (
    StateUpdate
    | Transcript
    | Response
    | StreamStart
    | StreamChunk
    | StreamComplete
    | DisplayAction
    | ToolExecuted
    | OverlayHint
)


@dataclass(frozen=True, slots=True)
class VoiceMessage:
    """A parsed voice session message."""

    room_id: str
    session_id: str
    message_type: VoiceType
    payload: VoicePayload


@dataclass(frozen=True, slots=True)
class Announce:
    """A device says it exists."""

    device_id: str
    device_type: str | None = None
    name: str | None = None
    timestamp: datetime | None = None


@dataclass(frozen=True, slots=True)
class DeviceStatus:
    """A device's retained status."""

    status: str
    device_id: str | None = None
    device_type: str | None = None
    position_ms: int | None = None
    session_id: str | None = None
    timestamp: datetime | None = None


@dataclass(frozen=True, slots=True)
class Heartbeat:
    """A device is alive."""

    device_id: str | None = None
    device_type: str | None = None
    status: str | None = None
    timestamp: datetime | None = None


@dataclass(frozen=True, slots=True)
class DeviceEvent:
    """A device-defined event object."""

    data: dict[str, Any]
    timestamp: datetime | None = None


@dataclass(frozen=True, slots=True)
class LastWill:
    """The broker says a device's connection died (or, rarely, the device is back)."""

    online: bool
    device_id: str | None = None
    timestamp: datetime | None = None


type DevicePayload = Announce | DeviceStatus | Heartbeat | DeviceEvent | LastWill


@dataclass(frozen=True, slots=True)
class DeviceMessage:
    """A parsed device message; device_id is the topic's id (the announce's own)."""

    device_id: str
    topic_type: DeviceTopicType
    payload: DevicePayload
    id_mismatch: bool = False


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def decode_object(raw: bytes | bytearray | str) -> dict[str, Any] | None:
    """Return the JSON object in raw, None for an empty payload, or raise.

    Size is checked before anything is decoded, so a huge payload costs nothing.
    """
    if len(raw) > MAX_PAYLOAD_BYTES:
        raise ProtocolError(Rejection.OVERSIZE, f"{len(raw)} bytes")
    if isinstance(raw, bytes | bytearray):
        try:
            text = bytes(raw).decode("utf-8")
        except UnicodeDecodeError as err:
            raise ProtocolError(Rejection.NOT_UTF8, str(err)) from None
    else:
        text = raw
        if len(text.encode("utf-8", "surrogatepass")) > MAX_PAYLOAD_BYTES:
            raise ProtocolError(Rejection.OVERSIZE, "over 64 KiB")
    if not text.strip():
        return None
    try:
        value = json.loads(text, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as err:
        # ValueError covers JSONDecodeError, NaN/Infinity and over-long integers.
        raise ProtocolError(Rejection.INVALID_JSON, str(err)[:100]) from None
    if not isinstance(value, dict):
        raise ProtocolError(Rejection.NOT_AN_OBJECT, type(value).__name__)
    return value


def _field_error(name: str, expected: str) -> ProtocolError:
    return ProtocolError(Rejection.INVALID_FIELD, f"{name} must be {expected}")


def _text(data: dict[str, Any], name: str) -> str | None:
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise _field_error(name, "a string")
    return value


def _required_text(data: dict[str, Any], name: str) -> str:
    if (value := _text(data, name)) is None:
        raise _field_error(name, "present")
    return value


def _non_empty(data: dict[str, Any], name: str) -> str:
    value = _required_text(data, name)
    if not value:
        raise _field_error(name, "non-empty")
    return value


def _boolean(data: dict[str, Any], name: str) -> bool:
    value = data.get(name)
    if not isinstance(value, bool):
        raise _field_error(name, "true or false")
    return value


def _integer(data: dict[str, Any], name: str) -> int | None:
    value = data.get(name)
    if value is None:
        return None
    # bool is an int in Python, never in the protocol.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _field_error(name, "a number")
    if isinstance(value, float):
        if not value.is_integer():
            raise _field_error(name, "a whole number")
        value = int(value)
    return value


def _number(data: dict[str, Any], name: str) -> float | None:
    value = data.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _field_error(name, "a number")
    result = float(value)
    if not math.isfinite(result):
        raise _field_error(name, "finite")
    return result


def _object(data: dict[str, Any], name: str) -> dict[str, Any]:
    value = data.get(name)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _field_error(name, "an object")
    return value


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


def _timestamp(data: dict[str, Any]) -> datetime | None:
    try:
        return parse_timestamp(data.get("timestamp"))
    except ValueError as err:
        raise ProtocolError(Rejection.INVALID_FIELD, f"timestamp: {err}") from None


_TRANSCRIPT_STAGES: Final = {
    VoiceType.TRANSCRIPT: TranscriptStage.FINAL,  # the legacy final form
    VoiceType.TRANSCRIPT_INTERIM: TranscriptStage.INTERIM,
    VoiceType.TRANSCRIPT_FINAL: TranscriptStage.FINAL,
    VoiceType.TRANSCRIPT_REFINED: TranscriptStage.REFINED,
}


def parse_voice_payload(
    message_type: VoiceType, raw: bytes | bytearray | str
) -> VoicePayload | None:
    """Return the typed payload, None for an empty (cleared) one, or raise."""
    data = decode_object(raw)
    if data is None:
        return None
    timestamp = _timestamp(data)
    match message_type:
        case VoiceType.STATE:
            return StateUpdate(_non_empty(data, "state"), timestamp)
        case (
            VoiceType.TRANSCRIPT
            | VoiceType.TRANSCRIPT_INTERIM
            | VoiceType.TRANSCRIPT_FINAL
            | VoiceType.TRANSCRIPT_REFINED
        ):
            return Transcript(
                _required_text(data, "text"),
                _TRANSCRIPT_STAGES[message_type],
                _integer(data, "sequence"),
                _number(data, "confidence"),
                timestamp,
            )
        case VoiceType.RESPONSE:
            return Response(_required_text(data, "text"), timestamp)
        case VoiceType.STREAM_START:
            return StreamStart(timestamp)
        case VoiceType.STREAM_CHUNK:
            return StreamChunk(_required_text(data, "chunk"), timestamp)
        case VoiceType.STREAM_COMPLETE:
            return StreamComplete(timestamp)
        case VoiceType.DISPLAY_ACTION:
            return DisplayAction(
                _non_empty(data, "type"), _object(data, "data"), timestamp
            )
        case VoiceType.TOOL_EXECUTED:
            return ToolExecuted(
                _non_empty(data, "tool_name"), _boolean(data, "success"), timestamp
            )
        case VoiceType.OVERLAY_HINT:
            return OverlayHint(_boolean(data, "keep_open"), timestamp)


def parse_voice_message(
    scheme: TopicScheme, topic: str, raw: bytes | bytearray | str
) -> VoiceMessage | None:
    """Parse a voice topic and payload; None when the payload is empty."""
    parts = scheme.parse_voice_topic(topic)
    payload = parse_voice_payload(parts.message_type, raw)
    if payload is None:
        return None
    return VoiceMessage(parts.room_id, parts.session_id, parts.message_type, payload)


def _optional_id(data: dict[str, Any], name: str) -> str | None:
    value = _text(data, name)
    if value is None or value == "":
        return None
    if not is_valid_identifier(value):
        raise ProtocolError(Rejection.INVALID_ID, f"{name} cannot be a topic level")
    return value


def parse_device_payload(
    topic_type: DeviceTopicType, raw: bytes | bytearray | str
) -> DevicePayload | None:
    """Return the typed payload, None for an empty (cleared) one, or raise."""
    data = decode_object(raw)
    if data is None:
        return None
    timestamp = _timestamp(data)
    match topic_type:
        case DeviceTopicType.ANNOUNCE:
            device_id = _optional_id(data, "deviceId")
            if device_id is None:
                raise _field_error("deviceId", "present")
            return Announce(
                device_id, _text(data, "type"), _text(data, "name"), timestamp
            )
        case DeviceTopicType.STATUS:
            position = _integer(data, "positionMs")
            if position is not None and position < 0:
                raise _field_error("positionMs", "zero or more")
            return DeviceStatus(
                _non_empty(data, "status"),
                _optional_id(data, "deviceId"),
                _text(data, "type"),
                position,
                _optional_id(data, "sessionId"),
                timestamp,
            )
        case DeviceTopicType.HEARTBEAT:
            return Heartbeat(
                _optional_id(data, "deviceId"),
                _text(data, "type"),
                _text(data, "status"),
                timestamp,
            )
        case DeviceTopicType.EVENTS:
            return DeviceEvent(data, timestamp)
        case DeviceTopicType.LWT:
            # A Last Will says offline; a device that reuses its will topic as a
            # birth message ("online") is taken at its word.
            status = _text(data, "status")
            return LastWill(
                status == "online", _optional_id(data, "deviceId"), timestamp
            )


def parse_device_message(
    scheme: TopicScheme, topic: str, raw: bytes | bytearray | str
) -> DeviceMessage | None:
    """Parse a device topic and payload; None when the payload is empty.

    A payload whose deviceId differs from the topic's id is attributed to the
    topic's id (the topic is what the broker's ACLs vouch for) and flagged.
    """
    parts = scheme.parse_device_topic(topic)
    payload = parse_device_payload(parts.topic_type, raw)
    if payload is None:
        return None
    if isinstance(payload, Announce):
        return DeviceMessage(payload.device_id, parts.topic_type, payload)
    claimed = getattr(payload, "device_id", None)
    return DeviceMessage(
        parts.device_id,
        parts.topic_type,
        payload,
        id_mismatch=claimed is not None and claimed != parts.device_id,
    )


# Outbound payloads -----------------------------------------------------------


def epoch_ms(moment: datetime) -> int:
    """Return epoch milliseconds, the backend's timestamp form."""
    return int(moment.timestamp() * 1000)


def encode(payload: dict[str, Any]) -> str:
    """Serialise an outbound payload compactly."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False)


def ws_start_payload(url: str, version: int) -> dict[str, Any]:
    """Return the ws_start payload of protocol.md section 3."""
    return {"type": "ws_start", "wss": url, "version": version}


def display_action_payload(
    action_type: str, data: dict[str, Any], moment: datetime
) -> dict[str, Any]:
    """Return a display_action payload stamped with epoch ms."""
    return {"type": action_type, "data": data, "timestamp": epoch_ms(moment)}
