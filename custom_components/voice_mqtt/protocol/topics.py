"""The topic scheme: every topic of a namespace, built and parsed, every version.

Pure Python: no Home Assistant import.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Final

from .values import (
    ProtocolError,
    Rejection,
    is_valid_identifier,
    normalize_mac,
    validate_identifier,
    validate_prefix,
)

DEFAULT_VERSION: Final = "v1"
LEGACY_VERSION: Final = ""  # v0: the layout without a version level
DEFAULT_BASE: Final = "voice_assistant"
DEFAULT_DEVICE_PREFIX: Final = "devices"
DEFAULT_SESSION_PREFIX: Final = "sessions"
DEFAULT_ADMIN_PREFIX: Final = "admin"
DEFAULT_XIAOZHI_PREFIX: Final = "xiaozhi"

ANNOUNCE_LEVEL: Final = "discovery"


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
    RESPONSE = "response"  # a device's answer to a command with a messageId


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
        """Return the filter for every topic a device publishes on.

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
