"""The wire protocol of the voice fleet: topics, payloads and the values in them.

Pure Python: nothing here (nor in the package's modules) imports Home
Assistant, so the simulator and the property-based tests can load the package
on its own. It follows shared/protocol.md; where they disagree, one of them
has a bug.

- values: identifiers, MACs, timestamps, numbers; why a message is refused
- topics: the topic scheme of a namespace, every version, built and parsed
- payloads: what each message says (typed models), and what we send
- decoding: raw bytes to those models, or a ProtocolError
"""

from __future__ import annotations

from .decoding import (
    decode_object,
    parse_device_message,
    parse_device_payload,
    parse_voice_message,
    parse_voice_payload,
)
from .payloads import (
    OFFLINE,
    Announce,
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
    display_action_payload,
    encode,
    ws_start_payload,
)
from .topics import (
    ANNOUNCE_LEVEL,
    DEFAULT_ADMIN_PREFIX,
    DEFAULT_BASE,
    DEFAULT_DEVICE_PREFIX,
    DEFAULT_SESSION_PREFIX,
    DEFAULT_VERSION,
    DEFAULT_XIAOZHI_PREFIX,
    LEGACY_VERSION,
    DeviceTopic,
    DeviceTopicType,
    Layout,
    TopicScheme,
    VoiceTopic,
    VoiceType,
)
from .values import (
    MAX_ID_LENGTH,
    MAX_PAYLOAD_BYTES,
    IdentifierError,
    ProtocolError,
    Rejection,
    epoch_ms,
    is_valid_identifier,
    normalize_mac,
    parse_timestamp,
    validate_identifier,
    validate_prefix,
)

__all__ = [
    "ANNOUNCE_LEVEL",
    "DEFAULT_ADMIN_PREFIX",
    "DEFAULT_BASE",
    "DEFAULT_DEVICE_PREFIX",
    "DEFAULT_SESSION_PREFIX",
    "DEFAULT_VERSION",
    "DEFAULT_XIAOZHI_PREFIX",
    "LEGACY_VERSION",
    "MAX_ID_LENGTH",
    "MAX_PAYLOAD_BYTES",
    "OFFLINE",
    "Announce",
    "DeviceEvent",
    "DeviceMessage",
    "DevicePayload",
    "DeviceStatus",
    "DeviceTopic",
    "DeviceTopicType",
    "DisplayAction",
    "Heartbeat",
    "IdentifierError",
    "LastWill",
    "Layout",
    "OverlayHint",
    "ProtocolError",
    "Rejection",
    "Response",
    "StateUpdate",
    "StreamChunk",
    "StreamComplete",
    "StreamStart",
    "ToolExecuted",
    "TopicScheme",
    "Transcript",
    "TranscriptStage",
    "VoiceMessage",
    "VoicePayload",
    "VoiceTopic",
    "VoiceType",
    "decode_object",
    "display_action_payload",
    "encode",
    "epoch_ms",
    "is_valid_identifier",
    "normalize_mac",
    "parse_device_message",
    "parse_device_payload",
    "parse_timestamp",
    "parse_voice_message",
    "parse_voice_payload",
    "validate_identifier",
    "validate_prefix",
    "ws_start_payload",
]
