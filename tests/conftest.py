"""Shared fixtures.

Home Assistant puts its test config folder on sys.path, and the plugin ships a
`custom_components` package there; importing ours first makes the loader find
voice_mqtt instead of reporting "Integration not found".
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Generator
from typing import Any
from unittest.mock import Mock, PropertyMock, patch

from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.syrupy import (
    HomeAssistantSnapshotExtension,
)
from pytest_homeassistant_custom_component.typing import (
    MqttMockHAClient,
    MqttMockPahoClient,
)
from syrupy.assertion import SnapshotAssertion

import custom_components.voice_mqtt  # noqa: F401  (see the module docstring)
from custom_components.voice_mqtt.const import DOMAIN

DEFAULT_DATA: dict[str, str] = {
    "version": "v1",
    "base": "voice_assistant",
    "device_prefix": "devices",
    "session_prefix": "sessions",
    "admin_prefix": "admin",
    "xiaozhi_prefix": "xiaozhi",
}


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(request: pytest.FixtureRequest) -> None:
    """Let Home Assistant load integrations from custom_components.

    A test that records states needs the recorder before `hass` exists, so its
    fixture is resolved first.
    """
    if "recorder_mock" in request.fixturenames:
        request.getfixturevalue("recorder_mock")
    request.getfixturevalue("enable_custom_integrations")


@pytest.fixture
def platforms() -> list[Platform] | None:
    """The platforms the entry loads; None: all. A platform's tests name theirs."""
    return None


@pytest.fixture(autouse=True)
def only_these_platforms(platforms: list[Platform] | None) -> Generator[None]:
    """Load only the platforms asked for, from set-up to the unload after the test."""
    if platforms is None:
        yield
        return
    with patch("custom_components.voice_mqtt.PLATFORMS", platforms):
        yield


@pytest.fixture
def entity_registry_enabled_by_default() -> Generator[None]:
    """Every entity enabled, those disabled by default too (as core's fixture)."""
    with patch(
        "homeassistant.helpers.entity.Entity.entity_registry_enabled_default",
        return_value=True,
        new_callable=PropertyMock,
    ):
        yield


@pytest.fixture
def snapshot(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    """Snapshots that know Home Assistant's types (ids and times become ANY)."""
    return snapshot.use_extension(HomeAssistantSnapshotExtension)


@pytest.fixture
async def mqtt_mock(
    hass: HomeAssistant,
    mqtt_mock: MqttMockHAClient,
    mqtt_client_mock: MqttMockPahoClient,
) -> AsyncGenerator[MqttMockHAClient]:
    """Mocked MQTT, unloaded after the test with every entry that uses it.

    Unloading makes the plugin's lingering-timer check meaningful: any timer
    voice_mqtt leaves behind after its unload fails the test.
    """
    yield mqtt_mock
    for entry in hass.config_entries.async_entries(DOMAIN):
        if entry.state is ConfigEntryState.LOADED:
            assert await hass.config_entries.async_unload(entry.entry_id)
    for entry in hass.config_entries.async_entries("mqtt"):
        if entry.state is ConfigEntryState.LOADED:
            assert await hass.config_entries.async_unload(entry.entry_id)
    # The mocked socket never closes by itself; closing it stops MQTT's own
    # periodic timer, which is not ours to be blamed for.
    mqtt_client_mock.on_socket_close(
        mqtt_client_mock, None, Mock(fileno=Mock(return_value=-1))
    )
    await hass.async_block_till_done()


@pytest.fixture
def entry_data() -> dict[str, str]:
    """Namespace of the entry under test; override to test other layouts."""
    return dict(DEFAULT_DATA)


@pytest.fixture
def entry_options() -> dict[str, Any]:
    """Options of the entry under test."""
    return {}


@pytest.fixture
def config_entry(
    entry_data: dict[str, str], entry_options: dict[str, Any]
) -> MockConfigEntry:
    """An entry for the default namespace, not yet added."""
    version = entry_data["version"]
    base = entry_data["base"]
    return MockConfigEntry(
        domain=DOMAIN,
        title="Voice Assistant MQTT",
        data=entry_data,
        options=entry_options,
        unique_id=f"{version}/{base}" if version else base,
        entry_id="01TESTENTRY",
    )


@pytest.fixture
async def integration(
    hass: HomeAssistant, mqtt_mock: MqttMockHAClient, config_entry: MockConfigEntry
) -> MockConfigEntry:
    """The entry set up on mocked MQTT."""
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    return config_entry
