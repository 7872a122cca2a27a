"""Diagnostics of a config entry."""

from __future__ import annotations

from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_mqtt_message,
)
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator
from syrupy.assertion import SnapshotAssertion


async def test_diagnostics(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    integration: MockConfigEntry,
    snapshot: SnapshotAssertion,
) -> None:
    async_fire_mqtt_message(
        hass, "v1/voice_assistant/room/salon/session/S1/state", b"{nope"
    )
    async_fire_mqtt_message(hass, "devices/VR_1/heartbeat", b"[]")
    async_fire_mqtt_message(hass, "devices/VR_1/lwt", b"", retain=True)
    await hass.async_block_till_done()
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, integration)
    assert diagnostics == snapshot
