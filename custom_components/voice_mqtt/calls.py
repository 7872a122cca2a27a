"""What every service call needs: its target, translated errors, a checked publish.

Shared by the actions in services.py. Every field that reaches a topic is
checked to be one topic level here, so no call can publish outside the
entry's namespaces.
"""

from __future__ import annotations

import asyncio
from typing import Any, Final

from homeassistant.components import mqtt
from homeassistant.core import HomeAssistant, ServiceCall
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import (
    area_registry as ar,
    device_registry as dr,
    service,
)

from .const import DOMAIN
from .hub import VoiceMqttConfigEntry, VoiceMqttHub
from .listeners import Scope
from .protocol import MAX_PAYLOAD_BYTES, IdentifierError, encode, validate_identifier

ATTR_CONFIG_ENTRY_ID: Final = "config_entry_id"
ATTR_AREA: Final = "area"
# Display actions and commands wait this long for the broker's acknowledgement.
PUBLISH_TIMEOUT: Final = 5.0


def invalid(key: str, **placeholders: str) -> ServiceValidationError:
    """Return the translated error of a call the user must change."""
    return ServiceValidationError(
        translation_domain=DOMAIN,
        translation_key=key,
        translation_placeholders=placeholders,
    )


def failed(key: str, **placeholders: str) -> HomeAssistantError:
    """Return the translated error of a call that was right but did not work."""
    return HomeAssistantError(
        translation_domain=DOMAIN,
        translation_key=key,
        translation_placeholders=placeholders,
    )


def shown(value: str) -> str:
    """Quote a value for an error message; it may be long or odd."""
    return repr(value[:60] + "…" if len(value) > 60 else value)


def topic_level(field: str, value: str) -> str:
    """Return value if it can be one topic level, or raise for field."""
    try:
        return validate_identifier(value)
    except IdentifierError as err:
        raise invalid(
            f"invalid_id_{err.reason}", field=field, value=shown(value)
        ) from None


def encoded(payload: dict[str, Any]) -> str:
    """Return the payload as JSON, or raise if no broker should carry it."""
    text = encode(payload)
    if (size := len(text.encode())) > MAX_PAYLOAD_BYTES:
        raise invalid("payload_too_large", size=str(size), limit=str(MAX_PAYLOAD_BYTES))
    return text


class Target:
    """What a call is about: its entry's hub and, if picked, a registry device."""

    def __init__(self, hass: HomeAssistant, call: ServiceCall, field: str) -> None:
        """Find the entry (and registry device) that call's field names, or raise."""
        value: str = call.data[field]
        found = dr.async_get(hass).async_get(value)
        self.device_entry = found if isinstance(found, dr.DeviceEntry) else None
        entry_id = call.data.get(ATTR_CONFIG_ENTRY_ID)
        if entry_id is None and self.device_entry is not None:
            # A device picked in the UI tells which entry it belongs to.
            entry_id = self.device_entry.config_entry_id
        entry: VoiceMqttConfigEntry = service.async_get_config_entry(
            hass, DOMAIN, entry_id
        )
        self.hub = entry.runtime_data
        self.field = field
        self.value = value
        if self.device_entry is not None and (
            self.device_entry.config_entry_id != entry.entry_id
        ):
            raise invalid("device_not_in_entry", field=field, entry=entry.title)

    def object_id(self, scope: Scope) -> str:
        """Return the room or device id the field names, or raise."""
        if self.device_entry is None:
            return topic_level(self.field, self.value)
        known = self.hub.registry.identify(self.device_entry)
        if known is None or known[0] is not scope:
            raise invalid(
                f"not_a_{scope}",
                field=self.field,
                device=self.device_entry.name_by_user or self.device_entry.name or "",
            )
        return known[1]


async def publish(hub: VoiceMqttHub, topic: str, payload: str, qos: int) -> None:
    """Publish once and wait for the broker's acknowledgement, or raise."""
    if not connected(hub.hass):
        raise failed("mqtt_not_connected", topic=topic)
    try:
        async with asyncio.timeout(PUBLISH_TIMEOUT):
            await mqtt.async_publish(hub.hass, topic, payload, qos, retain=False)
    except TimeoutError:
        raise failed(
            "publish_not_acknowledged", topic=topic, timeout=str(PUBLISH_TIMEOUT)
        ) from None
    except HomeAssistantError as err:
        raise failed("publish_failed", topic=topic, error=str(err)) from err


def connected(hass: HomeAssistant) -> bool:
    """Return whether Home Assistant's MQTT client is connected now."""
    try:
        return mqtt.is_connected(hass)
    except KeyError:  # the MQTT integration is not loaded at all
        return False


def area_rooms(
    hass: HomeAssistant, call: ServiceCall
) -> tuple[VoiceMqttHub, list[str]]:
    """Return the entry's hub and the ids of its rooms in the call's area, or raise."""
    value: str = call.data[ATTR_AREA]
    areas = ar.async_get(hass)
    area = areas.async_get_area(value) or areas.async_get_area_by_name(value)
    if area is None:
        raise invalid("unknown_area", area=shown(value))
    entry: VoiceMqttConfigEntry = service.async_get_config_entry(
        hass, DOMAIN, call.data.get(ATTR_CONFIG_ENTRY_ID)
    )
    hub = entry.runtime_data
    rooms = sorted(
        known[1]
        for device in dr.async_entries_for_area(dr.async_get(hass), area.id)
        if isinstance(device, dr.DeviceEntry)
        and (known := hub.registry.identify(device)) is not None
        and known[0] is Scope.ROOM
    )
    if not rooms:
        raise invalid("no_room_in_area", area=area.name)
    return hub, rooms
