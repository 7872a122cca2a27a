"""Event entities: what assistants showed, the tools they ran, device events."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from homeassistant.components.event import EventEntity, EventEntityDescription
from homeassistant.const import ATTR_DEVICE_ID, ATTR_ENTITY_ID, Platform
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import ATTR_CONFIG_ENTRY_ID, EVENT_DISPLAY_ACTION, EVENT_TOOL_EXECUTED
from .conversations.figures import turn_data
from .dispatch.listeners import Listener
from .entity import (
    HubEntityDescription,
    VoiceMqttEntity,
    async_add_hub_entities,
    truncate_state,
)
from .hub import VoiceMqttConfigEntry
from .models.device import Device, DeviceAspect
from .models.room import Room, RoomAspect, RoomEvent
from .models.turn import Outcome

# Entities only read the hub's models; nothing here does I/O.
PARALLEL_UPDATES = 0

ATTR_TIMESTAMP = "timestamp"


@dataclass(frozen=True, slots=True)
class Occurrence:
    """An event as the entity fires it; source is the model's record of it."""

    source: object
    event_type: str
    attributes: dict[str, Any]
    timestamp: datetime | None
    retained: bool


@dataclass(frozen=True, kw_only=True)
class VoiceMqttEventDescription[ModelT](EventEntityDescription, HubEntityDescription):
    """Which change fires an event; the other aspects only update attributes."""

    fire_aspect: str
    event_fn: Callable[[ModelT], Occurrence | None]
    attributes_fn: Callable[[ModelT], dict[str, Any]] | None = None
    # The bus event that names what the logbook's row of this entity cannot
    # (see logbook.py), and which of the event's attributes it carries.
    bus_event: str | None = None
    bus_fields: tuple[str, ...] = ()


def _room_occurrence(event: RoomEvent | None, event_type: str) -> Occurrence | None:
    if event is None:
        return None
    return Occurrence(
        event,
        event_type,
        {**event.attributes, "session_id": event.session_id},
        event.timestamp,
        event.retained,
    )


def _tool_executed(room: Room) -> Occurrence | None:
    if (event := room.tool_executed) is None:
        return None
    return _room_occurrence(event, "succeeded" if event.success else "failed")


def _conversation(room: Room) -> Occurrence | None:
    if (turn := room.last_turn) is None:
        return None
    data = turn_data(turn)
    # Recorded attributes: texts as a state shows them (255 characters).
    data["heard"] = truncate_state(turn.heard)
    data["answer"] = truncate_state(turn.answer)
    del data["answer_truncated"]
    return Occurrence(turn, turn.outcome, data, turn.ended, False)


def _device_event(device: Device) -> Occurrence | None:
    if (event := device.event) is None:
        return None
    return Occurrence(
        event, "device_event", {"data": event.data}, event.timestamp, event.retained
    )


ROOM_EVENTS: tuple[VoiceMqttEventDescription[Room], ...] = (
    VoiceMqttEventDescription(
        key="display_action",
        translation_key="display_action",
        event_types=["display_action"],
        aspects=(RoomAspect.DISPLAY_ACTION, RoomAspect.OVERLAY),
        fire_aspect=RoomAspect.DISPLAY_ACTION,
        event_fn=lambda room: _room_occurrence(room.display_action, "display_action"),
        # overlay_hint: whether UIs keep their overlay open, for the session.
        attributes_fn=lambda room: {"keep_open": room.keep_open},
        bus_event=EVENT_DISPLAY_ACTION,
        bus_fields=("type", "session_id"),
    ),
    VoiceMqttEventDescription(
        key="tool_executed",
        translation_key="tool_executed",
        event_types=["succeeded", "failed"],
        aspects=(RoomAspect.TOOL_EXECUTED,),
        fire_aspect=RoomAspect.TOOL_EXECUTED,
        event_fn=_tool_executed,
        bus_event=EVENT_TOOL_EXECUTED,
        bus_fields=("tool_name", "success", "session_id"),
    ),
    VoiceMqttEventDescription(
        key="conversation",
        translation_key="conversation",
        event_types=[outcome.value for outcome in Outcome],
        aspects=(RoomAspect.TURN,),
        fire_aspect=RoomAspect.TURN,
        event_fn=_conversation,
    ),
)

DEVICE_EVENTS: tuple[VoiceMqttEventDescription[Device], ...] = (
    VoiceMqttEventDescription(
        key="device_event",
        translation_key="device_event",
        event_types=["device_event"],
        aspects=(DeviceAspect.EVENT,),
        fire_aspect=DeviceAspect.EVENT,
        event_fn=_device_event,
    ),
)


class VoiceMqttEvent[ModelT](VoiceMqttEntity[ModelT], EventEntity):
    """An event entity of a room or a device."""

    platform_domain = Platform.EVENT
    entity_description: VoiceMqttEventDescription[ModelT]
    # Timestamp of the last event fired, restored across restarts.
    _last_timestamp: str | None = None
    # The model's record of the last event fired. An event the model holds
    # when the entity is added came with the message that made the room or
    # device (or before the platform was set up): it fires then.
    _seen: object = None

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
        occurrence = self.entity_description.event_fn(self.model)
        if occurrence is None or occurrence.source is self._seen:
            return
        self._seen = occurrence.source
        timestamp = (
            None if occurrence.timestamp is None else occurrence.timestamp.isoformat()
        )
        if (
            occurrence.retained
            and timestamp is not None
            and timestamp == self._last_timestamp
        ):
            # The broker replays retained messages on every (re)subscribe; an
            # event already fired must not fire again.
            return
        self._last_timestamp = timestamp
        attributes = dict(occurrence.attributes)
        if timestamp is not None:
            attributes[ATTR_TIMESTAMP] = timestamp
        self._trigger_event(occurrence.event_type, attributes)
        self.async_write_ha_state()
        if (bus_event := self.entity_description.bus_event) is not None:
            self._tell_bus(bus_event, attributes)

    @callback
    def _tell_bus(self, bus_event: str, attributes: dict[str, Any]) -> None:
        entry = self.registry_entry
        self.hass.bus.async_fire(
            bus_event,
            {
                "room": self.object_id,
                **{key: attributes[key] for key in self.entity_description.bus_fields},
                ATTR_ENTITY_ID: self.entity_id,
                ATTR_DEVICE_ID: None if entry is None else entry.device_id,
                ATTR_CONFIG_ENTRY_ID: self.hub.entry.entry_id,
            },
        )


async def async_setup_entry(
    hass: HomeAssistant,
    entry: VoiceMqttConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the event entities of rooms and devices as they come."""
    async_add_hub_entities(
        entry,
        async_add_entities,
        VoiceMqttEvent,
        room=ROOM_EVENTS,
        device=DEVICE_EVENTS,
    )
