"""The sensor platform: every sensor of a fleet, snapshotted as users get them.

State, entity registry entry and device entry of each, after the entity
contract's scenario (tests/test_contract.py): rooms that talk, devices that
play, idle and die.
"""

from __future__ import annotations

from collections.abc import Generator
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from syrupy.assertion import SnapshotAssertion

from tests.common import snapshot_platform_entities
from tests.test_contract import T0, _play_the_scenario as play_the_scenario


@pytest.fixture(autouse=True)
def only_this_platform() -> Generator[None]:
    """Load the sensor platform alone (from set-up to the unload after the test)."""
    with patch("custom_components.voice_mqtt.PLATFORMS", [Platform.SENSOR]):
        yield


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_sensors(
    hass: HomeAssistant,
    integration: MockConfigEntry,
    snapshot: SnapshotAssertion,
    freezer: FrozenDateTimeFactory,
) -> None:
    freezer.move_to(T0)
    play_the_scenario(hass, freezer)
    await hass.async_block_till_done()
    await snapshot_platform_entities(hass, integration.entry_id, snapshot)
