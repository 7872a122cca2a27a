"""Whether a voice device is online: the presence rules of protocol.md section 2.

A pure state machine (no Home Assistant imports): time comes in as `now`, a
monotonic number of seconds, so the rules are tested without clocks or loops.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Final

DEFAULT_HEARTBEAT_TIMEOUT: Final = 45.0  # three missed 15 s heartbeats


class Presence(StrEnum):
    """What is known of a device's connection."""

    UNKNOWN = "unknown"  # no evidence yet (e.g. restored from the registry)
    ONLINE = "online"
    OFFLINE = "offline"


class OfflineReason(StrEnum):
    """Why a device went offline, as its logbook and bus event say."""

    LAST_WILL = "last_will"
    STATUS = "status"  # its own status said offline
    HEARTBEAT_TIMEOUT = "heartbeat_timeout"


@dataclass(slots=True)
class PresenceTracker:
    """The online/offline state of one device.

    Online after an announce, a status other than offline, or a heartbeat;
    offline after its Last Will, a status of offline, or silence longer than
    the timeout. Live messages apply in the order they arrive.

    A replayed message (delivered from the broker's store with the retain flag,
    after a restart or reconnect) is history. The broker keeps two topics per
    device, status and Last Will; when a replayed one is older than the newest
    of those two already applied, it is ignored, so a stale retained Last Will
    cannot mark a live device offline. Without timestamps the later arrival
    wins. Heartbeats are not kept by the broker and set no such time: a
    device's own retained status must not look stale next to its heartbeats.
    """

    timeout: float = DEFAULT_HEARTBEAT_TIMEOUT
    presence: Presence = Presence.UNKNOWN
    # Monotonic time after which silence means offline; None when not online.
    deadline: float | None = None
    # Newest timestamp of a kept topic (status or Last Will) applied so far.
    kept_time: datetime | None = None
    # While the broker connection is down silence proves nothing.
    suspended: bool = False
    # Why it went offline, while it is; None otherwise.
    offline_reason: OfflineReason | None = None

    def observe(
        self,
        online: bool,
        *,
        now: float,
        timestamp: datetime | None = None,
        kept: bool = False,
        replayed: bool = False,
        reason: OfflineReason | None = None,
    ) -> bool:
        """Apply one piece of evidence; return True when presence changed.

        kept: it came on a topic the broker keeps (status, Last Will).
        replayed: the broker delivered it from its store (the retain flag).
        reason: what evidence of offline this is (kept while it stays offline).
        """
        if (
            replayed
            and timestamp is not None
            and self.kept_time is not None
            and timestamp < self.kept_time
        ):
            return False
        if (
            (kept or replayed)
            and timestamp is not None
            and (self.kept_time is None or timestamp > self.kept_time)
        ):
            self.kept_time = timestamp
        self.deadline = now + self.timeout if online else None
        if online:
            return self._set(Presence.ONLINE)
        return self._set(Presence.OFFLINE, reason)

    def expire(self, now: float) -> bool:
        """Mark the device offline if it has been silent too long."""
        if self.suspended or self.deadline is None or now < self.deadline:
            return False
        self.deadline = None
        return self._set(Presence.OFFLINE, OfflineReason.HEARTBEAT_TIMEOUT)

    def suspend(self) -> None:
        """Stop the clock: no heartbeat can arrive while the broker is unreachable."""
        self.suspended = True

    def resume(self, now: float) -> None:
        """Restart the clock with a full timeout once messages can flow again."""
        self.suspended = False
        if self.deadline is not None:
            self.deadline = now + self.timeout

    def _set(self, presence: Presence, reason: OfflineReason | None = None) -> bool:
        changed = presence is not self.presence
        self.presence = presence
        if changed:
            # The first evidence of offline says why; a later one adds nothing.
            self.offline_reason = reason
        return changed
