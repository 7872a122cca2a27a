"""The base entity and the one way platforms add their entities."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from homeassistant.core import callback
from homeassistant.helpers.entity import Entity, EntityDescription

from .hub import BridgeAspect, Scope

if TYPE_CHECKING:
    from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

    from .hub import VoiceMqttConfigEntry, VoiceMqttHub


class VoiceMqttEntity[ModelT](Entity):
    """An entity fed by the hub; it never subscribes to MQTT itself.

    Unique ids follow the entity contract: `{entry_id}_{scope}_{id}_{key}`, or
    `{entry_id}_bridge_{key}` for the bridge.
    """

    _attr_has_entity_name = True
    _attr_should_poll = False

    def __init__(
        self,
        hub: VoiceMqttHub,
        scope: Scope,
        object_id: str,
        model: ModelT,
        description: EntityDescription,
        aspects: Iterable[str],
    ) -> None:
        """Bind the entity to its model and to the aspects it shows."""
        self.hub = hub
        self.scope = scope
        self.object_id = object_id
        self.model = model
        self.entity_description = description
        self._aspects = tuple(aspects)
        entry_id = hub.entry.entry_id
        self._attr_unique_id = (
            f"{entry_id}_bridge_{description.key}"
            if scope is Scope.BRIDGE
            else f"{entry_id}_{scope}_{object_id}_{description.key}"
        )
        self._attr_device_info = hub.device_info(scope, object_id)

    @property
    def available(self) -> bool:
        """Unavailable while Home Assistant's MQTT client is disconnected."""
        return self.hub.connected

    async def async_added_to_hass(self) -> None:
        """Listen to the hub for the aspects this entity shows."""
        await super().async_added_to_hass()
        for aspect in self._aspects:
            self.async_on_remove(
                self.hub.async_listen(
                    self.scope, self.object_id, aspect, self._handle_change
                )
            )
        if (Scope.BRIDGE, BridgeAspect.CONNECTION) not in (
            (self.scope, aspect) for aspect in self._aspects
        ):
            self.async_on_remove(
                self.hub.async_listen(
                    Scope.BRIDGE, "", BridgeAspect.CONNECTION, self.async_write_ha_state
                )
            )

    @callback
    def _handle_change(self) -> None:
        """Show what changed; event entities fire instead."""
        self.async_write_ha_state()


type EntityFactory[ModelT] = Callable[[ModelT], Iterable[Entity]]


@callback
def async_add_hub_entities(
    entry: VoiceMqttConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
    *,
    bridge: EntityFactory[VoiceMqttHub] | None = None,
) -> None:
    """Add a platform's bridge entities now."""
    hub = entry.runtime_data
    if bridge is not None:
        async_add_entities(bridge(hub))
