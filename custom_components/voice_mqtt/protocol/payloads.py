"""The payload models: what each message says once decoded, and what we send.

Pure Python: no Home Assistant import.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
import json
from typing import Any, Final

from .topics import DeviceTopicType, VoiceType
from .values import MAX_NAME_LENGTH, epoch_ms

# The status a device's Last Will and its clean goodbye say.
OFFLINE: Final = "offline"
# Statuses of a device that plays media (protocol.md section 4); idle is IDLE.
PLAYING: Final = "playing"
PAUSED: Final = "paused"

# Assistant states of a voice session that the models act on (protocol.md
# section 1); any other is shown as it comes.
IDLE: Final = "idle"
ERROR: Final = "error"


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
    # How long what plays lasts, when the device says (protocol.md section 4).
    duration_ms: int | None = None


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


@dataclass(frozen=True, slots=True)
class CommandAnswer:
    """A device's answer to the command that carried message_id."""

    message_id: str
    succeeded: bool
    result: dict[str, Any]
    timestamp: datetime | None = None

    @property
    def error(self) -> str:
        """Return what a failed answer says went wrong, briefly."""
        reason = self.result.get("error")
        return "no reason given" if reason is None else str(reason)[:MAX_NAME_LENGTH]


type DevicePayload = (
    Announce | DeviceStatus | Heartbeat | DeviceEvent | LastWill | CommandAnswer
)


@dataclass(frozen=True, slots=True)
class DeviceMessage:
    """A parsed device message; device_id is the topic's id (the announce's own)."""

    device_id: str
    topic_type: DeviceTopicType
    payload: DevicePayload
    id_mismatch: bool = False


# Outbound payloads -----------------------------------------------------------


def encode(payload: dict[str, Any]) -> str:
    """Serialise an outbound payload compactly."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False)


def ws_start_payload(url: str, version: int) -> dict[str, Any]:
    """Return the ws_start payload of protocol.md section 3."""
    return {"type": "ws_start", "wss": url, "version": version}


def command_payload(fields: Mapping[str, Any], moment: datetime) -> dict[str, Any]:
    """Return a device or session command: its fields, stamped in ISO 8601.

    Devices stamp their own messages in ISO 8601; commands follow suit. A
    timestamp among the fields is kept.
    """
    return {**fields, "timestamp": fields.get("timestamp", moment.isoformat())}


def display_action_payload(
    action_type: str, data: dict[str, Any], moment: datetime
) -> dict[str, Any]:
    """Return a display_action payload stamped with epoch ms."""
    return {"type": action_type, "data": data, "timestamp": epoch_ms(moment)}
