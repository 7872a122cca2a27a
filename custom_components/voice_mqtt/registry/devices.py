"""Rooms and voice devices in Home Assistant's device registry, in and out.

The registry entries are what the entity contract promises (design.md): one
device per room, per voice device and for the bridge, identified by the
entry id, the scope and the room or device id.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.helpers.device_registry import (
    CONNECTION_NETWORK_MAC,
    DeviceEntry,
    DeviceEntryType,
    DeviceInfo,
)
from homeassistant.util import slugify

from ..const import DOMAIN, MANUFACTURER, Scope
from ..models.device import Device
from ..protocol import normalize_mac

if TYPE_CHECKING:
    # Only an annotation: Home Assistant 2026.8 has no such name.
    from homeassistant.helpers.device_registry import AnyDeviceEntry


def room_name(room_id: str) -> str:
    """Return a room id as people write it: `living_room` -> `Living room`."""
    words = room_id.replace("_", " ").replace("-", " ").strip() or room_id
    return words[0].upper() + words[1:]


def room_entity_id(domain: str, room_id: str, key: str) -> str:
    """Return the entity id a room's entity gets when it is first added.

    Home Assistant puts a device's area into new entity ids; a room's device
    is named after the room and goes to the area of that name, which would
    make `sensor.living_room_living_room_voice_assistant_…`. The ids stay as
    the room's name alone makes them (and the user's to rename).
    """
    return f"{domain}.{slugify(f'{room_name(room_id)} voice assistant')}_{key}"


def unique_id(entry_id: str, scope: Scope, object_id: str, key: str) -> str:
    """Return the unique id of an entity, as the entity contract says.

    Device automations and bus events find a room's or device's entities by
    it: entity ids are the user's to rename.
    """
    if scope is Scope.BRIDGE:
        return f"{entry_id}_bridge_{key}"
    return f"{entry_id}_{scope}_{object_id}_{key}"


def _mac_or_none(device_id: str) -> str | None:
    try:
        return normalize_mac(device_id)
    except ValueError:
        return None


def mac_of(device_entry: DeviceEntry) -> str | None:
    """Return the MAC address of a registry device's network connection, if any."""
    for kind, value in device_entry.connections:
        if kind == CONNECTION_NETWORK_MAC and (mac := _mac_or_none(value)):
            return mac
    return None


def identify(entry_id: str, device_entry: AnyDeviceEntry) -> tuple[Scope, str] | None:
    """Tell which room or device of entry_id a registry entry stands for.

    A function of the registry alone, so that device automations can tell
    without the entry's hub (an automation is checked while the entry may
    still be loading, or unloaded).
    """
    for domain, identifier in device_entry.identifiers:
        if domain != DOMAIN:
            continue
        for scope in (Scope.ROOM, Scope.DEVICE):
            prefix = f"{entry_id}_{scope}_"
            if identifier.startswith(prefix):
                return scope, identifier.removeprefix(prefix)
    return None


class RegistrySync:
    """Describes, finds, updates and removes one entry's registry devices."""

    def __init__(self, hass: HomeAssistant, entry: ConfigEntry) -> None:
        """Work on the devices of entry."""
        self._hass = hass
        self._entry = entry
        self.bridge_device_id = ""
        # Registry ids of the devices described since the entry was loaded.
        self._described: dict[tuple[Scope, str], str] = {}

    @property
    def entry_id(self) -> str:
        """Return the id of the entry whose devices these are."""
        return self._entry.entry_id

    def _identifier(self, scope: Scope, object_id: str) -> tuple[str, str]:
        entry_id = self._entry.entry_id
        if scope is Scope.BRIDGE:
            return (DOMAIN, entry_id)
        return (DOMAIN, f"{entry_id}_{scope}_{object_id}")

    def register_bridge(self) -> None:
        """Make sure the bridge device exists; rooms and devices hang off it."""
        self.bridge_device_id = self.device_entry(Scope.BRIDGE, "", None).id

    def device_entry(
        self, scope: Scope, object_id: str, device: Device | None
    ) -> AnyDeviceEntry:
        """Return the registry device of the bridge, a room or a voice device.

        It is described (made, or brought up to date) once while the entry is
        loaded, not once for each of its entities: Home Assistant would do it
        for every entity with a device_info, 9 times for a room. Later calls
        look it up, so an entity gets the entry as it is now.
        """
        registry = dr.async_get(self._hass)
        key = (scope, object_id)
        if (known := self._described.get(key)) is not None and (
            entry := registry.async_get(known)
        ) is not None:
            return entry
        # Not described yet, or deleted by the user since: described anew.
        entry = registry.async_get_or_create(
            config_entry_id=self._entry.entry_id,
            **self.device_info(scope, object_id, device),
        )
        self._described[key] = entry.id
        return entry

    def device_info(
        self, scope: Scope, object_id: str, device: Device | None
    ) -> DeviceInfo:
        """Return the registry entry of the bridge, a room or a voice device."""
        identifiers = {self._identifier(scope, object_id)}
        if scope is Scope.ROOM:
            return DeviceInfo(
                identifiers=identifiers,
                translation_key="room",
                translation_placeholders={"room": room_name(object_id)},
                # Area cards, dashboards and voice targets group by area: a new
                # room goes to the area of its name, made if there is none.
                suggested_area=room_name(object_id),
                manufacturer=MANUFACTURER,
                model="Voice room",
                via_device_id=self.bridge_device_id,
            )
        if scope is Scope.DEVICE:
            info = DeviceInfo(
                identifiers=identifiers,
                name=object_id if device is None else device.name or object_id,
                manufacturer=MANUFACTURER,
                model=None if device is None else device.device_type,
                via_device_id=self.bridge_device_id,
            )
            if (mac := _mac_or_none(object_id)) is not None:
                info["connections"] = {(CONNECTION_NETWORK_MAC, mac)}
            return info
        return DeviceInfo(
            identifiers=identifiers,
            name=self._entry.title,
            manufacturer=MANUFACTURER,
            model="MQTT bridge",
            entry_type=DeviceEntryType.SERVICE,
        )

    def identify(self, device_entry: DeviceEntry) -> tuple[Scope, str] | None:
        """Tell which room or device of this entry a registry entry stands for."""
        return identify(self._entry.entry_id, device_entry)

    def known(self) -> Iterator[tuple[DeviceEntry, Scope, str]]:
        """Yield every room and voice device this entry has registered."""
        registry = dr.async_get(self._hass)
        for device_entry in dr.async_entries_for_config_entry(
            registry, self._entry.entry_id
        ):
            if (known := self.identify(device_entry)) is not None:
                yield device_entry, *known

    def remove(self, device_entry: DeviceEntry) -> None:
        """Take a registry device away, with its entities."""
        dr.async_get(self._hass).async_remove_device(device_entry.id)

    def device_id(self, scope: Scope, object_id: str) -> str | None:
        """Return the registry id of a room or device, None before it has one."""
        entry = dr.async_get(self._hass).async_get_device_by_identifier(
            self._identifier(scope, object_id), self._entry.entry_id
        )
        return None if entry is None else entry.id

    def entity_id(
        self, scope: Scope, object_id: str, platform: Platform, key: str
    ) -> str | None:
        """Return the id of a room's or device's entity, None before it has one."""
        return er.async_get(self._hass).async_get_entity_id(
            platform, DOMAIN, unique_id(self._entry.entry_id, scope, object_id, key)
        )

    def enabled_entity_id(
        self, scope: Scope, object_id: str, platform: Platform, key: str
    ) -> str | None:
        """Return the id of a room's or device's entity unless it is disabled."""
        registry = er.async_get(self._hass)
        entity_id = registry.async_get_entity_id(
            platform, DOMAIN, unique_id(self._entry.entry_id, scope, object_id, key)
        )
        if entity_id is None or registry.entities[entity_id].disabled:
            return None
        return entity_id

    def mac(self, device_id: str) -> str | None:
        """Return a voice device's MAC address: its id, or its registry connection."""
        if (mac := _mac_or_none(device_id)) is not None:
            return mac
        entry = dr.async_get(self._hass).async_get_device_by_identifier(
            self._identifier(Scope.DEVICE, device_id), self._entry.entry_id
        )
        return None if entry is None else mac_of(entry)

    def update_device(self, device: Device) -> None:
        """Carry a new announced name or type to the device registry."""
        registry = dr.async_get(self._hass)
        entry = registry.async_get_device_by_identifier(
            self._identifier(Scope.DEVICE, device.device_id), self._entry.entry_id
        )
        # Before its entities are added the device is not registered yet; they
        # will register it with the new name.
        if entry is not None:
            registry.async_update_device(
                entry.id, name=device.name or device.device_id, model=device.device_type
            )
