"""The entity contract (design.md), pinned by one fixed scenario.

Automations, dashboards and voice depend on what this snapshot holds: every
device registry entry, entity registry entry and state of one config entry,
after rooms talk, devices come and go, a tool runs and a device dies. It
changes only when the contract does: a change that adds or alters an entity
updates tests/snapshots/test_contract.ambr in the same commit, for a reviewer
to see.
"""

from __future__ import annotations

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry
from syrupy.assertion import SnapshotAssertion

from .scenario import T0, play_the_scenario


async def test_the_entity_contract_holds(
    hass: HomeAssistant,
    integration: MockConfigEntry,
    device_registry: dr.DeviceRegistry,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
    freezer: FrozenDateTimeFactory,
) -> None:
    freezer.move_to(T0)
    play_the_scenario(hass, freezer)
    await hass.async_block_till_done()

    devices = sorted(
        dr.async_entries_for_config_entry(device_registry, integration.entry_id),
        key=lambda device: sorted(device.identifiers),
    )
    assert [sorted(device.identifiers) for device in devices] == snapshot(
        name="identifiers"
    )
    for device in devices:
        (identifier,) = (value for _, value in device.identifiers)
        assert device == snapshot(name=f"device-{identifier}")
    entries = sorted(
        er.async_entries_for_config_entry(entity_registry, integration.entry_id),
        key=lambda entry: entry.entity_id,
    )
    assert [(entry.entity_id, entry.unique_id) for entry in entries] == snapshot(
        name="entities"
    )
    for entry in entries:
        assert entry == snapshot(name=f"{entry.entity_id}-entry")
        assert hass.states.get(entry.entity_id) == snapshot(
            name=f"{entry.entity_id}-state"
        )
