"""Binary sensors: broker connection, conversations, device connectivity."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from homeassistant.components.binary_sensor import (
    BinarySensorEntity,
    BinarySensorEntityDescription,
)
from homeassistant.const import EntityCategory, Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .compat import BinarySensorDeviceClass
from .dispatch.listeners import BridgeAspect
from .entity import (
    HubEntityDescription,
    VoiceMqttEntity,
    async_add_hub_entities,
    async_remove_bridge_entities,
)
from .hub import VoiceMqttConfigEntry, VoiceMqttHub
from .models.device import Device, DeviceAspect
from .models.room import Room, RoomAspect

# Entities only read the hub's models; nothing here does I/O.
PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class VoiceMqttBinarySensorDescription[ModelT](
    BinarySensorEntityDescription, HubEntityDescription
):
    """How a binary sensor reads its model, and which changes it follows."""

    is_on_fn: Callable[[ModelT], bool | None]
    # The broker connection sensor must stay readable while the broker is away.
    always_available: bool = False
    # Whether the model knows the state at all; None: whenever the entity is.
    known_fn: Callable[[ModelT], bool] | None = None


BRIDGE_BINARY_SENSORS: tuple[VoiceMqttBinarySensorDescription[VoiceMqttHub], ...] = (
    VoiceMqttBinarySensorDescription(
        key="mqtt_connection",
        translation_key="mqtt_connection",
        device_class=BinarySensorDeviceClass.CONNECTIVITY,
        entity_category=EntityCategory.DIAGNOSTIC,
        aspects=(BridgeAspect.CONNECTION,),
        is_on_fn=lambda hub: hub.connection.connected,
        always_available=True,
    ),
)

# Only with the broker_health option (see fleet/link.py).
FLEET_LINK_BINARY_SENSORS: tuple[
    VoiceMqttBinarySensorDescription[VoiceMqttHub], ...
] = (
    VoiceMqttBinarySensorDescription(
        key="fleet_link",
        translation_key="fleet_link",
        device_class=BinarySensorDeviceClass.CONNECTIVITY,
        entity_category=EntityCategory.DIAGNOSTIC,
        aspects=(BridgeAspect.FLEET_LINK,),
        is_on_fn=lambda hub: hub.fleet_link.up,
        # Unavailable while the broker tells of no such bridge.
        known_fn=lambda hub: hub.fleet_link.up is not None,
    ),
)

ROOM_BINARY_SENSORS: tuple[VoiceMqttBinarySensorDescription[Room], ...] = (
    VoiceMqttBinarySensorDescription(
        key="conversation_active",
        translation_key="conversation_active",
        aspects=(RoomAspect.STATE,),
        # Unknown until the room's state is known; then on unless idle.
        is_on_fn=lambda room: None if room.state is None else room.active,
    ),
)

DEVICE_BINARY_SENSORS: tuple[VoiceMqttBinarySensorDescription[Device], ...] = (
    VoiceMqttBinarySensorDescription(
        key="connectivity",
        translation_key="connectivity",
        device_class=BinarySensorDeviceClass.CONNECTIVITY,
        aspects=(DeviceAspect.PRESENCE,),
        # Unknown after a restart until the device or its Last Will speaks.
        is_on_fn=lambda device: device.online,
    ),
)


class VoiceMqttBinarySensor[ModelT](VoiceMqttEntity[ModelT], BinarySensorEntity):
    """A binary sensor of the bridge, a room or a device."""

    platform_domain = Platform.BINARY_SENSOR

    entity_description: VoiceMqttBinarySensorDescription[ModelT]

    @property
    def available(self) -> bool:
        """Follow the broker connection, unless this sensor shows it."""
        description = self.entity_description
        if description.always_available:
            return True
        known_fn = description.known_fn
        return super().available and (known_fn is None or known_fn(self.model))

    @property
    def is_on(self) -> bool | None:
        """Read the model."""
        return self.entity_description.is_on_fn(self.model)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: VoiceMqttConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the binary sensors of the bridge, and of rooms and devices as they come."""
    link = (
        FLEET_LINK_BINARY_SENSORS if entry.runtime_data.settings.broker_health else ()
    )
    # Turned off, the fleet link's sensor goes from the registry too.
    async_remove_bridge_entities(
        entry,
        "binary_sensor",
        () if link else (d.key for d in FLEET_LINK_BINARY_SENSORS),
    )
    async_add_hub_entities(
        entry,
        async_add_entities,
        VoiceMqttBinarySensor,
        bridge=BRIDGE_BINARY_SENSORS + link,
        room=ROOM_BINARY_SENSORS,
        device=DEVICE_BINARY_SENSORS,
    )
