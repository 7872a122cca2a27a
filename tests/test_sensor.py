"""The sensor platform: every sensor of a fleet, snapshotted as users get them.

State, entity registry entry and device entry of each, after the entity
contract's scenario (tests/scenario.py): rooms that talk, devices that
play, idle and die.
"""

from __future__ import annotations

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from syrupy.assertion import SnapshotAssertion

from tests.scenario import snapshot_the_platform


@pytest.fixture
def platforms() -> list[Platform]:
    """The sensor platform alone."""
    return [Platform.SENSOR]


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_sensors(
    hass: HomeAssistant,
    integration: MockConfigEntry,
    snapshot: SnapshotAssertion,
    freezer: FrozenDateTimeFactory,
) -> None:
    await snapshot_the_platform(hass, integration.entry_id, snapshot, freezer)
