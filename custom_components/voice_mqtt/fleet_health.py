"""Fleet health: who is online, who is not, and who keeps dropping off.

Nothing here runs per heartbeat. On a presence change: the sets of devices
online and offline now (the bridge's counts cost nothing to read), each
device's connections lost today (reset at local midnight), when it was last
seen, and a repair issue for a device that lost its connection more than
FLAP_LOSSES times within FLAP_WINDOW, cleared once it has stayed up for
STEADY. Every CHECK_EVERY: the last-seen times of devices online (so that
sensor, disabled by default, moves at most every 5 minutes) and the flappers.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Final

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.event import (
    async_track_time_change,
    async_track_time_interval,
)

from .const import DOMAIN
from .fleet import Device, DeviceAspect
from .issues import raise_issue
from .journal import Journal
from .registry import RegistrySync
from .timers import wall_clock

FLAP_LOSSES: Final = 5  # more losses than this within FLAP_WINDOW: flapping
FLAP_WINDOW: Final = 3600.0  # seconds
STEADY: Final = 3600.0  # seconds up, and no loss, before the issue clears
CHECK_EVERY: Final = timedelta(minutes=5)


def flapping_issue_id(entry_id: str, device_id: str) -> str:
    """Return the id of a device's flapping repair issue."""
    return f"flapping_{entry_id}_{device_id}"


class FleetHealth:
    """Keeps the fleet's presence figures, per change."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ConfigEntry,
        registry: RegistrySync,
        changed: Callable[[str, str], None],
    ) -> None:
        """Call changed(device_id, aspect) when a figure moves without a message."""
        self._hass = hass
        self._entry = entry
        self._journal = Journal(hass, registry)
        self.online: set[str] = set()
        self.offline: set[str] = set()
        self._changed = changed
        self._losses: dict[str, deque[float]] = {}
        self.flapping: set[str] = set()
        self._devices: dict[str, Device] = {}

    @callback
    def start(self, devices: dict[str, Device]) -> CALLBACK_TYPE:
        """Reset the day's counts at midnight, look at the fleet now and then."""
        self._devices = devices
        stops = (
            async_track_time_change(self._hass, self._new_day, 0, 0, 0),
            async_track_time_interval(self._hass, self._check, CHECK_EVERY),
        )

        @callback
        def stop() -> None:
            for each in stops:
                each()

        return stop

    @callback
    def presence_changed(self, device: Device) -> None:
        """Take a device's new presence."""
        device_id = device.device_id
        now = self._hass.loop.time()
        self._seen(device)
        if device.online:
            self.online.add(device_id)
            self.offline.discard(device_id)
            return
        if device.online is False:
            self.offline.add(device_id)
        if device_id in self.online:
            self.online.discard(device_id)
            self._journal.went_offline(device)
            self._lost(device, now)

    def _lost(self, device: Device, now: float) -> None:
        device.lost_today += 1
        losses = self._losses.setdefault(
            device.device_id, deque(maxlen=FLAP_LOSSES + 1)
        )
        losses.append(now)
        if (
            len(losses) > FLAP_LOSSES
            and now - losses[0] <= FLAP_WINDOW
            and device.device_id not in self.flapping
        ):
            self.flapping.add(device.device_id)
            self._raise(device)

    def _raise(self, device: Device) -> None:
        raise_issue(
            self._hass,
            flapping_issue_id(self._entry.entry_id, device.device_id),
            "device_flapping",
            {
                "device": device.name or device.device_id,
                "device_id": device.device_id,
                "losses": str(FLAP_LOSSES + 1),
                "minutes": str(round(FLAP_WINDOW / 60)),
            },
        )

    def _seen(self, device: Device) -> None:
        if device.heard is None:
            return
        seen = wall_clock(self._hass, device.heard).replace(microsecond=0)
        if seen != device.seen_at:
            device.seen_at = seen
            self._changed(device.device_id, DeviceAspect.LAST_SEEN)

    @callback
    def _check(self, _now: datetime) -> None:
        for device_id in self.online:
            self._seen(self._devices[device_id])
        now = self._hass.loop.time()
        for device_id in list(self.flapping):
            device = self._devices.get(device_id)
            losses = self._losses.get(device_id)
            steady = losses is None or now - losses[-1] >= STEADY
            if device is None or (device.online and steady):
                self._settled(device_id)

    def _settled(self, device_id: str) -> None:
        self.flapping.discard(device_id)
        self._losses.pop(device_id, None)
        ir.async_delete_issue(
            self._hass, DOMAIN, flapping_issue_id(self._entry.entry_id, device_id)
        )

    @callback
    def forget(self, device_id: str) -> None:
        """A device was removed: no count, no record, no issue."""
        self.online.discard(device_id)
        self.offline.discard(device_id)
        self._losses.pop(device_id, None)
        if device_id in self.flapping:
            self._settled(device_id)

    @callback
    def _new_day(self, _now: datetime) -> None:
        for device in self._devices.values():
            if device.lost_today:
                device.lost_today = 0
                self._changed(device.device_id, DeviceAspect.PRESENCE)
