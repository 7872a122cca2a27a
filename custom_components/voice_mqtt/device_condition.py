"""Device conditions: a voice device is online or offline, a room is talking or not.

Each reads the state of one entity of the device (automation_targets),
found again at every check, so a renamed entity keeps its conditions.
"""

from __future__ import annotations

from typing import Final

from homeassistant.const import (
    CONF_CONDITION,
    CONF_DEVICE_ID,
    CONF_ENTITY_ID,
    CONF_FOR,
    CONF_TYPE,
    STATE_OFF,
    STATE_ON,
)
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import ConditionErrorMessage
from homeassistant.helpers import condition, config_validation as cv
from homeassistant.helpers.typing import ConfigType, TemplateVarsType

from .compat import vol
from .registry.automation_targets import (
    CONNECTIVITY,
    CONVERSATION,
    EntityKind,
    async_find,
    async_listed,
    async_target,
)

# Each type: the entity it reads and the state it asks for.
CONDITION_TYPES: Final[dict[str, tuple[EntityKind, str]]] = {
    "is_online": (CONNECTIVITY, STATE_ON),
    "is_offline": (CONNECTIVITY, STATE_OFF),
    "in_conversation": (CONVERSATION, STATE_ON),
    "not_in_conversation": (CONVERSATION, STATE_OFF),
}

# The conditions' own fields. Validating them twice changes nothing, unlike
# the fields every condition has (enabled), which Home Assistant has turned
# into objects by the time a condition is set up.
_OWN_FIELDS: Final = {
    vol.Required(CONF_TYPE): vol.In(list(CONDITION_TYPES)),
    vol.Optional(CONF_ENTITY_ID): cv.entity_id_or_uuid,
    vol.Optional(CONF_FOR): cv.positive_time_period,
}
CONDITION_SCHEMA: Final = cv.DEVICE_CONDITION_BASE_SCHEMA.extend(_OWN_FIELDS)
_SETUP_SCHEMA: Final = vol.Schema(_OWN_FIELDS, extra=vol.ALLOW_EXTRA)


async def async_validate_condition_config(
    hass: HomeAssistant, config: ConfigType
) -> ConfigType:
    """Validate a condition, and that the device has the entity it reads."""
    config = CONDITION_SCHEMA(config)
    async_target(hass, config, CONDITION_TYPES[config[CONF_TYPE]][0])
    return config


async def async_get_conditions(
    hass: HomeAssistant, device_id: str
) -> list[dict[str, str]]:
    """List a room's or a voice device's conditions; the bridge has none."""
    kinds = {name: kind for name, (kind, _) in CONDITION_TYPES.items()}
    return [
        {CONF_CONDITION: "device", **listed}
        for listed in async_listed(hass, device_id, kinds)
    ]


async def async_get_condition_capabilities(
    hass: HomeAssistant, config: ConfigType
) -> dict[str, vol.Schema]:
    """Offer how long the state must have held."""
    return {
        "extra_fields": vol.Schema(
            {vol.Optional(CONF_FOR): cv.positive_time_period_dict}
        )
    }


@callback
def async_condition_from_config(
    hass: HomeAssistant, config: ConfigType
) -> condition.ConditionCheckerType:
    """Check the entity's state, found again at each check.

    Home Assistant skips an integration's validation while its entry is not
    loaded: the condition's own fields are validated again here.
    """
    config = _SETUP_SCHEMA(config)
    kind, wanted = CONDITION_TYPES[config[CONF_TYPE]]
    device_id = config[CONF_DEVICE_ID]
    for_period = config.get(CONF_FOR)

    def check(hass: HomeAssistant, variables: TemplateVarsType = None) -> bool:
        if (target := async_find(hass, device_id, kind)) is None:
            # The device was removed; say so in the trace, as a state
            # condition does for a missing entity.
            raise ConditionErrorMessage("device", f"no {kind.key} on {device_id}")
        return condition.state(hass, target.entity_id, wanted, for_period)

    return check
