"""Voice Assistant MQTT: an MQTT voice-assistant fleet in Home Assistant."""

from __future__ import annotations

from homeassistant.components import mqtt
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ConfigEntryNotReady, HomeAssistantError
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers.device_registry import DeviceEntry
from homeassistant.helpers.typing import ConfigType

from .card import async_register_card
from .const import DOMAIN
from .conversations.history import history_store
from .fleet.snapshot import async_clear_snapshot
from .hub import VoiceMqttConfigEntry, VoiceMqttHub
from .models.settings import Settings
from .registry.last_seen import last_seen_store
from .services import async_setup_services
from .websocket_api import async_setup_websocket_api

CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)
PLATFORMS = [
    Platform.BINARY_SENSOR,
    Platform.BUTTON,
    Platform.EVENT,
    Platform.MEDIA_PLAYER,
    Platform.SENSOR,
]


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Register the actions, the websocket command and the card, once for all."""
    async_setup_services(hass)
    async_setup_websocket_api(hass)
    await async_register_card(hass)
    return True


async def async_setup_entry(hass: HomeAssistant, entry: VoiceMqttConfigEntry) -> bool:
    """Start a hub on Home Assistant's MQTT connection."""
    if not await mqtt.async_wait_for_mqtt_client(hass):
        raise ConfigEntryNotReady(
            translation_domain=DOMAIN, translation_key="mqtt_not_ready"
        )
    hub = VoiceMqttHub(hass, entry)
    entry.runtime_data = hub
    entry.async_on_unload(hub.async_stop)
    try:
        await hub.async_start()
    except HomeAssistantError as err:
        # MQTT went away between the wait and the subscribe.
        raise ConfigEntryNotReady(
            translation_domain=DOMAIN, translation_key="mqtt_not_ready"
        ) from err
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    return True


async def async_unload_entry(hass: HomeAssistant, entry: VoiceMqttConfigEntry) -> bool:
    """Unload platforms; the hub's own clean-up runs from async_on_unload."""
    if unloaded := await hass.config_entries.async_unload_platforms(entry, PLATFORMS):
        # When rooms and devices were last heard of, saved now, not in a minute.
        await entry.runtime_data.last_seen.async_save()
        await entry.runtime_data.history.async_flush()
    return unloaded


async def async_remove_entry(hass: HomeAssistant, entry: VoiceMqttConfigEntry) -> None:
    """Forget this entry's store, and clear the admin snapshot it kept retained."""
    await last_seen_store(hass, entry.entry_id).async_remove()
    await history_store(hass, entry.entry_id).async_remove()
    settings = Settings.from_entry(entry.data, entry.options)
    if settings.admin_snapshot:
        await async_clear_snapshot(hass, settings)


async def async_remove_config_entry_device(
    hass: HomeAssistant, entry: VoiceMqttConfigEntry, device_entry: DeviceEntry
) -> bool:
    """Let the user delete a room or voice device; it returns if heard again."""
    return entry.runtime_data.async_forget(device_entry)
