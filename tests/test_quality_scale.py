"""quality_scale.yaml, claim by claim: what a program can check, it checks."""

from __future__ import annotations

import ast
from collections.abc import Callable
import json
from pathlib import Path
import re

import pytest
import yaml

from custom_components.voice_mqtt import PLATFORMS
from custom_components.voice_mqtt.binary_sensor import (
    BRIDGE_BINARY_SENSORS,
    DEVICE_BINARY_SENSORS,
    ROOM_BINARY_SENSORS,
)
from custom_components.voice_mqtt.event import DEVICE_EVENTS, ROOM_EVENTS
from custom_components.voice_mqtt.sensor import (
    BRIDGE_SENSORS,
    DEVICE_SENSORS,
    ROOM_SENSORS,
    TURN_SENSORS,
)

ROOT = Path(__file__).parents[1]
PACKAGE = ROOT / "custom_components" / "voice_mqtt"
SCALE = yaml.safe_load((PACKAGE / "quality_scale.yaml").read_text())["rules"]
README = (ROOT / "README.md").read_text()
# What users read: the README, and the pages of docs/ it links to.
DOCS = [README, *(path.read_text() for path in sorted((ROOT / "docs").glob("*.md")))]
MANIFEST = json.loads((PACKAGE / "manifest.json").read_text())
STRINGS = json.loads((PACKAGE / "translations" / "en.json").read_text())
ICONS = json.loads((PACKAGE / "icons.json").read_text())
DESCRIPTIONS = {
    "binary_sensor": BRIDGE_BINARY_SENSORS
    + ROOM_BINARY_SENSORS
    + DEVICE_BINARY_SENSORS,
    "event": ROOM_EVENTS + DEVICE_EVENTS,
    "sensor": BRIDGE_SENSORS + ROOM_SENSORS + TURN_SENSORS + DEVICE_SENSORS,
}

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


def source(module: str) -> str:
    return (PACKAGE / module).read_text()


def status(rule: str) -> str:
    value = SCALE[rule]
    return value if isinstance(value, str) else value["status"]


def defines(module: str, name: str) -> bool:
    tree = ast.parse(source(module))
    return any(
        isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
        and node.name == name
        for node in ast.walk(tree)
    )


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


def _entity_translation_keys() -> set[tuple[str, str]]:
    return {
        (platform, description.translation_key or "")
        for platform, descriptions in DESCRIPTIONS.items()
        for description in descriptions
    }


CHECKS: dict[str, Callable[[], bool]] = {
    "action-setup": lambda: (
        "async_setup_services(hass)" in source("__init__.py")
        and defines("__init__.py", "async_setup")
    ),
    "brands": (PACKAGE / "brand" / "icon.png").is_file,
    "config-flow": lambda: (
        MANIFEST["config_flow"] is True and defines("config_flow.py", "async_step_user")
    ),
    "docs-actions": lambda: documented("Service actions"),
    "docs-high-level-description": lambda: README.startswith("# Voice Assistant MQTT"),
    "docs-installation-instructions": lambda: documented("Installation"),
    "docs-removal-instructions": lambda: documented("Removal"),
    "entity-event-setup": lambda: "async_on_remove" in source("entity.py"),
    "entity-unique-id": lambda: "_attr_unique_id" in source("entity.py"),
    "has-entity-name": lambda: "_attr_has_entity_name = True" in source("entity.py"),
    "runtime-data": lambda: "entry.runtime_data = hub" in source("__init__.py"),
    "test-before-setup": lambda: "ConfigEntryNotReady" in source("__init__.py"),
    "unique-config-entry": lambda: (
        "_abort_if_unique_id_configured" in source("config_flow.py")
    ),
    "config-entry-unloading": lambda: defines("__init__.py", "async_unload_entry"),
    "docs-configuration-parameters": lambda: documented("Configuration"),
    "docs-installation-parameters": lambda: documented("Configuration"),
    "integration-owner": lambda: bool(MANIFEST["codeowners"]),
    "log-when-unavailable": lambda: "connection lost" in source("broker/connection.py"),
    "parallel-updates": lambda: all(
        "PARALLEL_UPDATES = " in source(f"{platform}.py") for platform in PLATFORMS
    ),
    "test-coverage": lambda: (
        int(
            re.search(
                r"--cov-fail-under=(\d+)", (ROOT / "scripts" / "test").read_text()
            )[1]  # type: ignore[index]
        )
        >= 95
    ),
    "diagnostics": lambda: defines(
        "diagnostics.py", "async_get_config_entry_diagnostics"
    ),
    "discovery": lambda: (
        bool(MANIFEST["mqtt"]) and defines("config_flow.py", "async_step_mqtt")
    ),
    "docs-examples": lambda: documented("Examples"),
    "docs-known-limitations": lambda: documented("Known limitations"),
    "docs-supported-devices": lambda: documented("Voice devices"),
    "docs-supported-functions": lambda: documented("What you get"),
    "docs-troubleshooting": lambda: documented("Troubleshooting"),
    "dynamic-devices": lambda: "room_arrivals" in source("entity.py"),
    "entity-category": lambda: any(
        d.entity_category
        for descriptions in DESCRIPTIONS.values()
        for d in descriptions
    ),
    "entity-device-class": lambda: any(
        d.device_class for descriptions in DESCRIPTIONS.values() for d in descriptions
    ),
    "entity-disabled-by-default": lambda: any(
        not d.entity_registry_enabled_default
        for descriptions in DESCRIPTIONS.values()
        for d in descriptions
    ),
    "entity-translations": lambda: all(
        key in STRINGS["entity"][platform]
        for platform, key in _entity_translation_keys()
    ),
    "icon-translations": lambda: all(
        key in ICONS["entity"][platform] for platform, key in _entity_translation_keys()
    ),
    "reconfiguration-flow": lambda: defines("config_flow.py", "async_step_reconfigure"),
    "repair-issues": lambda: (
        "async_create_issue" in source("issues/catalog.py")
        and "raise_issue" in source("fleet/limits.py")
        and bool(STRINGS["issues"])
    ),
    "stale-devices": lambda: (
        defines("__init__.py", "async_remove_config_entry_device")
        and "stale_device_days" in source("registry/last_seen.py")
    ),
    "strict-typing": lambda: (
        "strict = true" in (ROOT / "pyproject.toml").read_text()
        and "entry: VoiceMqttConfigEntry" in source("__init__.py")
    ),
}


@pytest.mark.parametrize("rule", sorted(CHECKS))
def test_what_is_claimed_is_true(rule: str) -> None:
    assert status(rule) == "done", f"{rule} can be checked: make it done"
    assert CHECKS[rule](), f"quality_scale.yaml says {rule} is done; it is not"


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


def test_the_exemptions_hold() -> None:
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
    # appropriate-polling: push only, nothing polls.
    assert MANIFEST["iot_class"] == "local_push"
    assert "_attr_should_poll = False" in source("entity.py")
    # dependency-transparency: no requirements of its own.
    assert MANIFEST["requirements"] == []
    # inject-websession: no HTTP at all.
    assert not any("aiohttp" in path.read_text() for path in PACKAGE.rglob("*.py"))
    # reauthentication-flow: no credentials of its own.
    assert "password" not in source("config_flow.py").lower()
