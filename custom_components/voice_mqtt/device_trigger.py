"""Device triggers: what rooms and voice devices do, picked in the UI by device.

A voice device comes online, goes offline or changes status; a room's
conversation starts or ends, it runs a tool, it shows a panel. Each follows
one entity of the device (automation_targets) through Home Assistant's state
trigger, and adds what happened to the trigger's variables.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

from homeassistant.components.device_automation import DEVICE_TRIGGER_BASE_SCHEMA
from homeassistant.components.homeassistant.triggers import state as state_trigger
from homeassistant.const import (
    CONF_DEVICE_ID,
    CONF_ENTITY_ID,
    CONF_FOR,
    CONF_PLATFORM,
    CONF_TYPE,
    STATE_OFF,
    STATE_ON,
    STATE_UNAVAILABLE,
    STATE_UNKNOWN,
)
from homeassistant.core import (
    CALLBACK_TYPE,
    Context,
    Event,
    HassJob,
    HomeAssistant,
    State,
    callback,
)
from homeassistant.helpers import config_validation as cv, selector
from homeassistant.helpers.entity_registry import EventEntityRegistryUpdatedData
from homeassistant.helpers.event import async_track_entity_registry_updated_event
from homeassistant.helpers.trigger import TriggerActionType, TriggerInfo
from homeassistant.helpers.typing import ConfigType

from .compat import vol
from .protocol import IDLE, PAUSED, PLAYING
from .registry.automation_targets import (
    CONNECTIVITY,
    CONVERSATION,
    DEVICE_STATUS,
    DISPLAY_ACTION,
    TOOL_EXECUTED,
    EntityKind,
    Target,
    async_listed,
    async_target,
)

CONF_TO: Final = "to"
CONF_SUCCESS: Final = "success"
CONF_ACTION_TYPE: Final = "action_type"

# The statuses devices report; the UI offers them, any other is accepted.
KNOWN_STATUSES: Final = (IDLE, PLAYING, PAUSED)

# States that say nothing of the room or device: before its first message
# after a restart or reload, and while the broker is away. A change from one
# is no news: it would fire for every device whenever the broker came back.
NO_NEWS: Final = [STATE_UNAVAILABLE, STATE_UNKNOWN]

# What a firing adds to the trigger's variables; None when the trigger's
# options (success, action_type) do not match it.
type Details = Callable[[Target, State, State, ConfigType], dict[str, Any] | None]

_FOR_FIELD: Final = {vol.Optional(CONF_FOR): cv.positive_time_period}
_FOR_CAPABILITY: Final = {vol.Optional(CONF_FOR): cv.positive_time_period_dict}
_NON_EMPTY: Final = vol.All(cv.string, vol.Length(min=1))


def _device(
    target: Target, old: State, new: State, config: ConfigType
) -> dict[str, Any]:
    return {"voice_device_id": target.object_id}


def _status(
    target: Target, old: State, new: State, config: ConfigType
) -> dict[str, Any]:
    return {
        "voice_device_id": target.object_id,
        "status": new.state,
        "previous_status": old.state,
    }


def _room(target: Target, old: State, new: State, config: ConfigType) -> dict[str, Any]:
    return {"room_id": target.object_id}


def _tool(
    target: Target, old: State, new: State, config: ConfigType
) -> dict[str, Any] | None:
    success = new.attributes.get("event_type") == "succeeded"
    if config.get(CONF_SUCCESS, success) != success:
        return None
    return {
        "room_id": target.object_id,
        "tool_name": new.attributes.get("tool_name"),
        "success": success,
        "session_id": new.attributes.get("session_id"),
    }


def _display(
    target: Target, old: State, new: State, config: ConfigType
) -> dict[str, Any] | None:
    action_type = new.attributes.get("type")
    if config.get(CONF_ACTION_TYPE, action_type) != action_type:
        return None
    return {
        "room_id": target.object_id,
        "action_type": action_type,
        "data": new.attributes.get("data"),
        "session_id": new.attributes.get("session_id"),
    }


@dataclass(frozen=True, kw_only=True)
class TriggerType:
    """What a trigger type follows, what it accepts, and what it tells."""

    kind: EntityKind
    details: Details
    # The state it fires on; None: any change (status_changed may ask one).
    to: str | None = None
    # An event entity: its state is the time of its last event, so every new
    # state is an event, the same type again included.
    event: bool = False
    fields: dict[Any, Any] = field(default_factory=lambda: dict(_FOR_FIELD))
    capabilities: dict[Any, Any] = field(default_factory=lambda: dict(_FOR_CAPABILITY))

    def state_options(self, config: ConfigType) -> dict[str, Any]:
        """Return the state trigger's options for a validated config."""
        if self.event:
            # From unknown is fine: that is an entity that never fired yet.
            return {"not_from": [STATE_UNAVAILABLE], "not_to": NO_NEWS}
        options: dict[str, Any] = {"not_from": NO_NEWS}
        if (to := config.get(CONF_TO, self.to)) is not None:
            options[CONF_TO] = to
        else:
            options["not_to"] = NO_NEWS
        if CONF_FOR in config:
            options[CONF_FOR] = config[CONF_FOR]
        return options


TRIGGER_TYPES: Final[dict[str, TriggerType]] = {
    "online": TriggerType(kind=CONNECTIVITY, details=_device, to=STATE_ON),
    "offline": TriggerType(kind=CONNECTIVITY, details=_device, to=STATE_OFF),
    "status_changed": TriggerType(
        kind=DEVICE_STATUS,
        details=_status,
        fields={vol.Optional(CONF_TO): _NON_EMPTY, **_FOR_FIELD},
        capabilities={
            vol.Optional(CONF_TO): selector.SelectSelector(
                selector.SelectSelectorConfig(
                    options=list(KNOWN_STATUSES),
                    custom_value=True,
                    mode=selector.SelectSelectorMode.DROPDOWN,
                    translation_key="device_status",
                )
            ),
            **_FOR_CAPABILITY,
        },
    ),
    "conversation_started": TriggerType(kind=CONVERSATION, details=_room, to=STATE_ON),
    "conversation_ended": TriggerType(kind=CONVERSATION, details=_room, to=STATE_OFF),
    "tool_executed": TriggerType(
        kind=TOOL_EXECUTED,
        details=_tool,
        event=True,
        fields={vol.Optional(CONF_SUCCESS): cv.boolean},
        # A select, not a switch: a switch shows off while the field is unset,
        # which means either outcome. Labelled too: the automation editor
        # does not translate a device trigger's selects (it showed "false").
        capabilities={
            vol.Optional(CONF_SUCCESS): selector.SelectSelector(
                selector.SelectSelectorConfig(
                    options=[
                        selector.SelectOptionDict(value="true", label="Succeeded"),
                        selector.SelectOptionDict(value="false", label="Failed"),
                    ],
                    mode=selector.SelectSelectorMode.DROPDOWN,
                    translation_key="tool_outcome",
                )
            )
        },
    ),
    "display_action": TriggerType(
        kind=DISPLAY_ACTION,
        details=_display,
        event=True,
        fields={vol.Optional(CONF_ACTION_TYPE): _NON_EMPTY},
        capabilities={vol.Optional(CONF_ACTION_TYPE): selector.TextSelector()},
    ),
}

_TYPE_SCHEMA: Final = vol.Schema(
    {vol.Required(CONF_TYPE): vol.In(list(TRIGGER_TYPES))},
    extra=vol.ALLOW_EXTRA,
)
# Each type's own fields. Validating them twice changes nothing, unlike the
# fields every trigger has (variables, enabled), which Home Assistant has
# turned into objects by the time a trigger is attached.
_OWN_SCHEMAS: Final = {
    name: {
        vol.Required(CONF_TYPE): name,
        vol.Optional(CONF_ENTITY_ID): cv.entity_id_or_uuid,
        **trigger_type.fields,
    }
    for name, trigger_type in TRIGGER_TYPES.items()
}
_SCHEMAS: Final = {
    name: DEVICE_TRIGGER_BASE_SCHEMA.extend(fields)
    for name, fields in _OWN_SCHEMAS.items()
}
_ATTACH_SCHEMAS: Final = {
    name: vol.Schema(fields, extra=vol.ALLOW_EXTRA)
    for name, fields in _OWN_SCHEMAS.items()
}


@callback
def _validated(
    hass: HomeAssistant, config: ConfigType, schemas: dict[str, vol.Schema]
) -> tuple[TriggerType, ConfigType, Target]:
    """Validate a config with one of schemas, and find its entity."""
    name = _TYPE_SCHEMA(config)[CONF_TYPE]
    trigger_type = TRIGGER_TYPES[name]
    config = schemas[name](config)
    return trigger_type, config, async_target(hass, config, trigger_type.kind)


async def async_validate_trigger_config(
    hass: HomeAssistant, config: ConfigType
) -> ConfigType:
    """Validate a trigger: its type's fields, and that the device has its entity."""
    return _validated(hass, config, _SCHEMAS)[1]


async def async_get_triggers(
    hass: HomeAssistant, device_id: str
) -> list[dict[str, str]]:
    """List a room's or a voice device's triggers; the bridge has none."""
    kinds = {name: trigger_type.kind for name, trigger_type in TRIGGER_TYPES.items()}
    return [
        {CONF_PLATFORM: "device", **listed}
        for listed in async_listed(hass, device_id, kinds)
    ]


async def async_get_trigger_capabilities(
    hass: HomeAssistant, config: ConfigType
) -> dict[str, vol.Schema]:
    """Offer a trigger type's optional fields to the UI."""
    if (trigger_type := TRIGGER_TYPES.get(config.get(CONF_TYPE, ""))) is None:
        return {}
    return {"extra_fields": vol.Schema(trigger_type.capabilities)}


async def async_attach_trigger(
    hass: HomeAssistant,
    config: ConfigType,
    action: TriggerActionType,
    trigger_info: TriggerInfo,
) -> CALLBACK_TYPE:
    """Follow the trigger's entity until the automation lets go.

    Home Assistant skips an integration's validation while its entry is not
    loaded: the type's own fields are validated again here.
    """
    trigger_type, config, target = _validated(hass, config, _ATTACH_SCHEMAS)
    follower = _Follower(hass, config, trigger_type, target, action, trigger_info)
    await follower.async_attach(target.entity_id)
    return follower.async_remove


class _Follower:
    """A state trigger on one entity that follows it through renames.

    The entity id is resolved when the automation starts; renamed later, a
    plain state trigger would stay on the old id and never fire again.
    """

    def __init__(
        self,
        hass: HomeAssistant,
        config: ConfigType,
        trigger_type: TriggerType,
        target: Target,
        action: TriggerActionType,
        trigger_info: TriggerInfo,
    ) -> None:
        self._hass = hass
        self._config = config
        self._type = trigger_type
        self._target = target
        self._job = HassJob(action, f"voice_mqtt device trigger {trigger_info}")
        self._trigger_info = trigger_info
        self._unsubscribe: list[CALLBACK_TYPE] = []
        self._removed = False

    async def async_attach(self, entity_id: str) -> None:
        """Listen to the entity's state changes, and to its renames."""
        state_config = await state_trigger.async_validate_trigger_config(
            self._hass,
            {
                CONF_PLATFORM: "state",
                CONF_ENTITY_ID: entity_id,
                **self._type.state_options(self._config),
            },
        )
        unsubscribe = await state_trigger.async_attach_trigger(
            self._hass,
            state_config,
            self._fired,
            self._trigger_info,
            platform_type="device",
        )
        if self._removed:
            # Let go while a rename re-attached.
            unsubscribe()
            return
        self._unsubscribe = [
            unsubscribe,
            async_track_entity_registry_updated_event(
                self._hass, entity_id, self._registry_updated
            ),
        ]

    @callback
    def async_remove(self) -> None:
        """Stop listening."""
        self._removed = True
        self._stop()

    @callback
    def _stop(self) -> None:
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe = []

    @callback
    def _registry_updated(self, event: Event[EventEntityRegistryUpdatedData]) -> None:
        data = event.data
        if data["action"] == "remove":
            # Its device was deleted. Should the room or device speak again it
            # is a new device, with entities of the same ids: this automation,
            # made for the old one, must not fire for them.
            self._stop()
            return
        if data["action"] != "update" or "old_entity_id" not in data:
            return
        self._stop()
        self._hass.async_create_task(
            self.async_attach(data["entity_id"]), "voice_mqtt device trigger rename"
        )

    @callback
    def _fired(
        self, run_variables: dict[str, Any], context: Context | None = None
    ) -> None:
        trigger = run_variables["trigger"]
        old: State | None = trigger["from_state"]
        new: State | None = trigger["to_state"]
        # None: the entity was disabled, or added again once enabled: no news.
        if old is None or new is None:
            return
        details = self._type.details(self._target, old, new, self._config)
        if details is None:
            return
        self._hass.async_run_hass_job(
            self._job,
            {
                "trigger": {
                    **trigger,
                    CONF_DEVICE_ID: self._config[CONF_DEVICE_ID],
                    CONF_TYPE: self._config[CONF_TYPE],
                    **details,
                }
            },
            context,
        )
