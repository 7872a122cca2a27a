"""Buttons: wake a voice device's voice channel (ws_start) from its page.

While the entry has a voice server URL (option ws_url), every voice device
whose id, or registry connection, is a MAC address has one; pressing it does
what voice_mqtt.ws_start does, with its retries.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import override

from homeassistant.components.button import ButtonEntity, ButtonEntityDescription
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .entity import HubEntityDescription, VoiceMqttEntity, async_add_hub_entities
from .hub import VoiceMqttConfigEntry
from .models.device import Device
from .protocol import ws_start_payload
from .services import DEFAULT_WS_VERSION, async_ws_start, encoded, invalid

# Entities only read the hub's models; a press publishes and waits for the
# broker's acknowledgement, which needs no limit either.
PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class VoiceMqttButtonDescription(ButtonEntityDescription, HubEntityDescription):
    """A button of a voice device."""


START_VOICE = VoiceMqttButtonDescription(
    key="start_voice",
    translation_key="start_voice",
    # Nothing it shows changes: only the device's presence (the base entity
    # follows it) and the broker connection.
    aspects=(),
    exists_fn=lambda hub, device: hub.registry.mac(device.device_id) is not None,
)


class VoiceMqttButton(VoiceMqttEntity[Device], ButtonEntity):
    """Starts a voice device's voice channel: ws_start to the entry's voice server."""

    platform_domain = Platform.BUTTON

    entity_description: VoiceMqttButtonDescription

    @override
    async def async_press(self) -> None:
        """Publish ws_start, retried as the action retries; raise if every try fails."""
        hub = self.hub
        # Made only with both; the entry reloads when its options change.
        if (url := hub.settings.ws_url) is None:
            raise invalid("ws_start_no_url", entry=hub.entry.title)
        if (mac := hub.registry.mac(self.object_id)) is None:
            raise invalid("device_without_mac", device=self.object_id)
        await async_ws_start(
            hub,
            mac,
            encoded(ws_start_payload(url, DEFAULT_WS_VERSION)),
        )


async def async_setup_entry(
    hass: HomeAssistant,
    entry: VoiceMqttConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the buttons while the entry has a voice server; else remove them."""
    if entry.runtime_data.settings.ws_url is None:
        # The option was cleared: the buttons go from the registry too.
        registry = er.async_get(hass)
        for registered in er.async_entries_for_config_entry(registry, entry.entry_id):
            if registered.domain == Platform.BUTTON:
                registry.async_remove(registered.entity_id)
        return
    async_add_hub_entities(
        entry, async_add_entities, VoiceMqttButton, device=(START_VOICE,)
    )
