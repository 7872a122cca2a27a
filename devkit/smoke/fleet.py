"""What scripts/smoke sees of the simulated fleet in Home Assistant.

Read from the device and entity registries and the states, as the UI reads
them; plain functions of that data, tested without Home Assistant.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

from devkit import DOMAIN

QUIET: Final = frozenset({"unknown", "unavailable"})


@dataclass(frozen=True)
class SeenDevice:
    """A room or a voice device of the entry, as the registries show it."""

    registry_id: str
    scope: str  # "room" or "device"
    object_id: str  # the fleet's id: VR_0001, living_room
    model: str | None
    mac: str | None
    # translation key -> state ("" when the entity has no state)
    states: dict[str, str] = field(default_factory=dict)


@dataclass
class FleetView:
    """The entry's rooms and voice devices, with their entities' states."""

    devices: list[SeenDevice]

    def of_scope(self, scope: str) -> list[SeenDevice]:
        """Return the rooms or the voice devices."""
        return [device for device in self.devices if device.scope == scope]

    def entities(self) -> int:
        """Return how many entities the rooms and voice devices have."""
        return sum(len(device.states) for device in self.devices)

    def without_state(self) -> list[str]:
        """Return the entities (device/key) that have no state at all."""
        return [
            f"{device.object_id}/{key}"
            for device in self.devices
            for key, state in device.states.items()
            if not state
        ]

    def online(self) -> int:
        """Return how many voice devices are connected."""
        return sum(
            device.states.get("connectivity") == "on"
            for device in self.of_scope("device")
        )

    def heard(self) -> dict[str, str]:
        """Return each room's transcript, for the rooms that heard something."""
        return {
            room.object_id: room.states["transcript"]
            for room in self.of_scope("room")
            if room.states.get("transcript", "unknown") not in QUIET | {""}
        }

    def complete(self, devices: int, rooms: int) -> bool:
        """Tell whether the fleet shows: every entity, all online, rooms talking."""
        return (
            len(self.of_scope("device")) >= devices
            and len(self.of_scope("room")) >= rooms
            and not self.without_state()
            and self.online() == len(self.of_scope("device"))
            and len(self.heard()) == len(self.of_scope("room"))
        )

    def summary(self) -> str:
        """Say what shows, in one line."""
        voice = self.of_scope("device")
        text = (
            f"{counted(len(voice), 'device')} and"
            f" {counted(len(self.of_scope('room')), 'room')},"
            f" {counted(self.entities(), 'entity')}"
            f" ({len(self.without_state())} without a state),"
            f" {self.online()} of {len(voice)} online"
        )
        for room, transcript in sorted(self.heard().items()):
            text += f", {room} heard {transcript[:60]!r}"
        return text

    def device_of_model(self, model: str) -> SeenDevice:
        """Return the first voice device of a model (vr, voice_box), or raise."""
        for device in self.of_scope("device"):
            if device.model == model:
                return device
        raise RuntimeError(f"no {model} among {[d.object_id for d in self.devices]}")


def counted(number: int, thing: str) -> str:
    """Return `1 room`, `3 devices`, `21 entities`."""
    if number == 1:
        return f"1 {thing}"
    return f"{number} {thing[:-1]}ies" if thing.endswith("y") else f"{number} {thing}s"


def see_fleet(
    devices: list[dict[str, Any]],
    entities: list[dict[str, Any]],
    states: list[dict[str, Any]],
    entry_id: str,
) -> FleetView:
    """Read the entry's rooms and voice devices from the registries' lists."""
    state_of = {state["entity_id"]: str(state["state"]) for state in states}
    by_device: dict[str, dict[str, str]] = {}
    for entity in entities:
        if entity.get("config_entry_id") != entry_id or entity.get("disabled_by"):
            continue
        key = entity.get("translation_key") or entity["entity_id"]
        by_device.setdefault(str(entity.get("device_id")), {})[key] = state_of.get(
            entity["entity_id"], ""
        )
    seen = []
    for device in devices:
        if entry_id not in device.get("config_entries", ()):
            continue
        for domain, identifier in device.get("identifiers", ()):
            scope, _, object_id = (
                str(identifier).removeprefix(f"{entry_id}_").partition("_")
            )
            if domain != DOMAIN or scope not in ("room", "device"):
                continue
            macs = [
                value for kind, value in device.get("connections", ()) if kind == "mac"
            ]
            seen.append(
                SeenDevice(
                    registry_id=device["id"],
                    scope=scope,
                    object_id=object_id,
                    model=device.get("model"),
                    mac=macs[0] if macs else None,
                    states=by_device.get(device["id"], {}),
                )
            )
    return FleetView(seen)
