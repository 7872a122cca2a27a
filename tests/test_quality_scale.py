"""quality_scale.yaml, claim by claim: what a program can check, it checks.

Each claim is checked by what it does in a running Home Assistant, or by the
files voice_mqtt ships (manifest, translations, documents): never by words
in the source code.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
import importlib
import json
import logging
from pathlib import Path
import re
import tomllib
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import SOURCE_MQTT, SOURCE_USER, ConfigEntryState
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import (
    device_registry as dr,
    entity_registry as er,
    issue_registry as ir,
)
from homeassistant.helpers.entity import Entity
from homeassistant.helpers.entity_platform import async_get_platforms
from homeassistant.helpers.entity_registry import RegistryEntryDisabler
from homeassistant.helpers.service_info.mqtt import MqttServiceInfo
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import (
    MqttMockHAClient,
    MqttMockPahoClient,
    WebSocketGenerator,
)
import yaml

from custom_components.voice_mqtt import PLATFORMS
from custom_components.voice_mqtt.const import DOMAIN
from custom_components.voice_mqtt.diagnostics import (
    async_get_config_entry_diagnostics,
)
from custom_components.voice_mqtt.hub import VoiceMqttHub
from tests.common import disconnect, reconnect, remove_device_in_ui, send
from tests.conftest import DEFAULT_DATA
from tests.scenario import T0, play_the_scenario

ROOT = Path(__file__).parents[1]
PACKAGE = ROOT / "custom_components" / "voice_mqtt"
SCALE = yaml.safe_load((PACKAGE / "quality_scale.yaml").read_text())["rules"]
README = (ROOT / "README.md").read_text()
# What users read: the README, and the pages of docs/ it links to.
DOCS = [README, *(path.read_text() for path in sorted((ROOT / "docs").glob("*.md")))]
MANIFEST = json.loads((PACKAGE / "manifest.json").read_text())
STRINGS = json.loads((PACKAGE / "translations" / "en.json").read_text())
ICONS = json.loads((PACKAGE / "icons.json").read_text())

# Home Assistant's rules (script/hassfest/quality_scale.py, 2026.10), by tier.
RULES = {
    "bronze": """action-setup appropriate-polling brands common-modules config-flow
        config-flow-test-coverage dependency-transparency docs-actions docs-conditions
        docs-high-level-description docs-installation-instructions
        docs-removal-instructions docs-triggers entity-event-setup entity-unique-id
        has-entity-name runtime-data test-before-configure test-before-setup
        unique-config-entry""",
    "silver": """action-exceptions config-entry-unloading docs-configuration-parameters
        docs-installation-parameters entity-unavailable integration-owner
        log-when-unavailable parallel-updates reauthentication-flow test-coverage""",
    "gold": """devices diagnostics discovery discovery-update-info docs-data-update
        docs-examples docs-known-limitations docs-supported-devices
        docs-supported-functions docs-troubleshooting docs-use-cases dynamic-devices
        entity-category entity-device-class entity-disabled-by-default
        entity-translations exception-translations icon-translations
        reconfiguration-flow repair-issues stale-devices""",
    "platinum": "async-dependency inject-websession strict-typing",
}
ALL_RULES = {rule for names in RULES.values() for rule in names.split()}


def status(rule: str) -> str:
    value = SCALE[rule]
    return value if isinstance(value, str) else value["status"]


def documented(*headings: str) -> bool:
    """Whether each heading is one of the README's or of a page of docs/."""
    return all(
        any(re.search(rf"^#+ .*{heading}", text, re.M) for text in DOCS)
        for heading in headings
    )


def test_every_rule_is_there_once_with_a_reason_for_each_exemption() -> None:
    assert set(SCALE) == ALL_RULES
    for rule, value in SCALE.items():
        if isinstance(value, dict):
            assert value["status"] in ("done", "exempt", "todo"), rule
            if value["status"] == "exempt":
                assert value.get("comment"), f"{rule}: an exemption needs a reason"
        else:
            assert value == "done", rule


# Claims a program can check, each by what it does in a running Home
# Assistant (or by the files it ships): never by words in the source.
DOC_CHECKS: dict[str, Callable[[], bool]] = {
    "brands": (PACKAGE / "brand" / "icon.png").is_file,
    "docs-actions": lambda: documented("Service actions"),
    "docs-high-level-description": lambda: README.startswith("# Voice Assistant MQTT"),
    "docs-installation-instructions": lambda: documented("Installation"),
    "docs-removal-instructions": lambda: documented("Removal"),
    "docs-configuration-parameters": lambda: documented("Configuration"),
    "docs-installation-parameters": lambda: documented("Configuration"),
    "integration-owner": lambda: bool(MANIFEST["codeowners"]),
    "docs-examples": lambda: documented("Examples"),
    "docs-known-limitations": lambda: documented("Known limitations"),
    "docs-supported-devices": lambda: documented("Voice devices"),
    "docs-supported-functions": lambda: documented("What you get"),
    "docs-troubleshooting": lambda: documented("Troubleshooting"),
    "strict-typing": lambda: (
        tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mypy"]["strict"]
        is True
    ),
}


@pytest.mark.parametrize("rule", sorted(DOC_CHECKS))
def test_what_is_claimed_is_true(rule: str) -> None:
    assert status(rule) == "done", f"{rule} can be checked: make it done"
    assert DOC_CHECKS[rule](), f"quality_scale.yaml says {rule} is done; it is not"


def _entries(hass: HomeAssistant, entry: MockConfigEntry) -> list[er.RegistryEntry]:
    return er.async_entries_for_config_entry(er.async_get(hass), entry.entry_id)


def _entities(hass: HomeAssistant) -> list[Entity]:
    return [
        entity
        for platform in async_get_platforms(hass, DOMAIN)
        for entity in platform.entities.values()
    ]


@pytest.fixture
async def fleet(
    hass: HomeAssistant, integration: MockConfigEntry, freezer: FrozenDateTimeFactory
) -> MockConfigEntry:
    """The entry, after the contract's scenario: rooms, devices, every platform."""
    freezer.move_to(T0)
    play_the_scenario(hass, freezer)
    await hass.async_block_till_done()
    return integration


async def test_actions_are_set_up_without_any_entry(hass: HomeAssistant) -> None:
    """action-setup: registered in async_setup, there before an entry loads."""
    assert status("action-setup") == "done"
    assert await async_setup_component(hass, DOMAIN, {})
    assert set(hass.services.async_services_for_domain(DOMAIN)) == {
        "ws_start",
        "display_action",
        "send_command",
        "get_history",
    }
    with pytest.raises(ServiceValidationError):
        await hass.services.async_call(
            DOMAIN,
            "send_command",
            {"device": "VR_1", "command": "play"},
            blocking=True,
        )


@pytest.mark.usefixtures("mqtt_mock")
async def test_the_flows_config_discovery_reconfigure_unique(
    hass: HomeAssistant, integration: MockConfigEntry
) -> None:
    """config-flow, unique-config-entry, discovery, reconfiguration-flow."""
    for rule in ("config-flow", "unique-config-entry", "discovery"):
        assert status(rule) == "done"
    assert MANIFEST["config_flow"] is True
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    assert result["type"] is FlowResultType.FORM
    # The same voice topics again (with devices elsewhere): one entry is enough.
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**DEFAULT_DATA, "device_prefix": "other_devices"}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    assert MANIFEST["mqtt"] == ["devices/discovery/announce"]
    result = await hass.config_entries.flow.async_init(
        DOMAIN,
        context={"source": SOURCE_MQTT},
        data=MqttServiceInfo(
            topic="devices/discovery/announce",
            payload="{}",
            qos=1,
            retain=False,
            subscribed_topic="devices/discovery/announce",
            timestamp=0,
        ),
    )
    assert result["type"] is FlowResultType.ABORT  # the fleet is configured already
    result = await integration.start_reconfigure_flow(hass)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reconfigure"


async def test_set_up_retries_until_mqtt_is_ready_and_unloads(
    hass: HomeAssistant, mqtt_mock: MqttMockHAClient, config_entry: MockConfigEntry
) -> None:
    """test-before-setup, runtime-data, config-entry-unloading."""
    config_entry.add_to_hass(hass)
    with patch(
        "homeassistant.components.mqtt.async_wait_for_mqtt_client", return_value=False
    ):
        await hass.config_entries.async_setup(config_entry.entry_id)
    assert config_entry.state is ConfigEntryState.SETUP_RETRY
    await hass.config_entries.async_reload(config_entry.entry_id)
    await hass.async_block_till_done()
    assert config_entry.state is ConfigEntryState.LOADED
    assert isinstance(config_entry.runtime_data, VoiceMqttHub)
    assert await hass.config_entries.async_unload(config_entry.entry_id)
    assert config_entry.state is ConfigEntryState.NOT_LOADED


# With a voice server URL, so that the voice box has its button: every platform.
@pytest.mark.parametrize("entry_options", [{"ws_url": "wss://voice.example/ws"}])
async def test_every_entity_has_a_unique_id_a_translated_name_and_an_icon(
    hass: HomeAssistant, fleet: MockConfigEntry
) -> None:
    """entity-unique-id, has-entity-name, entity-translations, icon-translations."""
    entries = _entries(hass, fleet)
    assert len(entries) > 40
    for entry in entries:
        assert entry.unique_id.startswith(f"{fleet.entry_id}_")
        assert entry.has_entity_name
        assert entry.translation_key in STRINGS["entity"][entry.domain], entry
        assert entry.translation_key in ICONS["entity"][entry.domain], entry
    assert {entry.domain for entry in entries} == {p.value for p in PLATFORMS}


async def test_categories_classes_and_disabled_entities_are_used(
    hass: HomeAssistant, fleet: MockConfigEntry
) -> None:
    """entity-category, entity-device-class, entity-disabled-by-default."""
    entries = _entries(hass, fleet)
    assert any(entry.entity_category for entry in entries)
    assert any(entry.original_device_class for entry in entries)
    assert any(
        entry.disabled_by is RegistryEntryDisabler.INTEGRATION for entry in entries
    )


async def test_entities_are_pushed_to_and_stop_listening_when_removed(
    hass: HomeAssistant, fleet: MockConfigEntry
) -> None:
    """appropriate-polling (exempt: nothing polls), entity-event-setup."""
    entities = _entities(hass)
    assert entities
    assert not any(entity.should_poll for entity in entities)
    assert MANIFEST["iot_class"] == "local_push"
    hub: VoiceMqttHub = fleet.runtime_data
    listening = sum(len(each) for each in hub.listeners._listeners.values())
    registry = er.async_get(hass)
    registry.async_remove("sensor.den_headset_status")
    await hass.async_block_till_done()
    assert hass.states.get("sensor.den_headset_status") is None
    after = sum(len(each) for each in hub.listeners._listeners.values())
    assert after < listening


async def test_platforms_say_how_many_updates_run_at_once(hass: HomeAssistant) -> None:
    """parallel-updates: every platform states it (0: nothing does I/O)."""
    for platform in PLATFORMS:
        module = importlib.import_module(f"custom_components.voice_mqtt.{platform}")
        assert module.PARALLEL_UPDATES == 0


async def test_a_lost_broker_is_logged_once_and_entities_go_unavailable(
    hass: HomeAssistant,
    fleet: MockConfigEntry,
    mqtt_mock: MqttMockHAClient,
    mqtt_client_mock: MqttMockPahoClient,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """log-when-unavailable, entity-unavailable."""
    disconnect(mqtt_mock, mqtt_client_mock)
    await hass.async_block_till_done()
    assert hass.states.get("sensor.den_headset_status").state == STATE_UNAVAILABLE
    lost = [r for r in caplog.records if "connection lost" in r.getMessage()]
    assert len(lost) == 1
    assert lost[0].levelno == logging.WARNING
    reconnect(mqtt_mock, mqtt_client_mock)
    await hass.async_block_till_done()
    assert hass.states.get("sensor.den_headset_status").state == "playing"


async def test_new_devices_appear_and_stale_ones_can_be_removed(
    hass: HomeAssistant, fleet: MockConfigEntry, hass_ws_client: WebSocketGenerator
) -> None:
    """dynamic-devices, stale-devices, diagnostics, devices."""
    send(hass, "devices/NEW_1/status", {"deviceId": "NEW_1", "status": "idle"})
    await hass.async_block_till_done()
    assert hass.states.get("sensor.new_1_status").state == "idle"
    devices = dr.async_get(hass)
    device = devices.async_get_device_by_identifier(
        (DOMAIN, f"{fleet.entry_id}_device_NEW_1"), fleet.entry_id
    )
    assert device is not None
    assert await async_setup_component(hass, "config", {})
    client = await hass_ws_client(hass)
    answer = await remove_device_in_ui(client, device.id, fleet.entry_id)
    assert answer["success"]
    assert devices.async_get(device.id) is None
    diagnostics = await async_get_config_entry_diagnostics(hass, fleet)
    assert diagnostics["known"]["devices"] == 3


@pytest.mark.parametrize("entry_options", [{"max_devices": 1}])
async def test_a_full_entry_raises_a_repair_issue(
    hass: HomeAssistant, integration: MockConfigEntry
) -> None:
    """repair-issues."""
    for device_id in ("D1", "D2"):
        send(hass, f"devices/{device_id}/status", {"status": "idle"})
    await hass.async_block_till_done()
    issues = [
        issue
        for (domain, _), issue in ir.async_get(hass).issues.items()
        if domain == DOMAIN
    ]
    assert [issue.translation_key for issue in issues] == ["too_many_devices"]
    assert issues[0].translation_key in STRINGS["issues"]


@pytest.mark.parametrize(
    ("rule", "module"),
    [
        ("docs-triggers", "device_trigger.py"),
        ("docs-conditions", "device_condition.py"),
    ],
)
def test_triggers_and_conditions_are_documented_once_they_exist(
    rule: str, module: str
) -> None:
    exists = (PACKAGE / module).is_file()
    assert (status(rule) == "done") is exists
    if exists:
        assert documented("Automations from a device")


@pytest.mark.usefixtures("mqtt_mock")
async def test_the_exemptions_hold(hass: HomeAssistant) -> None:
    exempt = {rule for rule in SCALE if status(rule) == "exempt"}
    assert exempt == {
        "appropriate-polling",
        "dependency-transparency",
        "discovery-update-info",
        "docs-conditions",
        "docs-triggers",
        "inject-websession",
        "reauthentication-flow",
    } - {
        rule for rule in ("docs-conditions", "docs-triggers") if status(rule) == "done"
    }
    # appropriate-polling: see test_entities_are_pushed_to_and_stop_listening...
    # dependency-transparency: no requirements of its own.
    assert MANIFEST["requirements"] == []
    # inject-websession: no HTTP client at all.
    http_clients = {"aiohttp", "httpx", "requests", "urllib3"}
    for path in PACKAGE.rglob("*.py"):
        tree = ast.parse(path.read_text())
        imported = {
            alias.name.partition(".")[0]
            for node in ast.walk(tree)
            if isinstance(node, ast.Import)
            for alias in node.names
        } | {
            (node.module or "").partition(".")[0]
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and node.level == 0
        }
        assert not imported & http_clients, path
    # reauthentication-flow: no credentials of its own to ask again.
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    fields = {str(key) for key in result["data_schema"].schema}
    assert not {field for field in fields if "password" in field or "token" in field}
