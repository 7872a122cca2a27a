"""Fleet health: who is online, who is not, and who keeps dropping off.

Nothing here runs per heartbeat. On a presence change: the sets of devices
online and offline now (the bridge's counts cost nothing to read), each
device's connections lost today (reset at local midnight), when it was last
seen, and a repair issue for a device that lost its connection more than
FLAP_LOSSES times within FLAP_WINDOW, cleared once it has stayed up for
STEADY. A device known online that goes offline fires
`voice_mqtt_device_offline` with the reason (its Last Will, its status, no
heartbeat), which the logbook shows on its connectivity sensor. Every
CHECK_EVERY: the last-seen times of devices online (so that sensor, disabled
by default, moves at most every 5 minutes) and the flappers.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, Final

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import ATTR_DEVICE_ID, ATTR_ENTITY_ID, Platform
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers.event import (
    async_track_time_change,
    async_track_time_interval,
)

from ..const import (
    ATTR_CONFIG_ENTRY_ID,
    ATTR_HEARTBEAT_TIMEOUT,
    EVENT_DEVICE_OFFLINE,
    Scope,
)
from ..dispatch.timers import wall_clock
from ..issues.catalog import IssueKind, clear_issue, raise_issue
from ..models.device import Device, DeviceAspect
from ..models.presence import OfflineReason
from ..registry.devices import RegistrySync

FLAP_LOSSES: Final = 5  # more losses than this within FLAP_WINDOW: flapping
FLAP_WINDOW: Final = 3600.0  # seconds
STEADY: Final = 3600.0  # seconds up, and no loss, before the issue clears
CHECK_EVERY: Final = timedelta(minutes=5)


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
        self._registry = registry
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
            self._went_offline(device)
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
            self._entry.entry_id,
            IssueKind.DEVICE_FLAPPING,
            {
                "device": device.name or device.device_id,
                "device_id": device.device_id,
                "losses": str(FLAP_LOSSES + 1),
                "minutes": str(round(FLAP_WINDOW / 60)),
            },
            subject=device.device_id,
        )

    @callback
    def _went_offline(self, device: Device) -> None:
        """Tell the bus that a device known online went offline, and why."""
        presence, registry = device.presence, self._registry
        data: dict[str, Any] = {
            "voice_device_id": device.device_id,
            "reason": presence.offline_reason,
            ATTR_ENTITY_ID: registry.entity_id(
                Scope.DEVICE, device.device_id, Platform.BINARY_SENSOR, "connectivity"
            ),
            ATTR_DEVICE_ID: registry.device_id(Scope.DEVICE, device.device_id),
            ATTR_CONFIG_ENTRY_ID: registry.entry_id,
        }
        if presence.offline_reason is OfflineReason.HEARTBEAT_TIMEOUT:
            data[ATTR_HEARTBEAT_TIMEOUT] = presence.timeout
        self._hass.bus.async_fire(EVENT_DEVICE_OFFLINE, data)

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
        clear_issue(
            self._hass, self._entry.entry_id, IssueKind.DEVICE_FLAPPING, device_id
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
