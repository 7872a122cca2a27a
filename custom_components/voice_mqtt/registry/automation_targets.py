"""Which entity of a room or voice device a device automation follows.

Device triggers and conditions are picked by device, and each follows one
entity of it: found through the registries by the key in its unique id, never
by entity id, which is the user's to rename. The registries alone answer, so
an automation is checked the same whether the entry is loaded or not.
"""

from __future__ import annotations

from dataclasses import dataclass

from homeassistant.components.device_automation.exceptions import (
    InvalidDeviceAutomationConfig,
)
from homeassistant.const import CONF_DEVICE_ID, CONF_ENTITY_ID, CONF_TYPE, Platform
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.helpers.typing import ConfigType

from ..const import DOMAIN, Scope
from .devices import identify, unique_id


@dataclass(frozen=True, slots=True)
class EntityKind:
    """One entity that every room, or every voice device, has."""

    scope: Scope
    platform: Platform
    key: str


CONNECTIVITY = EntityKind(Scope.DEVICE, Platform.BINARY_SENSOR, "connectivity")
DEVICE_STATUS = EntityKind(Scope.DEVICE, Platform.SENSOR, "device_status")
CONVERSATION = EntityKind(Scope.ROOM, Platform.BINARY_SENSOR, "conversation_active")
TOOL_EXECUTED = EntityKind(Scope.ROOM, Platform.EVENT, "tool_executed")
DISPLAY_ACTION = EntityKind(Scope.ROOM, Platform.EVENT, "display_action")


@dataclass(frozen=True, slots=True)
class Target:
    """The entity an automation follows, and the room or device it is of."""

    scope: Scope
    # The room's or voice device's own id (living_room, VR_12345).
    object_id: str
    entity_id: str
    # The entity registry entry's id: the UI names the automation by it.
    registry_id: str
    disabled: bool


@callback
def async_find(hass: HomeAssistant, device_id: str, kind: EntityKind) -> Target | None:
    """Return the entity of kind on a registry device, if the device has one."""
    if (device := dr.async_get(hass).async_get(device_id)) is None:
        return None
    # A device belongs to one config entry; the bridge, another integration's
    # device or a room asked for a device's kind is none of ours.
    known = identify(device.config_entry_id, device)
    if known is None or known[0] is not kind.scope:
        return None
    registry = er.async_get(hass)
    entity_id = registry.async_get_entity_id(
        kind.platform,
        DOMAIN,
        unique_id(device.config_entry_id, kind.scope, known[1], kind.key),
    )
    if entity_id is None:
        return None
    entry = registry.entities[entity_id]
    return Target(kind.scope, known[1], entity_id, entry.id, entry.disabled)


@callback
def async_listed(
    hass: HomeAssistant, device_id: str, kinds: dict[str, EntityKind]
) -> list[dict[str, str]]:
    """Return the automations of kinds that a device offers, as the UI lists them.

    Only those whose entity it has and that is enabled: a disabled entity has
    no state to follow. entity_id is there for the UI, which names the
    automation after that entity and matches saved ones by it.
    """
    listed = []
    for automation_type, kind in kinds.items():
        target = async_find(hass, device_id, kind)
        if target is not None and not target.disabled:
            listed.append(
                {
                    CONF_DEVICE_ID: device_id,
                    "domain": DOMAIN,
                    CONF_ENTITY_ID: target.registry_id,
                    CONF_TYPE: automation_type,
                }
            )
    return listed


@callback
def async_target(hass: HomeAssistant, config: ConfigType, kind: EntityKind) -> Target:
    """Return what a validated automation config follows, or say why nothing.

    An entity_id in the config (the UI writes the registry entry's id) must be
    the one its type follows on that device.
    """
    automation_type = config[CONF_TYPE]
    target = async_find(hass, config[CONF_DEVICE_ID], kind)
    if target is None:
        raise InvalidDeviceAutomationConfig(
            translation_domain=DOMAIN,
            translation_key="automation_not_for_device",
            translation_placeholders={"type": automation_type, "scope": kind.scope},
        )
    if (given := config.get(CONF_ENTITY_ID)) is not None and er.async_resolve_entity_id(
        er.async_get(hass), given
    ) != target.entity_id:
        raise InvalidDeviceAutomationConfig(
            translation_domain=DOMAIN,
            translation_key="automation_other_entity",
            translation_placeholders={
                "type": automation_type,
                "entity": given,
                "expected": target.entity_id,
            },
        )
    return target
