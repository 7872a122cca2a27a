"""Device conditions: listed on the right devices, and gating real automations.

And the documented device automations, which use both triggers and conditions.
"""

from __future__ import annotations

from datetime import timedelta
import json
from pathlib import Path
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.device_automation import DeviceAutomationType
from homeassistant.components.device_automation.exceptions import (
    InvalidDeviceAutomationConfig,
)
from homeassistant.components.device_automation.helpers import (
    async_validate_device_automation_config,
)
from homeassistant.components.device_automation.trigger import (
    async_validate_trigger_config,
)
from homeassistant.core import HomeAssistant, ServiceCall
from homeassistant.helpers import config_validation as cv, entity_registry as er
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
    async_get_device_automations,
    async_mock_service,
)
from pytest_homeassistant_custom_component.typing import WebSocketGenerator
import yaml

from custom_components.voice_mqtt import device_condition, device_trigger
from custom_components.voice_mqtt.compat import vol
from custom_components.voice_mqtt.const import DOMAIN

from .automations import (
    CONNECTIVITY,
    DEVICE,
    ROOM,
    Fleet,
    automate,
    bridge_device,
    registry_device,
)
from .common import remove_device_in_ui

TEST_EVENT = "voice_mqtt_test_check"


@pytest.fixture
async def fleet(hass: HomeAssistant, integration: MockConfigEntry) -> Fleet:
    """A voice device online, and a room that is idle.

    A test that moves the clock asks for freezer before this: freezing jumps
    the loop's monotonic clock past every heartbeat deadline set before it,
    and the device would go offline by itself.
    """
    fleet = Fleet(hass)
    await fleet.announce()
    await fleet.room_state("idle")
    return fleet


def device_id(hass: HomeAssistant, entry: MockConfigEntry) -> str:
    return registry_device(hass, entry, "device", DEVICE).id


def room_id(hass: HomeAssistant, entry: MockConfigEntry) -> str:
    return registry_device(hass, entry, "room", ROOM).id


def condition(device: str, condition_type: str, **fields: Any) -> dict[str, Any]:
    """A device condition as the UI writes it (entity_id aside: it is optional)."""
    return {
        "condition": "device",
        "domain": DOMAIN,
        "device_id": device,
        "type": condition_type,
        **fields,
    }


async def gated(hass: HomeAssistant, *conditions: dict[str, Any]) -> list[ServiceCall]:
    """An automation run by a test event, behind the conditions."""
    return await automate(
        hass,
        [{"trigger": "event", "event_type": TEST_EVENT}],
        conditions=list(conditions),
    )


async def check(hass: HomeAssistant) -> None:
    hass.bus.async_fire(TEST_EVENT)
    await hass.async_block_till_done()


async def ours(hass: HomeAssistant, device: str) -> list[dict[str, Any]]:
    """voice_mqtt's conditions of a device (binary_sensor adds its own)."""
    listed = await async_get_device_automations(
        hass, DeviceAutomationType.CONDITION, device
    )
    return [automation for automation in listed if automation["domain"] == DOMAIN]


async def test_a_voice_device_lists_its_conditions(
    hass: HomeAssistant,
    integration: MockConfigEntry,
    fleet: Fleet,
    entity_registry: er.EntityRegistry,
) -> None:
    device = device_id(hass, integration)
    connectivity = entity_registry.async_get(CONNECTIVITY)
    assert connectivity is not None
    assert sorted(
        await ours(hass, device), key=lambda automation: automation["type"]
    ) == [
        {
            "condition": "device",
            "domain": DOMAIN,
            "device_id": device,
            "entity_id": connectivity.id,
            "type": condition_type,
            "metadata": {"secondary": False},
        }
        for condition_type in ("is_offline", "is_online")
    ]


async def test_a_room_lists_its_conditions(
    hass: HomeAssistant, integration: MockConfigEntry, fleet: Fleet
) -> None:
    listed = await ours(hass, room_id(hass, integration))
    assert {automation["type"] for automation in listed} == {
        "in_conversation",
        "not_in_conversation",
    }


async def test_the_bridge_lists_no_condition(
    hass: HomeAssistant, integration: MockConfigEntry, fleet: Fleet
) -> None:
    assert await ours(hass, bridge_device(hass, integration).id) == []


async def test_is_online(
    hass: HomeAssistant, integration: MockConfigEntry, fleet: Fleet
) -> None:
    calls = await gated(hass, condition(device_id(hass, integration), "is_online"))
    await check(hass)
    assert len(calls) == 1
    await fleet.last_will()
    await check(hass)
    assert len(calls) == 1, "offline"


async def test_is_offline(
    hass: HomeAssistant, integration: MockConfigEntry, fleet: Fleet
) -> None:
    calls = await gated(hass, condition(device_id(hass, integration), "is_offline"))
    await check(hass)
    assert calls == []
    await fleet.last_will()
    await check(hass)
    assert len(calls) == 1


async def test_is_offline_for_a_while(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    integration: MockConfigEntry,
    fleet: Fleet,
) -> None:
    calls = await gated(
        hass,
        condition(
            device_id(hass, integration), "is_offline", **{"for": {"minutes": 1}}
        ),
    )
    await fleet.last_will()
    await check(hass)
    assert calls == [], "offline only just now"
    freezer.tick(timedelta(minutes=2))
    await check(hass)
    assert len(calls) == 1


async def test_in_conversation(
    hass: HomeAssistant, integration: MockConfigEntry, fleet: Fleet
) -> None:
    room = room_id(hass, integration)
    talking = await gated(hass, condition(room, "in_conversation"))
    await check(hass)
    assert talking == []
    await fleet.room_state("listening")
    await check(hass)
    assert len(talking) == 1


async def test_not_in_conversation(
    hass: HomeAssistant, integration: MockConfigEntry, fleet: Fleet
) -> None:
    calls = await gated(
        hass, condition(room_id(hass, integration), "not_in_conversation")
    )
    await check(hass)
    assert len(calls) == 1
    await fleet.room_state("responding")
    await check(hass)
    assert len(calls) == 1, "talking"


async def test_a_renamed_entity_keeps_its_condition(
    hass: HomeAssistant,
    integration: MockConfigEntry,
    fleet: Fleet,
    entity_registry: er.EntityRegistry,
) -> None:
    calls = await gated(hass, condition(device_id(hass, integration), "is_online"))
    entity_registry.async_update_entity(
        CONNECTIVITY, new_entity_id="binary_sensor.headset_online"
    )
    await hass.async_block_till_done()
    await check(hass)
    assert len(calls) == 1


async def test_a_deleted_device_fails_its_condition(
    hass: HomeAssistant,
    integration: MockConfigEntry,
    fleet: Fleet,
    hass_ws_client: WebSocketGenerator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    device = device_id(hass, integration)
    calls = await gated(hass, condition(device, "is_online"))
    assert await async_setup_component(hass, "config", {})
    client = await hass_ws_client(hass)
    assert (await remove_device_in_ui(client, device, integration.entry_id))["success"]
    await hass.async_block_till_done()
    await check(hass)
    assert calls == []
    assert f"no connectivity on {device}" in caplog.text


async def validate(hass: HomeAssistant, config: dict[str, Any]) -> dict[str, Any]:
    """Validate as an automation does."""
    return await async_validate_device_automation_config(
        hass, config, cv.DEVICE_CONDITION_SCHEMA, DeviceAutomationType.CONDITION
    )


async def test_invalid_configs_are_refused(
    hass: HomeAssistant, integration: MockConfigEntry, fleet: Fleet
) -> None:
    device = device_id(hass, integration)
    room = room_id(hass, integration)
    for config in (
        condition(device, "is_dancing"),
        condition(device, "is_online", **{"for": "later"}),
        condition(device, "is_online", to="on"),
    ):
        with pytest.raises(vol.Invalid):
            await validate(hass, config)
    for config in (
        condition(room, "is_online"),
        condition(device, "in_conversation"),
        condition(bridge_device(hass, integration).id, "not_in_conversation"),
    ):
        with pytest.raises(InvalidDeviceAutomationConfig):
            await validate(hass, config)
    assert (await validate(hass, condition(device, "is_online", **{"for": 5})))[
        "for"
    ] == timedelta(seconds=5)


@pytest.mark.parametrize(
    "condition_type",
    ["is_online", "is_offline", "in_conversation", "not_in_conversation"],
)
async def test_capabilities(
    hass: HomeAssistant,
    integration: MockConfigEntry,
    fleet: Fleet,
    hass_ws_client: WebSocketGenerator,
    condition_type: str,
) -> None:
    device = room_id if "conversation" in condition_type else device_id
    assert await async_setup_component(hass, "device_automation", {})
    client = await hass_ws_client(hass)
    await client.send_json_auto_id(
        {
            "type": "device_automation/condition/capabilities",
            "condition": condition(device(hass, integration), condition_type),
        }
    )
    message = await client.receive_json()
    assert message["result"] == {
        "extra_fields": [
            {
                "name": "for",
                "optional": True,
                "required": False,
                "type": "positive_time_period_dict",
            }
        ]
    }


def test_every_condition_type_is_translated() -> None:
    translations = json.loads(
        (
            Path(device_condition.__file__).parent / "translations" / "en.json"
        ).read_text()
    )["device_automation"]
    assert set(translations["condition_type"]) == set(device_condition.CONDITION_TYPES)
    for text in translations["condition_type"].values():
        assert "{entity_name}" in text


AUTOMATIONS = Path(__file__).parents[1] / "docs" / "automations.md"
DOC_DEVICE = "3f6a1c0e9b2d4e5f8a7b6c5d4e3f2a1b"
DOC_ROOM = "7e6d5c4b3a2f1e0d9c8b7a6f5e4d3c2b"
DOC_CONNECTIVITY = "9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4a"
DOC_CONVERSATION = "1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d"


def documented_yaml(hass: HomeAssistant, entry: MockConfigEntry) -> list[Any]:
    """The YAML blocks of the page's device automations, with our ids in."""
    section = AUTOMATIONS.read_text().split("## Automations from a device")[1]
    section = section.split("\n## ")[0]
    registry = er.async_get(hass)
    ids = {
        DOC_DEVICE: device_id(hass, entry),
        DOC_ROOM: room_id(hass, entry),
        DOC_CONNECTIVITY: registry.async_get(CONNECTIVITY).id,
        DOC_CONVERSATION: registry.async_get(
            "binary_sensor.living_room_voice_assistant_conversation_active"
        ).id,
    }
    blocks = []
    for block in section.split("```yaml\n")[1:]:
        text = block.split("```")[0]
        for placeholder, real in ids.items():
            text = text.replace(placeholder, real)
        blocks.append(yaml.safe_load(text))
    return blocks


async def test_the_documented_example_works(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    integration: MockConfigEntry,
    fleet: Fleet,
) -> None:
    example, _ = documented_yaml(hass, integration)
    calls = async_mock_service(hass, "notify", "notify")
    assert await async_setup_component(hass, "automation", example)
    await hass.async_block_till_done()
    await fleet.last_will()
    freezer.tick(timedelta(minutes=2, seconds=1))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert [call.data for call in calls] == [
        {"message": f"{DEVICE} has been offline for 2 minutes"}
    ]


async def test_every_documented_item_is_valid(
    hass: HomeAssistant, integration: MockConfigEntry, fleet: Fleet
) -> None:
    _, items = documented_yaml(hass, integration)
    for item in items["triggers"]:
        config = {key: value for key, value in item.items() if key != "trigger"}
        await async_validate_trigger_config(hass, {**config, "platform": "device"})
    for item in items["conditions"]:
        await validate(hass, item)
    types = {item["type"] for item in items["triggers"] + items["conditions"]}
    assert types | {"offline", "not_in_conversation"} == set(
        device_condition.CONDITION_TYPES
    ) | set(device_trigger.TRIGGER_TYPES), "every type, with the full example's"
