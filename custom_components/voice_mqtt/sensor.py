"""Sensors: rooms' assistant state and texts, devices' status, fleet and broker."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import EntityCategory, Platform, UnitOfTime
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.typing import StateType

from .broker.health import BrokerHealth, broker_aspect
from .dispatch.listeners import BridgeAspect
from .entity import (
    HubEntityDescription,
    VoiceMqttEntity,
    async_add_hub_entities,
    async_remove_bridge_entities,
    truncate_state,
)
from .hub import VoiceMqttConfigEntry, VoiceMqttHub
from .models.device import Device, DeviceAspect
from .models.room import Room, RoomAspect
from .protocol import BrokerFigure

# Entities only read the hub's models; nothing here does I/O.
PARALLEL_UPDATES = 0

# Whole texts live here: the state holds at most 255 characters.
ATTR_FULL_TEXT = "full_text"


@dataclass(frozen=True, kw_only=True)
class VoiceMqttSensorDescription[ModelT](SensorEntityDescription, HubEntityDescription):
    """How a sensor reads its model, and which changes it follows."""

    value_fn: Callable[[ModelT], StateType | datetime]
    attributes_fn: Callable[[ModelT], dict[str, Any]] | None = None
    # Whether the model's figures are current; None: whenever the entity is.
    fresh_fn: Callable[[ModelT], bool] | None = None


def _shown(text: str | None) -> str | None:
    """Show a text as a state: trimmed (chunks often lead with a space), cut.

    The full_text attribute keeps it exactly as received.
    """
    return truncate_state(text.strip() or None) if text is not None else None


def _state_attributes(room: Room) -> dict[str, Any]:
    return {"session_id": room.session_id, "changed_at": room.state_changed}


def _transcript_attributes(room: Room) -> dict[str, Any]:
    if (transcript := room.transcript) is None:
        return {}
    return {
        "stage": transcript.stage,
        "confidence": transcript.confidence,
        "sequence": transcript.sequence,
        "session_id": transcript.session_id,
        ATTR_FULL_TEXT: transcript.text,
    }


def _response_attributes(room: Room) -> dict[str, Any]:
    if (response := room.response) is None:
        return {}
    return {
        "streaming": response.streaming,
        "session_id": response.session_id,
        ATTR_FULL_TEXT: response.text,
    }


ROOM_SENSORS: tuple[VoiceMqttSensorDescription[Room], ...] = (
    VoiceMqttSensorDescription(
        key="assistant_state",
        translation_key="assistant_state",
        aspects=(RoomAspect.STATE,),
        # Shown as it comes, so a state the list does not know still reaches the
        # user; known states are translated.
        value_fn=lambda room: truncate_state(room.state),
        attributes_fn=_state_attributes,
    ),
    VoiceMqttSensorDescription(
        key="transcript",
        translation_key="transcript",
        aspects=(RoomAspect.TRANSCRIPT,),
        value_fn=lambda room: _shown(
            None if room.transcript is None else room.transcript.text
        ),
        attributes_fn=_transcript_attributes,
    ),
    VoiceMqttSensorDescription(
        key="response",
        translation_key="response",
        aspects=(RoomAspect.RESPONSE,),
        # A stream that has not said anything yet shows as unknown, not "".
        value_fn=lambda room: _shown(
            None if room.response is None else room.response.text
        ),
        attributes_fn=_response_attributes,
    ),
)


def _seconds[ModelT](
    key: str,
    aspect: str,
    value_fn: Callable[[ModelT], StateType],
    precision: int = 2,
) -> VoiceMqttSensorDescription[ModelT]:
    """Describe a duration in seconds that Home Assistant keeps statistics of."""
    return VoiceMqttSensorDescription(
        key=key,
        translation_key=key,
        device_class=SensorDeviceClass.DURATION,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=UnitOfTime.SECONDS,
        suggested_display_precision=precision,
        aspects=(aspect,),
        value_fn=value_fn,
    )


TURN_SENSORS: tuple[VoiceMqttSensorDescription[Room], ...] = (
    # From the end of what was heard to the answer's first word.
    _seconds(
        "response_time",
        RoomAspect.TURN,
        lambda room: None if room.last_turn is None else room.last_turn.response_time,
    ),
    _seconds(
        "turn_duration",
        RoomAspect.TURN,
        lambda room: None if room.last_turn is None else room.last_turn.duration,
        precision=1,
    ),
)

DEVICE_SENSORS: tuple[VoiceMqttSensorDescription[Device], ...] = (
    VoiceMqttSensorDescription(
        key="device_status",
        translation_key="device_status",
        aspects=(DeviceAspect.STATUS,),
        # Known values are translated; others are shown as they come.
        value_fn=lambda device: truncate_state(device.status),
    ),
    VoiceMqttSensorDescription(
        key="device_session",
        translation_key="device_session",
        aspects=(DeviceAspect.STATUS,),
        value_fn=lambda device: device.session,
    ),
    VoiceMqttSensorDescription(
        key="last_seen",
        translation_key="last_seen",
        device_class=SensorDeviceClass.TIMESTAMP,
        entity_category=EntityCategory.DIAGNOSTIC,
        # As Zigbee2MQTT's: off unless asked for; it moves every 5 minutes at most.
        entity_registry_enabled_default=False,
        aspects=(DeviceAspect.PRESENCE, DeviceAspect.LAST_SEEN),
        value_fn=lambda device: device.seen_at,
    ),
    VoiceMqttSensorDescription(
        key="connections_lost_today",
        translation_key="connections_lost_today",
        state_class=SensorStateClass.TOTAL_INCREASING,
        entity_category=EntityCategory.DIAGNOSTIC,
        # A loss is a presence change; shown while the device is offline too.
        aspects=(DeviceAspect.PRESENCE,),
        value_fn=lambda device: device.lost_today,
    ),
    VoiceMqttSensorDescription(
        key="position",
        translation_key="position",
        device_class=SensorDeviceClass.DURATION,
        native_unit_of_measurement=UnitOfTime.MILLISECONDS,
        entity_registry_enabled_default=False,
        aspects=(DeviceAspect.STATUS,),
        value_fn=lambda device: device.position_ms,
    ),
)

BRIDGE_SENSORS: tuple[VoiceMqttSensorDescription[VoiceMqttHub], ...] = (
    VoiceMqttSensorDescription(
        key="devices_online",
        translation_key="devices_online",
        state_class=SensorStateClass.MEASUREMENT,
        entity_category=EntityCategory.DIAGNOSTIC,
        aspects=(BridgeAspect.DEVICES_ONLINE,),
        value_fn=lambda hub: len(hub.online),
    ),
    VoiceMqttSensorDescription(
        key="devices_offline",
        translation_key="devices_offline",
        state_class=SensorStateClass.MEASUREMENT,
        entity_category=EntityCategory.DIAGNOSTIC,
        aspects=(BridgeAspect.DEVICES_ONLINE,),
        value_fn=lambda hub: len(hub.fleet_health.offline),
    ),
    VoiceMqttSensorDescription(
        key="turns_today",
        translation_key="turns_today",
        # Counts up through the day; the drop at midnight is a reset.
        state_class=SensorStateClass.TOTAL_INCREASING,
        aspects=(BridgeAspect.TURNS,),
        value_fn=lambda hub: hub.conversations.turns_today,
    ),
    _seconds(
        "mean_response_time",
        BridgeAspect.TURNS,
        lambda hub: hub.conversations.mean_response_time,
    ),
)


def _broker(
    key: str,
    figure: BrokerFigure,
    value_fn: Callable[[BrokerHealth], StateType | datetime],
    **kwargs: Any,
) -> VoiceMqttSensorDescription[VoiceMqttHub]:
    """Describe a figure of the broker: diagnostic, unavailable while stale."""
    return VoiceMqttSensorDescription(
        key=key,
        translation_key=key,
        entity_category=EntityCategory.DIAGNOSTIC,
        aspects=(broker_aspect(figure),),
        value_fn=lambda hub: value_fn(hub.broker_health),
        fresh_fn=lambda hub: hub.broker_health.fresh,
        **kwargs,
    )


# Only with the broker_health option (see broker/health.py).
BROKER_SENSORS: tuple[VoiceMqttSensorDescription[VoiceMqttHub], ...] = (
    # A start time, not an uptime: it changes when the broker restarts, not
    # every 10 s (as Home Assistant's own uptime sensor does).
    _broker(
        "broker_started",
        BrokerFigure.UPTIME,
        lambda broker: broker.started,
        device_class=SensorDeviceClass.TIMESTAMP,
    ),
    _broker("broker_version", BrokerFigure.VERSION, lambda broker: broker.version),
    _broker(
        "broker_clients",
        BrokerFigure.CLIENTS,
        lambda broker: broker.clients,
        state_class=SensorStateClass.MEASUREMENT,
    ),
    _broker(
        "broker_messages_received",
        BrokerFigure.RECEIVED,
        lambda broker: broker.received,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=1,
    ),
)


class VoiceMqttSensor[ModelT](VoiceMqttEntity[ModelT], SensorEntity):
    """A sensor of the bridge, a room or a device."""

    platform_domain = Platform.SENSOR

    entity_description: VoiceMqttSensorDescription[ModelT]
    _unrecorded_attributes = frozenset({ATTR_FULL_TEXT})

    @property
    def available(self) -> bool:
        """Unavailable too while the model's figures are stale."""
        fresh_fn = self.entity_description.fresh_fn
        return super().available and (fresh_fn is None or fresh_fn(self.model))

    @property
    def native_value(self) -> StateType | datetime:
        """Read the model."""
        return self.entity_description.value_fn(self.model)

    @property
    def extra_state_attributes(self) -> dict[str, Any] | None:
        """Read the model's details."""
        if (attributes_fn := self.entity_description.attributes_fn) is None:
            return None
        return attributes_fn(self.model)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: VoiceMqttConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the bridge's sensors, and those of rooms and devices as they come."""
    broker = BROKER_SENSORS if entry.runtime_data.settings.broker_health else ()
    # Turned off, the broker's sensors go from the registry too.
    async_remove_bridge_entities(
        entry, "sensor", () if broker else (d.key for d in BROKER_SENSORS)
    )
    async_add_hub_entities(
        entry,
        async_add_entities,
        VoiceMqttSensor,
        bridge=BRIDGE_SENSORS + broker,
        room=ROOM_SENSORS + TURN_SENSORS,
        device=DEVICE_SENSORS,
    )
