"""What the device topics say about one voice device: protocol.md section 2.

Pure Python (no Home Assistant imports). A Device takes parsed messages and
says which aspects changed, so the hub wakes only the entities concerned and a
heartbeat that changes nothing costs no state write.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Final

from ..protocol import (
    OFFLINE,
    PAUSED,
    PLAYING,
    Announce,
    DeviceEvent,
    DeviceMessage,
    DeviceStatus,
    Heartbeat,
    LastWill,
)
from .presence import (
    DEFAULT_HEARTBEAT_TIMEOUT,
    OfflineReason,
    Presence,
    PresenceTracker,
)

NO_SESSION: Final = "none"
# Device types that play media whatever their status has said so far.
PLAYING_TYPES: Final = frozenset({"vr"})


class DeviceAspect(StrEnum):
    """A part of a device that entities show; what a change notifies."""

    PRESENCE = "presence"
    STATUS = "status"
    EVENT = "event"
    INFO = "info"  # name or type: the registry entry, not an entity
    LAST_SEEN = "last_seen"  # moved on presence changes and every 5 minutes
    PLAYS = "plays"  # it was found to play media: it gets a media player
    GROUP = "group"  # another device joined or left its session


@dataclass(frozen=True, slots=True)
class DeviceEventRecord:
    """The last device-defined event, as the event entity fires it."""

    data: dict[str, Any]
    timestamp: datetime | None
    retained: bool


@dataclass(slots=True)
class Device:
    """One voice device (box, headset or browser simulator)."""

    device_id: str
    name: str | None = None
    device_type: str | None = None
    presence: PresenceTracker = field(default_factory=PresenceTracker)
    status: str | None = None
    session_id: str | None = None
    position_ms: int | None = None
    duration_ms: int | None = None
    # Monotonic time of the last status that changed something: when the
    # position it carries was valid.
    status_heard: float | None = None
    # It plays media: its type is one that does, or a status said playing or
    # paused or carried a position (or, after a restart, it had its media
    # player). Once true, true for good: a device gets its player once.
    plays: bool = False
    # Timestamp of the status applied: an older replayed status is history.
    status_time: datetime | None = None
    event: DeviceEventRecord | None = None
    # Monotonic time of the last message: no wall clock is read per message.
    heard: float | None = None
    # Kept by fleet_health on presence changes and sweeps, not per message.
    seen_at: datetime | None = None
    lost_today: int = 0

    @classmethod
    def with_timeout(
        cls,
        device_id: str,
        timeout: float = DEFAULT_HEARTBEAT_TIMEOUT,
        name: str | None = None,
        device_type: str | None = None,
    ) -> Device:
        """Make a device whose silence means offline after timeout seconds."""
        return cls(
            device_id,
            name=name,
            device_type=device_type,
            presence=PresenceTracker(timeout=timeout),
        )

    @property
    def online(self) -> bool | None:
        """Return True or False, or None while nothing is known."""
        if self.presence.presence is Presence.UNKNOWN:
            return None
        return self.presence.presence is Presence.ONLINE

    def __post_init__(self) -> None:
        """A device of a type that plays (a headset) plays from the start."""
        if self.device_type in PLAYING_TYPES:
            self.plays = True

    @property
    def session(self) -> str | None:
        """Return the joined session, NO_SESSION, or None before any status."""
        if self.status is None:
            return None
        return self.session_id or NO_SESSION

    def apply(
        self, message: DeviceMessage, *, now: float, retained: bool = False
    ) -> set[DeviceAspect]:
        """Apply one message received at monotonic time now; return what changed."""
        self.heard = now
        payload = message.payload
        changes: set[DeviceAspect] = set()
        reason: OfflineReason | None = None
        match payload:
            case Announce():
                changes |= self._set_info(payload.name, payload.device_type)
                online = True
                kept = False
            case DeviceStatus():
                if (
                    retained
                    and payload.timestamp is not None
                    and self.status_time is not None
                    and payload.timestamp < self.status_time
                ):
                    return changes  # a replayed status older than the one shown
                changes |= self._set_info(None, payload.device_type)
                changes |= self._set_status(payload, now)
                online = payload.status != OFFLINE
                kept = True
                reason = OfflineReason.STATUS
            case Heartbeat():
                if payload.device_type != self.device_type:
                    changes |= self._set_info(None, payload.device_type)
                online = True
                kept = False
            case LastWill():
                online = payload.online
                kept = True
                reason = OfflineReason.LAST_WILL
            case DeviceEvent():
                self.event = DeviceEventRecord(
                    payload.data, payload.timestamp, retained
                )
                changes.add(DeviceAspect.EVENT)
                return changes
        if self.presence.observe(
            online,
            now=now,
            timestamp=payload.timestamp,
            kept=kept,
            replayed=retained,
            reason=reason,
        ):
            changes.add(DeviceAspect.PRESENCE)
        return changes

    def _set_info(self, name: str | None, device_type: str | None) -> set[DeviceAspect]:
        """Take a new name or type; a missing one keeps what is known."""
        changes: set[DeviceAspect] = set()
        if name and name != self.name:
            self.name = name
            changes.add(DeviceAspect.INFO)
        if device_type and device_type != self.device_type:
            self.device_type = device_type
            changes.add(DeviceAspect.INFO)
            if not self.plays and device_type in PLAYING_TYPES:
                self.plays = True
                changes.add(DeviceAspect.PLAYS)
        return changes

    def snapshot_entry(self, last_seen: datetime | None) -> dict[str, Any]:
        """Describe the device for the admin snapshot (the protocol's field names)."""
        return {
            "deviceId": self.device_id,
            "type": self.device_type,
            "name": self.name,
            "status": self.status,
            "sessionId": self.session_id,
            "online": self.online,
            "lastSeen": None if last_seen is None else last_seen.isoformat(),
        }

    def _set_status(self, payload: DeviceStatus, now: float) -> set[DeviceAspect]:
        if payload.timestamp is not None:
            self.status_time = payload.timestamp
        new = (
            payload.status,
            payload.session_id,
            payload.position_ms,
            payload.duration_ms,
        )
        if new == (self.status, self.session_id, self.position_ms, self.duration_ms):
            return set()  # a repeated status: what was shown still holds
        self.status, self.session_id, self.position_ms, self.duration_ms = new
        self.status_heard = now
        if self.plays or not (
            payload.status in (PLAYING, PAUSED) or payload.position_ms is not None
        ):
            return {DeviceAspect.STATUS}
        self.plays = True
        return {DeviceAspect.STATUS, DeviceAspect.PLAYS}


def suspend_presence(devices: Iterable[Device]) -> None:
    """Stop every device's clock: no heartbeat can arrive without the broker."""
    for device in devices:
        device.presence.suspend()


def resume_presence(devices: Iterable[Device], now: float) -> Iterator[float]:
    """Restart every device's clock with a full timeout; yield the deadlines."""
    for device in devices:
        device.presence.resume(now)
        if device.presence.deadline is not None:
            yield device.presence.deadline
