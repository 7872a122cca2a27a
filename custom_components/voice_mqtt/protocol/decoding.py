"""Decoding: raw bytes to typed payloads and messages, or a ProtocolError.

Every field is checked for its type and range; nothing a publisher sends can
make these functions raise anything else. Pure Python: no Home Assistant import.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
import json
from typing import Any, Final

from .payloads import (
    Announce,
    CommandAnswer,
    DeviceEvent,
    DeviceMessage,
    DevicePayload,
    DeviceStatus,
    DisplayAction,
    Heartbeat,
    LastWill,
    OverlayHint,
    Response,
    StateUpdate,
    StreamChunk,
    StreamComplete,
    StreamStart,
    ToolExecuted,
    Transcript,
    TranscriptStage,
    VoiceMessage,
    VoicePayload,
)
from .topics import DeviceTopicType, TopicScheme, VoiceType
from .values import (
    MAX_NAME_LENGTH,
    MAX_PAYLOAD_BYTES,
    OutOfRangeError,
    ProtocolError,
    Rejection,
    check_storable,
    finite_number,
    is_valid_identifier,
    parse_timestamp,
    whole_number,
)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


# One decoder for every message: json.loads with an option makes a new one
# each call, which costs more than decoding a heartbeat.
_DECODER: Final = json.JSONDecoder(parse_constant=_reject_constant)


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
        try:
            size = len(text.encode("utf-8"))
        except UnicodeEncodeError as err:
            raise ProtocolError(Rejection.NOT_UTF8, str(err)[:100]) from None
        if size > MAX_PAYLOAD_BYTES:
            raise ProtocolError(Rejection.OVERSIZE, "over 64 KiB")
    if not text.strip():
        return None
    try:
        value = _DECODER.decode(text)
    except (ValueError, RecursionError) as err:
        # ValueError covers JSONDecodeError, NaN/Infinity and over-long integers.
        raise ProtocolError(Rejection.INVALID_JSON, str(err)[:100]) from None
    if not isinstance(value, dict):
        raise ProtocolError(Rejection.NOT_AN_OBJECT, type(value).__name__)
    if "\\u" in text:
        _refuse_lone_surrogates(value)
    return value


def _refuse_lone_surrogates(value: dict[str, Any]) -> None:
    r"""Raise unless every string in value can be UTF-8.

    A JSON escape can make a lone surrogate ("\\ud800"): valid JSON, but no
    UTF-8 holds it, so Home Assistant could save neither its registries nor its
    restore state. Only payloads with escapes are checked; most have none.
    """
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise ProtocolError(Rejection.NOT_UTF8, "a lone surrogate") from None
    except RecursionError:
        raise ProtocolError(Rejection.TOO_DEEP, "nested too deep") from None


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
    return None if value is None else _checked(name, whole_number, value)


def _milliseconds(data: dict[str, Any], name: str) -> int | None:
    """Return a position or a duration: a whole number of ms, zero or more."""
    value = _integer(data, name)
    if value is not None and value < 0:
        raise _field_error(name, "zero or more")
    return value


def _number(data: dict[str, Any], name: str) -> float | None:
    value = data.get(name)
    return None if value is None else _checked(name, finite_number, value)


def _checked[T](name: str, convert: Callable[[object], T], value: object) -> T:
    """Convert a field's value; say which field was wrong, and how."""
    try:
        return convert(value)
    except OutOfRangeError as err:
        raise ProtocolError(Rejection.OUT_OF_RANGE, f"{name} {err}") from None
    except ValueError as err:
        raise ProtocolError(Rejection.INVALID_FIELD, f"{name} {err}") from None


def _object(data: dict[str, Any], name: str) -> dict[str, Any]:
    """Return an object that is passed through to Home Assistant, if storable."""
    value = data.get(name)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _field_error(name, "an object")
    check_storable(value)
    return value


def _name(data: dict[str, Any], name: str) -> str | None:
    """Return a name (a device's name or type, a tool, a panel), bounded."""
    value = _text(data, name)
    if value is not None and len(value) > MAX_NAME_LENGTH:
        raise _field_error(name, f"at most {MAX_NAME_LENGTH} characters")
    return value


def _required_name(data: dict[str, Any], name: str) -> str:
    value = _non_empty(data, name)
    _name(data, name)
    return value


def _timestamp(data: dict[str, Any]) -> datetime | None:
    value = data.get("timestamp")
    return None if value is None else _checked("timestamp", parse_timestamp, value)


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
                _required_name(data, "type"), _object(data, "data"), timestamp
            )
        case VoiceType.TOOL_EXECUTED:
            return ToolExecuted(
                _required_name(data, "tool_name"),
                _boolean(data, "success"),
                timestamp,
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
                device_id, _name(data, "type"), _name(data, "name"), timestamp
            )
        case DeviceTopicType.STATUS:
            return DeviceStatus(
                _non_empty(data, "status"),
                _optional_id(data, "deviceId"),
                _name(data, "type"),
                _milliseconds(data, "positionMs"),
                _optional_id(data, "sessionId"),
                timestamp,
                _milliseconds(data, "durationMs"),
            )
        case DeviceTopicType.HEARTBEAT:
            return Heartbeat(
                _optional_id(data, "deviceId"),
                _name(data, "type"),
                _text(data, "status"),
                timestamp,
            )
        case DeviceTopicType.EVENTS:
            check_storable(data)  # the whole object becomes the event's data
            return DeviceEvent(data, timestamp)
        case DeviceTopicType.LWT:
            # A Last Will says offline; a device that reuses its will topic as a
            # birth message ("online") is taken at its word.
            status = _text(data, "status")
            return LastWill(
                status == "online", _optional_id(data, "deviceId"), timestamp
            )
        case DeviceTopicType.RESPONSE:
            return _command_answer(data, timestamp)


_ANSWER_STATUSES: Final = {"success": True, "error": False}


def _command_answer(data: dict[str, Any], timestamp: datetime | None) -> CommandAnswer:
    message_id = _required_name(data, "messageId")
    if (succeeded := _ANSWER_STATUSES.get(_text(data, "status") or "")) is None:
        raise _field_error("status", "success or error")
    result = data.get("result", {})
    if not isinstance(result, dict):
        raise _field_error("result", "an object")
    check_storable(result)  # it becomes the action's response data
    return CommandAnswer(message_id, succeeded, result, timestamp)


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
