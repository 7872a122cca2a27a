"""Event entities: what a room's assistant showed, and the tools it ran."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from homeassistant.components.event import EventEntity, EventEntityDescription
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .conversation import Room, RoomAspect, RoomEvent
from .entity import VoiceMqttEntity, async_add_hub_entities
from .hub import Listener, Scope, VoiceMqttConfigEntry, VoiceMqttHub

# Entities only read the hub's models; nothing here does I/O.
PARALLEL_UPDATES = 0

ATTR_TIMESTAMP = "timestamp"


@dataclass(frozen=True, kw_only=True)
class VoiceMqttEventDescription[ModelT](EventEntityDescription):
    """Which change fires an event, and what else the entity shows."""

    fire_aspect: str
    event_fn: Callable[[ModelT], tuple[str, RoomEvent] | None]
    # Changes that update attributes without firing.
    attribute_aspects: tuple[str, ...] = ()
    attributes_fn: Callable[[ModelT], dict[str, Any]] | None = None


def _display_action(room: Room) -> tuple[str, RoomEvent] | None:
    if room.display_action is None:
        return None
    return "display_action", room.display_action


def _tool_executed(room: Room) -> tuple[str, RoomEvent] | None:
    if (event := room.tool_executed) is None:
        return None
    return ("succeeded" if event.success else "failed"), event


ROOM_EVENTS: tuple[VoiceMqttEventDescription[Room], ...] = (
    VoiceMqttEventDescription(
        key="display_action",
        translation_key="display_action",
        event_types=["display_action"],
        fire_aspect=RoomAspect.DISPLAY_ACTION,
        event_fn=_display_action,
        attribute_aspects=(RoomAspect.OVERLAY,),
        # overlay_hint: whether UIs keep their overlay open, for the session.
        attributes_fn=lambda room: {"keep_open": room.keep_open},
    ),
    VoiceMqttEventDescription(
        key="tool_executed",
        translation_key="tool_executed",
        event_types=["succeeded", "failed"],
        fire_aspect=RoomAspect.TOOL_EXECUTED,
        event_fn=_tool_executed,
    ),
)


class VoiceMqttEvent[ModelT](VoiceMqttEntity[ModelT], EventEntity):
    """An event entity of a room or a device."""

    entity_description: VoiceMqttEventDescription[ModelT]

    def __init__(
        self,
        hub: VoiceMqttHub,
        scope: Scope,
        object_id: str,
        model: ModelT,
        description: VoiceMqttEventDescription[ModelT],
    ) -> None:
        """Bind the description to its model."""
        super().__init__(
            hub,
            scope,
            object_id,
            model,
            description,
            (description.fire_aspect, *description.attribute_aspects),
        )
        self._last_timestamp: str | None = None
        # The event already in the model when this entity was made is not news.
        # A new room is made by the message that carries its first event, and
        # the entity starts listening only later: that event fires when added.
        self._seen = self._current_event()

    def _current_event(self) -> RoomEvent | None:
        fired = self.entity_description.event_fn(self.model)
        return None if fired is None else fired[1]

    async def async_added_to_hass(self) -> None:
        """Remember the last event's timestamp across restarts."""
        await super().async_added_to_hass()
        if (last := await self.async_get_last_state()) is not None:
            self._last_timestamp = last.attributes.get(ATTR_TIMESTAMP)
        self._fire()

    def _listener(self, aspect: str) -> Listener:
        if aspect == self.entity_description.fire_aspect:
            return self._fire
        return self.async_write_ha_state

    @property
    def extra_state_attributes(self) -> dict[str, Any] | None:
        """Show what the model says besides the event."""
        if (attributes_fn := self.entity_description.attributes_fn) is None:
            return None
        return attributes_fn(self.model)

    @callback
    def _fire(self) -> None:
        fired = self.entity_description.event_fn(self.model)
        if fired is None or fired[1] is self._seen:
            return
        event_type, event = fired
        self._seen = event
        timestamp = None if event.timestamp is None else event.timestamp.isoformat()
        if (
            event.retained
            and timestamp is not None
            and timestamp == self._last_timestamp
        ):
            # The broker replays retained messages on every (re)subscribe; an
            # event already fired must not fire again.
            return
        self._last_timestamp = timestamp
        attributes = {**event.attributes, "session_id": event.session_id}
        if timestamp is not None:
            attributes[ATTR_TIMESTAMP] = timestamp
        self._trigger_event(event_type, attributes)
        self.async_write_ha_state()


async def async_setup_entry(
    hass: HomeAssistant,
    entry: VoiceMqttConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the event entities of rooms as they come."""
    async_add_hub_entities(
        entry,
        async_add_entities,
        room=lambda hub, room: (
            VoiceMqttEvent(hub, Scope.ROOM, room.room_id, room, description)
            for description in ROOM_EVENTS
        ),
    )
