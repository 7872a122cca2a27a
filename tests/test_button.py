"""The button platform: *Start voice channel* on every device with a MAC address.

The platform's snapshot after the entity contract's scenario (with a voice
server URL, which the buttons need), then what a press publishes, which
devices have one, and what happens without a URL or when every try fails.
"""

from __future__ import annotations

from typing import Any
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.button import DOMAIN as BUTTON_DOMAIN, SERVICE_PRESS
from homeassistant.const import ATTR_ENTITY_ID, STATE_UNAVAILABLE, Platform
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.helpers.entity_platform import async_get_platforms
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import (
    MqttMockHAClient,
    MqttMockPahoClient,
)
from syrupy.assertion import SnapshotAssertion

from custom_components.voice_mqtt import services
from custom_components.voice_mqtt.const import DOMAIN
from tests.common import (
    assert_translated,
    disconnect,
    published,
    send,
)
from tests.scenario import snapshot_the_platform

URL = "wss://voice.example/ws"
MAC = "cc:ba:97:11:0e:84"
BUTTON = "button.cc_ba_97_11_0e_84_start_voice_channel"


@pytest.fixture
def platforms() -> list[Platform]:
    """The button platform alone."""
    return [Platform.BUTTON]


@pytest.fixture
def entry_options() -> dict[str, Any]:
    """An entry with a voice server: its devices with a MAC get the button."""
    return {"ws_url": URL}


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_buttons(
    hass: HomeAssistant,
    integration: MockConfigEntry,
    snapshot: SnapshotAssertion,
    freezer: FrozenDateTimeFactory,
) -> None:
    await snapshot_the_platform(hass, integration.entry_id, snapshot, freezer)


async def press(hass: HomeAssistant, entity_id: str = BUTTON) -> None:
    await hass.services.async_call(
        BUTTON_DOMAIN, SERVICE_PRESS, {ATTR_ENTITY_ID: entity_id}, blocking=True
    )


def heard(hass: HomeAssistant, device_id: str) -> None:
    send(hass, f"devices/{device_id}/status", {"status": "idle", "type": "voice_box"})


async def test_a_press_sends_ws_start_to_the_voice_server(
    hass: HomeAssistant, integration: MockConfigEntry, mqtt_mock: MqttMockHAClient
) -> None:
    heard(hass, MAC)
    await hass.async_block_till_done()
    await press(hass)
    # QoS 1 whatever the entry's QoS, not retained, as ws_start says.
    assert published(mqtt_mock) == [
        (
            f"xiaozhi/{MAC}/down",
            {"type": "ws_start", "wss": URL, "version": 3},
            1,
            False,
        )
    ]


async def test_only_devices_with_a_mac_address_have_one(
    hass: HomeAssistant, integration: MockConfigEntry, mqtt_mock: MqttMockHAClient
) -> None:
    heard(hass, "CCBA97110E85")  # a MAC in another notation
    heard(hass, "VB_0001")
    heard(hass, "VR_0001")
    await hass.async_block_till_done()
    assert hass.states.async_entity_ids(BUTTON_DOMAIN) == [
        "button.ccba97110e85_start_voice_channel"
    ]
    await press(hass, "button.ccba97110e85_start_voice_channel")
    assert published(mqtt_mock)[0][0] == "xiaozhi/cc:ba:97:11:0e:85/down"


async def test_a_device_whose_registry_connection_is_a_mac_has_one(
    hass: HomeAssistant, integration: MockConfigEntry, mqtt_mock: MqttMockHAClient
) -> None:
    # A voice device whose id is no MAC, but whose registry device has one as
    # its connection (another integration's entry for the same box can add it).
    dr.async_get(hass).async_get_or_create(
        config_entry_id=integration.entry_id,
        identifiers={(DOMAIN, f"{integration.entry_id}_device_VB_0001")},
        connections={(dr.CONNECTION_NETWORK_MAC, "CC:BA:97:11:0E:86")},
        name="Hall box",
    )
    assert await hass.config_entries.async_reload(integration.entry_id)
    await hass.async_block_till_done()
    assert hass.states.async_entity_ids(BUTTON_DOMAIN) == [
        "button.hall_box_start_voice_channel"
    ]
    await press(hass, "button.hall_box_start_voice_channel")
    assert published(mqtt_mock)[0][0] == "xiaozhi/cc:ba:97:11:0e:86/down"


@pytest.mark.parametrize("entry_options", [{}])
async def test_without_a_voice_server_there_is_no_button(
    hass: HomeAssistant, integration: MockConfigEntry
) -> None:
    heard(hass, MAC)
    await hass.async_block_till_done()
    assert hass.states.async_entity_ids(BUTTON_DOMAIN) == []


async def test_clearing_the_voice_server_removes_the_buttons(
    hass: HomeAssistant, integration: MockConfigEntry
) -> None:
    heard(hass, MAC)
    await hass.async_block_till_done()
    registry = er.async_get(hass)
    assert registry.async_get(BUTTON) is not None
    hass.config_entries.async_update_entry(integration, options={})
    assert await hass.config_entries.async_reload(integration.entry_id)
    await hass.async_block_till_done()
    assert registry.async_get(BUTTON) is None
    assert hass.states.get(BUTTON) is None


async def test_the_button_is_unavailable_while_its_device_is_offline(
    hass: HomeAssistant, integration: MockConfigEntry
) -> None:
    heard(hass, MAC)
    send(hass, f"devices/{MAC}/lwt", {"status": "offline"})
    await hass.async_block_till_done()
    assert hass.states.get(BUTTON).state == STATE_UNAVAILABLE


async def test_a_press_that_never_reaches_the_broker_fails_translated(
    hass: HomeAssistant,
    integration: MockConfigEntry,
    mqtt_mock: MqttMockHAClient,
    mqtt_client_mock: MqttMockPahoClient,
) -> None:
    heard(hass, MAC)
    await hass.async_block_till_done()
    # Home Assistant's MQTT client goes, but the button is pressed from code
    # that does not look at availability: the retries run and fail.
    button = next(
        entity
        for platform in async_get_platforms(hass, DOMAIN)
        for entity in platform.entities.values()
        if entity.entity_id == BUTTON
    )
    disconnect(mqtt_mock, mqtt_client_mock)
    await hass.async_block_till_done()
    with (
        patch.object(services, "RETRY_DELAY", 0.001),
        pytest.raises(HomeAssistantError) as err,
    ):
        await button.async_press()
    assert_translated(err.value, "ws_start_not_connected")
    assert "4 attempts" in str(err.value)  # the action's default: 3 retries
    assert published(mqtt_mock) == []
