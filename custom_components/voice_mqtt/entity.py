"""The base entity and the one way platforms add their entities."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from homeassistant.core import callback
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.entity import Entity, EntityDescription

from .const import DOMAIN, Scope
from .dispatch.listeners import BridgeAspect, Key, Listener
from .models.device import Device, DeviceAspect
from .registry.devices import room_entity_id, unique_id

if TYPE_CHECKING:
    from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

    from .dispatch.arrivals import Arrivals
    from .hub import VoiceMqttConfigEntry, VoiceMqttHub
    from .models.room import Room

# Home Assistant refuses states longer than this.
MAX_STATE_LENGTH = 255


def truncate_state(text: str | None) -> str | None:
    """Cut a text to fit a state, marking the cut with an ellipsis."""
    if text is None or len(text) <= MAX_STATE_LENGTH:
        return text
    return text[: MAX_STATE_LENGTH - 1] + "…"


@dataclass(frozen=True, kw_only=True)
class HubEntityDescription(EntityDescription):
    """What every voice_mqtt description says: which changes the entity follows."""

    aspects: tuple[str, ...]
    # Whether a voice device has this entity at all; None: every one has.
    exists_fn: Callable[[VoiceMqttHub, Device], bool] | None = None


class VoiceMqttEntity[ModelT](Entity):
    """An entity fed by the hub; it never subscribes to MQTT itself.

    Unique ids follow the entity contract: `{entry_id}_{scope}_{id}_{key}`, or
    `{entry_id}_bridge_{key}` for the bridge.
    """

    _attr_has_entity_name = True
    _attr_should_poll = False
    # Each platform's class says which it is (for a room's entity ids).
    platform_domain: ClassVar[str]

    def __init__(
        self,
        hub: VoiceMqttHub,
        scope: Scope,
        object_id: str,
        model: ModelT,
        description: HubEntityDescription,
    ) -> None:
        """Bind the entity to its model and to the aspects it shows."""
        self.hub = hub
        self.scope = scope
        self.object_id = object_id
        self.model = model
        self.entity_description = description
        self._aspects = description.aspects
        # Unavailable while its device is offline: every entity of a voice
        # device but the one that shows presence (connectivity shows off).
        self._follows_presence = (
            scope is Scope.DEVICE and DeviceAspect.PRESENCE not in self._aspects
        )
        self._attr_unique_id = unique_id(
            hub.entry.entry_id, scope, object_id, description.key
        )
        if scope is Scope.ROOM:
            self.entity_id = room_entity_id(
                self.platform_domain, object_id, description.key
            )

    @property
    def device_info(self) -> DeviceInfo | None:
        """Find the entity's registry device as it is added; describe it no more.

        Home Assistant reads this as it adds the entity, and takes device_entry
        when it is None. With a device_info it would describe the device again
        for every entity (get_or_create seven times a voice device, nine a
        room, on every start); RegistrySync.device_entry describes it once
        while the entry is loaded, with what the message that made it said
        (an announced name), and later only looks it up. Read at that moment,
        not at construction (Home Assistant 2026.8 has no earlier hook).
        """
        device = self.model if isinstance(self.model, Device) else None
        self.device_entry = self.hub.registry.device_entry(
            self.scope, self.object_id, device
        )
        return None

    @property
    def available(self) -> bool:
        """Unavailable while the broker or the fleet's link is away, or offline.

        A device not heard from since a restart is neither: its entities stay
        available, showing what they restored or unknown.
        """
        if not self.hub.connection.connected:
            return False
        if self.scope is not Scope.BRIDGE and self.hub.fleet_link.down:
            return False  # nobody knows: the bridge that carries the fleet is down
        if self._follows_presence and isinstance(self.model, Device):
            return self.model.online is not False
        return True

    async def async_added_to_hass(self) -> None:
        """Listen to the hub for the aspects this entity shows."""
        await super().async_added_to_hass()
        scope, object_id = self.scope, self.object_id
        wanted: list[tuple[Key, Listener]] = [
            ((scope, object_id, aspect), self._listener(aspect))
            for aspect in self._aspects
        ]
        if self._follows_presence:
            wanted.append(
                ((scope, object_id, DeviceAspect.PRESENCE), self.async_write_ha_state)
            )
        if not (scope is Scope.BRIDGE and BridgeAspect.CONNECTION in self._aspects):
            wanted.append(
                ((Scope.BRIDGE, "", BridgeAspect.CONNECTION), self.async_write_ha_state)
            )
        self.async_on_remove(self.hub.listeners.listen(wanted))

    def _listener(self, aspect: str) -> Listener:
        """Return what to run when aspect changes: show the new state."""
        return self.async_write_ha_state


type EntityClass = type[VoiceMqttEntity[Any]]


@callback
def async_add_hub_entities(
    entry: VoiceMqttConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
    entity_class: EntityClass,
    *,
    bridge: Iterable[HubEntityDescription] = (),
    room: Iterable[HubEntityDescription] = (),
    device: Iterable[HubEntityDescription] = (),
    device_arrivals: Arrivals[Device] | None = None,
) -> None:
    """Add a platform's bridge entities now, room and device ones as they appear.

    Devices are handed over as they are first heard of, or by device_arrivals
    (as they begin to play); a description's exists_fn picks which have it.

    An entity its registry entry says is disabled is not made: Home Assistant
    would not add it either, after describing its device and updating its
    registry entry (a device has two such entities by default, on every
    start). Enabling one reloads the entry, which makes it then.
    """
    hub = entry.runtime_data
    registry = er.async_get(hub.hass)
    domain = entity_class.platform_domain

    def disabled(scope: Scope, object_id: str, key: str) -> bool:
        entity_id = registry.async_get_entity_id(
            domain, DOMAIN, unique_id(entry.entry_id, scope, object_id, key)
        )
        return entity_id is not None and registry.entities[entity_id].disabled

    def wanted(description: HubEntityDescription, new: Device) -> bool:
        exists_fn = description.exists_fn
        return (exists_fn is None or exists_fn(hub, new)) and not disabled(
            Scope.DEVICE, new.device_id, description.key
        )

    async_add_entities(
        entity_class(hub, Scope.BRIDGE, "", hub, description) for description in bridge
    )
    if room := tuple(room):

        @callback
        def add_rooms(rooms: list[Room]) -> None:
            # One call per batch: the entity platform adds them together.
            async_add_entities(
                entity_class(hub, Scope.ROOM, new.room_id, new, description)
                for new in rooms
                for description in room
                if not disabled(Scope.ROOM, new.room_id, description.key)
            )

        entry.async_on_unload(hub.room_arrivals.register(add_rooms, hub.rooms.values()))
    if device := tuple(device):

        @callback
        def add_devices(devices: list[Device]) -> None:
            async_add_entities(
                entity_class(hub, Scope.DEVICE, new.device_id, new, description)
                for new in devices
                for description in device
                if wanted(description, new)
            )

        arrivals = hub.device_arrivals if device_arrivals is None else device_arrivals
        entry.async_on_unload(arrivals.register(add_devices, hub.devices.values()))


@callback
def async_remove_bridge_entities(
    entry: VoiceMqttConfigEntry, platform: str, keys: Iterable[str]
) -> None:
    """Remove bridge entities an option turned off from the entity registry."""
    registry = er.async_get(entry.runtime_data.hass)
    for key in keys:
        bridge_id = unique_id(entry.entry_id, Scope.BRIDGE, "", key)
        if entity_id := registry.async_get_entity_id(platform, DOMAIN, bridge_id):
            registry.async_remove(entity_id)
