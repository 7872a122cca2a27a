"""The admin snapshot: the device list, published retained for admin panels.

Whoever acts as the backend publishes it (protocol.md section 2); with the
option on, Home Assistant does, at most once a second, when a device changes
or when anyone asks on the request topic.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
import logging
from typing import Any

from homeassistant.components import mqtt
from homeassistant.components.mqtt import ReceiveMessage
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.util import dt as dt_util

from ..broker.intake import Intake
from ..const import DOMAIN
from ..dispatch.timers import wall_clock
from ..models.device import Device
from ..models.settings import Settings
from ..protocol import encode

_LOGGER = logging.getLogger(__name__)

# The admin snapshot is published at most once a second.
SNAPSHOT_INTERVAL = 1.0


class AdminSnapshot:
    """Publishes the device list, now or as soon as a second has passed."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ConfigEntry,
        settings: Settings,
        devices: Mapping[str, Device],
        intake: Intake,
    ) -> None:
        """Describe devices (the hub's own mapping) when the option is on."""
        self._intake = intake
        self._hass = hass
        self._entry = entry
        self._settings = settings
        self._devices = devices
        self._timer: asyncio.TimerHandle | None = None
        self._published = -SNAPSHOT_INTERVAL

    @callback
    def requested(self, msg: ReceiveMessage) -> None:
        """Somebody asked for the device list on the request topic."""
        self._intake.received["admin"] += 1
        self.schedule()

    @callback
    def schedule(self) -> None:
        """Publish the device list now, or as soon as a second has passed."""
        if not self._settings.admin_snapshot or self._timer is not None:
            return
        due = self._published + SNAPSHOT_INTERVAL
        if self._hass.loop.time() >= due:
            self._publish()
        else:
            self._timer = self._hass.loop.call_at(due, self._publish)

    @callback
    def _publish(self) -> None:
        self._timer = None
        self._published = self._hass.loop.time()
        payload = encode(
            {
                "devices": [
                    self._entry_of(self._devices[device_id])
                    for device_id in sorted(self._devices)
                ],
                "timestamp": dt_util.utcnow().isoformat(),
            }
        )
        self._entry.async_create_background_task(
            self._hass, self._async_publish(payload), f"{DOMAIN} admin snapshot"
        )

    def _entry_of(self, device: Device) -> dict[str, Any]:
        heard = device.heard
        return device.snapshot_entry(
            None if heard is None else wall_clock(self._hass, heard)
        )

    async def _async_publish(self, payload: str) -> None:
        try:
            await mqtt.async_publish(
                self._hass,
                self._settings.scheme.admin_snapshot_topic,
                payload,
                self._settings.qos,
                retain=True,
            )
        except HomeAssistantError as err:
            _LOGGER.warning("Could not publish the admin device snapshot: %s", err)

    def cancel(self) -> None:
        """Drop a pending publish (the entry is unloading)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None


async def async_clear_snapshot(hass: HomeAssistant, settings: Settings) -> None:
    """Remove the retained device list from the broker (the entry is removed)."""
    try:
        await mqtt.async_publish(
            hass, settings.scheme.admin_snapshot_topic, "", settings.qos, retain=True
        )
    except HomeAssistantError as err:
        _LOGGER.warning("Could not clear the retained admin device snapshot: %s", err)
