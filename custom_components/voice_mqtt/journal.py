"""Bus events that say what a logbook row of an entity cannot.

Home Assistant's logbook shows an event entity's state change by its event
type alone ("Tool executed: Failed", "Display action: Display action") and a
connectivity sensor's as "Disconnected": no tool, no panel, no reason. An
integration cannot reword those rows: the logbook builds them from the
states table and the frontend phrases them from the state and the event
type, the one attribute it exposes. What an integration can do is describe
bus events of its own (logbook.py), so next to each such change one event
says the rest:

- `voice_mqtt_tool_executed` (tool_name, success) and
  `voice_mqtt_display_action` (type), fired by the room's event entity when
  it fires, so a retained message replayed after a restart logs nothing
  twice, as the entity fires nothing twice;
- `voice_mqtt_device_offline` (reason: last_will, status or
  heartbeat_timeout), when a device known online goes offline.

Each carries `entity_id` and `device_id`, which is how the logbook's queries
attach an event to an entity and a device: the row shows in the entity's and
the device's logbook, named after the entity. The state rows stay (nothing
but the user's own logbook filter drops them); they remain the history that
triggers and graphs follow, and ours is the one line that reads as a log.
The display action's `data` stays out of the bus event: the recorder would
store up to 8 KiB again, for every panel shown.
"""

from __future__ import annotations

from typing import Any, Final

from homeassistant.const import ATTR_DEVICE_ID, ATTR_ENTITY_ID, Platform
from homeassistant.core import HomeAssistant, callback

from .const import DOMAIN
from .fleet import Device
from .listeners import Scope
from .presence import OfflineReason
from .registry import RegistrySync

EVENT_TOOL_EXECUTED: Final = f"{DOMAIN}_tool_executed"
EVENT_DISPLAY_ACTION: Final = f"{DOMAIN}_display_action"
EVENT_DEVICE_OFFLINE: Final = f"{DOMAIN}_device_offline"

ATTR_CONFIG_ENTRY_ID: Final = "config_entry_id"
ATTR_HEARTBEAT_TIMEOUT: Final = "heartbeat_timeout"


class Journal:
    """Tells the bus when a device known online went offline, and why."""

    def __init__(self, hass: HomeAssistant, registry: RegistrySync) -> None:
        """Find entities and devices through registry."""
        self._hass = hass
        self._registry = registry

    @callback
    def went_offline(self, device: Device) -> None:
        """Fire the offline event of a device that was online until now."""
        presence = device.presence
        data: dict[str, Any] = {
            "voice_device_id": device.device_id,
            "reason": presence.offline_reason,
            ATTR_ENTITY_ID: self._registry.entity_id(
                Scope.DEVICE, device.device_id, Platform.BINARY_SENSOR, "connectivity"
            ),
            ATTR_DEVICE_ID: self._registry.device_id(Scope.DEVICE, device.device_id),
            ATTR_CONFIG_ENTRY_ID: self._registry.entry_id,
        }
        if presence.offline_reason is OfflineReason.HEARTBEAT_TIMEOUT:
            data[ATTR_HEARTBEAT_TIMEOUT] = presence.timeout
        self._hass.bus.async_fire(EVENT_DEVICE_OFFLINE, data)
