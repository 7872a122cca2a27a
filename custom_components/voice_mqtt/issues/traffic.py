"""The voice traffic's health: on another topic version, or gone silent.

Two repair issues, both free in the steady state:
- *Version mismatch.* One extra subscription hears the `state` messages of
  every version (5 to 10 per conversation, never the chunks); those of the
  entry's own layouts are dropped after one prefix comparison. Another
  version's make a repair issue, with a fix flow (repairs.py) that switches
  the version or turns migration mode on; it clears itself when that
  traffic has stopped for a while.
- *Backend silent.* Once a minute the rooms' last messages are compared with
  the option's delay while devices are online; nothing is done per message.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Final

from homeassistant.components.mqtt import ReceiveMessage
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers.event import async_track_time_interval

from ..broker.connection import Subscribe
from ..models.room import Room
from ..models.settings import Settings
from ..protocol import LEGACY_VERSION
from .catalog import IssueKind, clear_issue, raise_issue

# Another version's traffic must be gone this long for its issue to clear.
MISMATCH_CLEAR_AFTER: Final = 600.0
CHECK_INTERVAL: Final = timedelta(minutes=1)


class TrafficHealth:
    """Raises and clears the entry's version and silence repair issues."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ConfigEntry,
        settings: Settings,
        fleet: tuple[Mapping[str, Room], set[str]],
        link_down: Callable[[], bool],
    ) -> None:
        """Watch the hub's rooms and the ids of the devices online.

        While link_down() the fleet cannot be heard: that is the fleet link's
        issue, not a silent backend's.
        """
        self._hass = hass
        self._entry = entry
        self._settings = settings
        self._rooms, self._online = fleet
        self._link_down = link_down
        scheme = settings.scheme
        self._own = tuple(
            f"{root}/"
            for root in {
                scheme.voice_root,
                *([scheme.legacy().voice_root] if settings.migration else []),
            }
        )
        self._clear_timer: asyncio.TimerHandle | None = None
        self.seen: str | None = None  # the other version heard, "" for v0
        self.silent = False

    async def async_start(self, subscribe: Subscribe) -> CALLBACK_TYPE:
        """Subscribe to other versions' states; start the silence check."""
        for kind in (IssueKind.VERSION_MISMATCH, IssueKind.BACKEND_SILENT):
            clear_issue(self._hass, self._entry.entry_id, kind)
        base = self._settings.scheme.base
        await subscribe(f"+/{base}/room/+/session/+/state", self._other_version)
        if not self._settings.scheme.is_legacy and not self._settings.migration:
            await subscribe(f"{base}/room/+/session/+/state", self._other_version)
        return async_track_time_interval(
            self._hass, self._check_silence, CHECK_INTERVAL, cancel_on_shutdown=True
        )

    @callback
    def _other_version(self, msg: ReceiveMessage) -> None:
        topic = msg.topic
        if topic.startswith(self._own):
            return  # the steady state: the entry's own layout, heard already
        level = topic.partition("/")[0]
        version = (
            LEGACY_VERSION
            if topic.startswith(f"{self._settings.scheme.base}/")
            else level
        )
        if version != self.seen:
            self.seen = version
            self._raise_mismatch(version)
        if self._clear_timer is not None:
            self._clear_timer.cancel()
        self._clear_timer = self._hass.loop.call_later(
            MISMATCH_CLEAR_AFTER, self._clear_mismatch
        )

    def _raise_mismatch(self, version: str) -> None:
        configured = self._settings.scheme.version
        raise_issue(
            self._hass,
            self._entry.entry_id,
            IssueKind.VERSION_MISMATCH,
            {
                "entry": self._entry.title,
                "seen": version or "v0 (no version level)",
                "configured": configured or "v0 (no version level)",
            },
            fixable=True,
            data={"entry_id": self._entry.entry_id, "version": version},
        )

    @callback
    def _clear_mismatch(self) -> None:
        self._clear_timer = None
        self.seen = None
        clear_issue(self._hass, self._entry.entry_id, IssueKind.VERSION_MISMATCH)

    @callback
    def _check_silence(self, _now: datetime | None = None) -> None:
        minutes = self._settings.backend_silent_minutes
        heard = [room.heard for room in self._rooms.values() if room.heard is not None]
        if not minutes or not heard or self._link_down():
            return
        quiet = self._hass.loop.time() - max(heard) > minutes * 60
        silent = quiet and bool(self._online)
        if silent == self.silent:
            return
        self.silent = silent
        if not silent:
            clear_issue(self._hass, self._entry.entry_id, IssueKind.BACKEND_SILENT)
            return
        raise_issue(
            self._hass,
            self._entry.entry_id,
            IssueKind.BACKEND_SILENT,
            {
                "entry": self._entry.title,
                "minutes": str(minutes),
                "devices": str(len(self._online)),
            },
        )

    def cancel(self) -> None:
        """Stop the clearing timer (the entry is unloading)."""
        if self._clear_timer is not None:
            self._clear_timer.cancel()
            self._clear_timer = None
