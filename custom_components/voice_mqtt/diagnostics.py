"""Diagnostics: what the entry listens to and what it received or dropped."""

from __future__ import annotations

from typing import Any

from homeassistant.core import HomeAssistant

from .hub import VoiceMqttConfigEntry


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: VoiceMqttConfigEntry
) -> dict[str, Any]:
    """Return the namespace, options, subscriptions and message counts.

    Nothing here is secret: topics and counters only, no payload content.
    """
    hub = entry.runtime_data
    return {
        "namespace": dict(entry.data),
        "options": dict(entry.options),
        "connected": hub.connection.connected,
        "subscriptions": list(hub.subscriptions),
        "messages": hub.intake.as_dict(),
        "answers": hub.answers.as_dict(),
        # How many turns each room keeps; never what was said.
        "history": hub.history.summary(),
        "broker": hub.broker_health.as_dict() if hub.broker_health.enabled else None,
        "fleet_link": hub.fleet_link.as_dict() if hub.fleet_link.enabled else None,
        "known": {
            "rooms": len(hub.rooms),
            "devices": len(hub.devices),
            # New ones whose entities are not added yet (a flood is paced).
            "rooms_waiting": hub.room_arrivals.waiting,
            "devices_waiting": hub.device_arrivals.waiting,
        },
        "limits": hub.limits.as_dict(),
    }
