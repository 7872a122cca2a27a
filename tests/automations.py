"""Helpers of the device automation tests: a fleet to talk, automations to run."""

from __future__ import annotations

from typing import Any

from homeassistant.core import HomeAssistant, ServiceCall
from homeassistant.helpers import device_registry as dr
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_mock_service,
)

from custom_components.voice_mqtt.const import DOMAIN

from .common import send, voice_topic

DEVICE = "VR_12345"
ROOM = "living_room"
CONNECTIVITY = "binary_sensor.my_vr_device_connectivity"
STATUS = "sensor.my_vr_device_status"
CONVERSATION = "binary_sensor.living_room_voice_assistant_conversation_active"
TOOL = "event.living_room_voice_assistant_tool_executed"
DISPLAY = "event.living_room_voice_assistant_display_action"


class Fleet:
    """Speaks for one voice device and one room's backend, live."""

    def __init__(self, hass: HomeAssistant) -> None:
        self.hass = hass

    async def _sent(self, topic: str, payload: dict[str, Any]) -> None:
        send(self.hass, topic, payload)
        await self.hass.async_block_till_done()

    async def announce(self) -> None:
        await self._sent(
            "devices/discovery/announce",
            {"deviceId": DEVICE, "type": "vr", "name": "My VR Device"},
        )

    async def status(self, value: str) -> None:
        await self._sent(
            f"devices/{DEVICE}/status", {"deviceId": DEVICE, "status": value}
        )

    async def last_will(self) -> None:
        await self._sent(
            f"devices/{DEVICE}/lwt", {"deviceId": DEVICE, "status": "offline"}
        )

    async def heartbeat(self) -> None:
        await self._sent(f"devices/{DEVICE}/heartbeat", {"deviceId": DEVICE})

    async def room(self, message_type: str, payload: dict[str, Any]) -> None:
        await self._sent(voice_topic(ROOM, "S1", message_type), payload)

    async def room_state(self, state: str) -> None:
        await self.room("state", {"state": state})

    async def tool(self, name: str, *, success: bool) -> None:
        await self.room("tool_executed", {"tool_name": name, "success": success})

    async def display(self, action_type: str, data: dict[str, Any]) -> None:
        await self.room("display_action", {"type": action_type, "data": data})


def registry_device(
    hass: HomeAssistant, entry: MockConfigEntry, scope: str, object_id: str
) -> dr.DeviceEntry:
    """Return the registry device of a room or voice device."""
    device = dr.async_get(hass).async_get_device_by_identifier(
        (DOMAIN, f"{entry.entry_id}_{scope}_{object_id}"), entry.entry_id
    )
    assert device is not None
    return device


def bridge_device(hass: HomeAssistant, entry: MockConfigEntry) -> dr.DeviceEntry:
    """Return the entry's bridge device."""
    device = dr.async_get(hass).async_get_device_by_identifier(
        (DOMAIN, entry.entry_id), entry.entry_id
    )
    assert device is not None
    return device


async def automate(
    hass: HomeAssistant,
    triggers: list[dict[str, Any]],
    *,
    conditions: list[dict[str, Any]] | None = None,
    data: dict[str, Any] | None = None,
) -> list[ServiceCall]:
    """Set up one automation calling test.automation; return its calls."""
    calls = async_mock_service(hass, "test", "automation")
    assert await async_setup_component(
        hass,
        "automation",
        {
            "automation": {
                "alias": "under test",
                "triggers": triggers,
                "conditions": conditions or [],
                "actions": [{"action": "test.automation", "data": data or {}}],
            }
        },
    )
    await hass.async_block_till_done()
    return calls
