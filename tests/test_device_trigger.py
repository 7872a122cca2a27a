"""Device triggers: listed on the right devices, and firing real automations."""

from __future__ import annotations

import asyncio
from datetime import timedelta
import json
from pathlib import Path
from typing import Any
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.device_automation import DeviceAutomationType
from homeassistant.components.device_automation.exceptions import (
    InvalidDeviceAutomationConfig,
)
from homeassistant.components.device_automation.trigger import (
    async_validate_trigger_config,
)
from homeassistant.core import HomeAssistant, ServiceCall
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.trigger import TriggerInfo
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
    async_get_device_automations,
)
from pytest_homeassistant_custom_component.typing import (
    MqttMockHAClient,
    MqttMockPahoClient,
    WebSocketGenerator,
)

from custom_components.voice_mqtt import device_trigger
from custom_components.voice_mqtt.compat import vol
from custom_components.voice_mqtt.const import DOMAIN

from .automations import (
    CONNECTIVITY,
    CONVERSATION,
    DEVICE,
    DISPLAY,
    ROOM,
    STATUS,
    TOOL,
    Fleet,
    automate,
    bridge_device,
    registry_device,
)
from .common import disconnect, reconnect, remove_device_in_ui

DEVICE_TRIGGERS = {"online", "offline", "status_changed"}
ROOM_TRIGGERS = {
    "conversation_started",
    "conversation_ended",
    "tool_executed",
    "display_action",
}


@pytest.fixture
async def fleet(hass: HomeAssistant, integration: MockConfigEntry) -> Fleet:
    """A voice device online and idle, and a room that is idle.

    A test that moves the clock asks for freezer before this: freezing jumps
    the loop's monotonic clock past every heartbeat deadline set before it,
    and the device would go offline by itself.
    """
    fleet = Fleet(hass)
    await fleet.announce()
    await fleet.status("idle")
    await fleet.room_state("idle")
    return fleet


def device_id(hass: HomeAssistant, entry: MockConfigEntry) -> str:
    return registry_device(hass, entry, "device", DEVICE).id


def room_id(hass: HomeAssistant, entry: MockConfigEntry) -> str:
    return registry_device(hass, entry, "room", ROOM).id


def trigger(device: str, trigger_type: str, **fields: Any) -> dict[str, Any]:
    """A device trigger as the UI writes it (entity_id aside: it is optional)."""
    return {
        "trigger": "device",
        "domain": DOMAIN,
        "device_id": device,
        "type": trigger_type,
        **fields,
    }


async def validate(hass: HomeAssistant, config: dict[str, Any]) -> dict[str, Any]:
    """Validate as an automation does, once it has renamed `trigger` to `platform`."""
    config = {key: value for key, value in config.items() if key != "trigger"}
    return await async_validate_trigger_config(hass, {**config, "platform": "device"})


async def ours(hass: HomeAssistant, device: str) -> list[dict[str, Any]]:
    """voice_mqtt's triggers of a device (binary_sensor adds its own)."""
    listed = await async_get_device_automations(
        hass, DeviceAutomationType.TRIGGER, device
    )
    return [automation for automation in listed if automation["domain"] == DOMAIN]


async def test_a_voice_device_lists_its_triggers(
    hass: HomeAssistant,
    integration: MockConfigEntry,
    fleet: Fleet,
    entity_registry: er.EntityRegistry,
) -> None:
    device = device_id(hass, integration)
    listed = await ours(hass, device)
    connectivity = entity_registry.async_get(CONNECTIVITY)
    status = entity_registry.async_get(STATUS)
    assert connectivity is not None
    assert status is not None
    assert sorted(listed, key=lambda automation: automation["type"]) == [
        {
            "platform": "device",
            "domain": DOMAIN,
            "device_id": device,
            "entity_id": entity.id,
            "type": trigger_type,
            "metadata": {"secondary": False},
        }
        for trigger_type, entity in (
            ("offline", connectivity),
            ("online", connectivity),
            ("status_changed", status),
        )
    ]


async def test_a_room_lists_its_triggers(
    hass: HomeAssistant, integration: MockConfigEntry, fleet: Fleet
) -> None:
    listed = await ours(hass, room_id(hass, integration))
    assert {automation["type"] for automation in listed} == ROOM_TRIGGERS
    # The UI names each after its entity, and matches saved ones by it.
    assert all("." not in automation["entity_id"] for automation in listed), (
        "registry ids, which survive renames"
    )


async def test_the_bridge_lists_no_trigger(
    hass: HomeAssistant, integration: MockConfigEntry, fleet: Fleet
) -> None:
    assert await ours(hass, bridge_device(hass, integration).id) == []


async def test_a_disabled_entity_lists_no_trigger(
    hass: HomeAssistant,
    integration: MockConfigEntry,
    fleet: Fleet,
    entity_registry: er.EntityRegistry,
) -> None:
    entity_registry.async_update_entity(
        STATUS, disabled_by=er.RegistryEntryDisabler.USER
    )
    listed = await ours(hass, device_id(hass, integration))
    assert {automation["type"] for automation in listed} == {"online", "offline"}


async def test_online_fires_when_the_device_comes_back(
    hass: HomeAssistant, integration: MockConfigEntry, fleet: Fleet
) -> None:
    device = device_id(hass, integration)
    calls = await automate(
        hass,
        [trigger(device, "online")],
        data={
            "voice_device_id": "{{ trigger.voice_device_id }}",
            "entity_id": "{{ trigger.entity_id }}",
            "device_id": "{{ trigger.device_id }}",
        },
    )
    await fleet.status("playing")
    assert calls == [], "it was online already"
    await fleet.last_will()
    assert calls == [], "offline is not online"
    await fleet.heartbeat()
    assert [call.data for call in calls] == [
        {"voice_device_id": DEVICE, "entity_id": CONNECTIVITY, "device_id": device}
    ]


async def test_offline_fires_on_the_last_will(
    hass: HomeAssistant, integration: MockConfigEntry, fleet: Fleet
) -> None:
    calls = await automate(
        hass,
        [trigger(device_id(hass, integration), "offline")],
        data={"voice_device_id": "{{ trigger.voice_device_id }}"},
    )
    await fleet.heartbeat()
    assert calls == []
    await fleet.last_will()
    assert [call.data for call in calls] == [{"voice_device_id": DEVICE}]


async def test_offline_for_a_while_fires_once_it_has_held(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    integration: MockConfigEntry,
    fleet: Fleet,
) -> None:
    calls = await automate(
        hass,
        [trigger(device_id(hass, integration), "offline", **{"for": "00:02:00"})],
    )
    await fleet.last_will()
    freezer.tick(timedelta(seconds=60))
    async_fire_time_changed(hass)
    await fleet.heartbeat()
    freezer.tick(timedelta(seconds=90))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert calls == [], "back within two minutes"
    await fleet.last_will()
    freezer.tick(timedelta(seconds=121))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert len(calls) == 1


async def test_a_trigger_takes_the_fields_every_trigger_has(
    hass: HomeAssistant, integration: MockConfigEntry, fleet: Fleet
) -> None:
    # By the time a trigger is attached these are objects, not YAML any more.
    calls = await automate(
        hass,
        [
            {
                **trigger(device_id(hass, integration), "offline"),
                "id": "gone",
                "variables": {"answer": "{{ 6 * 7 }}"},
                "enabled": "{{ true }}",
            }
        ],
        data={"answer": "{{ answer }}", "id": "{{ trigger.id }}"},
    )
    await fleet.last_will()
    assert [call.data for call in calls] == [{"answer": 42, "id": "gone"}]


async def test_status_changed_fires_on_any_change(
    hass: HomeAssistant, integration: MockConfigEntry, fleet: Fleet
) -> None:
    calls = await automate(
        hass,
        [trigger(device_id(hass, integration), "status_changed")],
        data={
            "status": "{{ trigger.status }}",
            "previous": "{{ trigger.previous_status }}",
        },
    )
    await fleet.status("playing")
    await fleet.status("paused")
    await fleet.heartbeat()
    assert [call.data for call in calls] == [
        {"status": "playing", "previous": "idle"},
        {"status": "paused", "previous": "playing"},
    ]


async def test_status_changed_to_playing_fires_on_playing_only(
    hass: HomeAssistant, integration: MockConfigEntry, fleet: Fleet
) -> None:
    calls = await automate(
        hass,
        [trigger(device_id(hass, integration), "status_changed", to="playing")],
    )
    await fleet.status("paused")
    assert calls == []
    await fleet.status("playing")
    assert len(calls) == 1


async def test_status_changed_takes_statuses_it_does_not_know(
    hass: HomeAssistant, integration: MockConfigEntry, fleet: Fleet
) -> None:
    calls = await automate(
        hass,
        [trigger(device_id(hass, integration), "status_changed", to="buffering")],
    )
    await fleet.status("buffering")
    assert len(calls) == 1


async def test_a_device_going_offline_and_back_is_no_status_change(
    hass: HomeAssistant, integration: MockConfigEntry, fleet: Fleet
) -> None:
    calls = await automate(
        hass, [trigger(device_id(hass, integration), "status_changed")]
    )
    # Offline, the status sensor is unavailable; back, it shows idle again.
    await fleet.last_will()
    await fleet.heartbeat()
    assert hass.states.get(STATUS).state == "idle"
    assert calls == []


async def test_conversation_started_and_ended(
    hass: HomeAssistant, integration: MockConfigEntry, fleet: Fleet
) -> None:
    room = room_id(hass, integration)
    started = await automate(
        hass,
        [
            {**trigger(room, "conversation_started"), "id": "started"},
            {**trigger(room, "conversation_ended"), "id": "ended"},
        ],
        data={"id": "{{ trigger.id }}", "room_id": "{{ trigger.room_id }}"},
    )
    await fleet.room_state("wake_detected")
    await fleet.room_state("listening")
    await fleet.room_state("responding")
    await fleet.room_state("idle")
    assert [call.data for call in started] == [
        {"id": "started", "room_id": ROOM},
        {"id": "ended", "room_id": ROOM},
    ]
    assert hass.states.get(CONVERSATION).state == "off"


async def test_tool_executed_fires_for_every_run(
    hass: HomeAssistant, integration: MockConfigEntry, fleet: Fleet
) -> None:
    calls = await automate(
        hass,
        [trigger(room_id(hass, integration), "tool_executed")],
        data={
            "room_id": "{{ trigger.room_id }}",
            "tool_name": "{{ trigger.tool_name }}",
            "success": "{{ trigger.success }}",
            "session_id": "{{ trigger.session_id }}",
        },
    )
    await fleet.tool("control_light", success=True)
    await fleet.tool("control_light", success=True)
    await fleet.tool("get_weather", success=False)
    assert [call.data for call in calls] == [
        {
            "room_id": ROOM,
            "tool_name": "control_light",
            "success": True,
            "session_id": "S1",
        },
        {
            "room_id": ROOM,
            "tool_name": "control_light",
            "success": True,
            "session_id": "S1",
        },
        {
            "room_id": ROOM,
            "tool_name": "get_weather",
            "success": False,
            "session_id": "S1",
        },
    ]


@pytest.mark.parametrize(("success", "fired"), [(False, "b"), ("true", "a")])
async def test_tool_executed_with_an_outcome(
    hass: HomeAssistant,
    integration: MockConfigEntry,
    fleet: Fleet,
    success: bool | str,
    fired: str,
) -> None:
    # The UI's select writes "true" or "false"; YAML writes booleans.
    calls = await automate(
        hass,
        [trigger(room_id(hass, integration), "tool_executed", success=success)],
        data={"tool_name": "{{ trigger.tool_name }}"},
    )
    await fleet.tool("a", success=True)
    await fleet.tool("b", success=False)
    assert [call.data["tool_name"] for call in calls] == [fired]


async def test_display_action_fires_with_the_panel(
    hass: HomeAssistant, integration: MockConfigEntry, fleet: Fleet
) -> None:
    calls = await automate(
        hass,
        [trigger(room_id(hass, integration), "display_action")],
        data={
            "action_type": "{{ trigger.action_type }}",
            "data": "{{ trigger.data }}",
        },
    )
    await fleet.display("weather", {"city": "Oslo"})
    await fleet.display("weather", {"city": "Oslo"})
    # A hint changes the entity's attributes only: no new event.
    await fleet.room("overlay_hint", {"keep_open": True})
    assert hass.states.get(DISPLAY).attributes["keep_open"] is True
    assert [call.data for call in calls] == [
        {"action_type": "weather", "data": {"city": "Oslo"}},
        {"action_type": "weather", "data": {"city": "Oslo"}},
    ]


async def test_display_action_of_one_panel_type(
    hass: HomeAssistant, integration: MockConfigEntry, fleet: Fleet
) -> None:
    calls = await automate(
        hass,
        [trigger(room_id(hass, integration), "display_action", action_type="weather")],
    )
    await fleet.display("light_control", {})
    assert calls == []
    await fleet.display("weather", {})
    assert len(calls) == 1


async def test_nothing_fires_when_the_broker_comes_back(
    hass: HomeAssistant,
    integration: MockConfigEntry,
    fleet: Fleet,
    mqtt_mock: MqttMockHAClient,
    mqtt_client_mock: MqttMockPahoClient,
) -> None:
    device = device_id(hass, integration)
    room = room_id(hass, integration)
    await fleet.tool("control_light", success=True)
    await fleet.room_state("listening")
    calls = await automate(
        hass,
        [
            trigger(device, "online"),
            trigger(device, "status_changed"),
            trigger(room, "conversation_started"),
            trigger(room, "tool_executed"),
        ],
    )
    disconnect(mqtt_mock, mqtt_client_mock)
    await hass.async_block_till_done()
    assert hass.states.get(CONNECTIVITY).state == "unavailable"
    reconnect(mqtt_mock, mqtt_client_mock)
    await hass.async_block_till_done()
    assert hass.states.get(CONNECTIVITY).state == "on"
    assert hass.states.get(TOOL).state != "unavailable"
    assert calls == []


async def test_nothing_fires_when_the_entry_reloads(
    hass: HomeAssistant, integration: MockConfigEntry, fleet: Fleet
) -> None:
    room = room_id(hass, integration)
    await fleet.tool("control_light", success=True)
    calls = await automate(
        hass,
        [
            trigger(device_id(hass, integration), "status_changed"),
            trigger(room, "tool_executed"),
        ],
    )
    assert await hass.config_entries.async_reload(integration.entry_id)
    await hass.async_block_till_done()
    # The event entity restored its last event; that is no new one.
    assert hass.states.get(TOOL).attributes["tool_name"] == "control_light"
    assert calls == []
    await fleet.tool("get_time", success=True)
    assert len(calls) == 1, "and it still fires afterwards"


async def test_nothing_fires_when_an_entity_is_disabled_or_enabled(
    hass: HomeAssistant,
    integration: MockConfigEntry,
    fleet: Fleet,
    entity_registry: er.EntityRegistry,
) -> None:
    await fleet.tool("control_light", success=True)
    calls = await automate(
        hass,
        [
            trigger(device_id(hass, integration), "status_changed"),
            trigger(room_id(hass, integration), "tool_executed"),
        ],
    )
    for entity_id in (STATUS, TOOL):
        entity_registry.async_update_entity(
            entity_id, disabled_by=er.RegistryEntryDisabler.USER
        )
    await hass.async_block_till_done()
    assert hass.states.get(TOOL) is None
    for entity_id in (STATUS, TOOL):
        entity_registry.async_update_entity(entity_id, disabled_by=None)
    # Home Assistant reloads the entry to add them again (after 30 s).
    assert await hass.config_entries.async_reload(integration.entry_id)
    await hass.async_block_till_done()
    assert hass.states.get(TOOL).attributes["tool_name"] == "control_light"
    assert calls == []


async def test_a_deleted_device_fires_nothing_when_it_comes_back(
    hass: HomeAssistant,
    integration: MockConfigEntry,
    fleet: Fleet,
    hass_ws_client: WebSocketGenerator,
) -> None:
    calls = await automate(
        hass, [trigger(device_id(hass, integration), "status_changed")]
    )
    # Deleted from its device page.
    assert await async_setup_component(hass, "config", {})
    client = await hass_ws_client(hass)
    response = await remove_device_in_ui(
        client, device_id(hass, integration), integration.entry_id
    )
    assert response["success"]
    await hass.async_block_till_done()
    # It speaks again: a new device, whose entities take the same ids.
    await fleet.announce()
    await fleet.status("idle")
    await fleet.status("playing")
    assert hass.states.get(STATUS).state == "playing"
    assert calls == []


async def test_a_renamed_entity_keeps_its_trigger(
    hass: HomeAssistant,
    integration: MockConfigEntry,
    fleet: Fleet,
    entity_registry: er.EntityRegistry,
) -> None:
    calls = await automate(
        hass,
        [trigger(device_id(hass, integration), "offline")],
        data={"entity_id": "{{ trigger.entity_id }}"},
    )
    entity_registry.async_update_entity(
        CONNECTIVITY, new_entity_id="binary_sensor.headset_online"
    )
    await hass.async_block_till_done()
    # Renaming it again proves the trigger follows the new id too.
    entity_registry.async_update_entity("binary_sensor.headset_online", name="Headset")
    await fleet.last_will()
    assert [call.data for call in calls] == [
        {"entity_id": "binary_sensor.headset_online"}
    ]


async def test_a_trigger_let_go_during_a_rename_stays_let_go(
    hass: HomeAssistant,
    integration: MockConfigEntry,
    fleet: Fleet,
    entity_registry: er.EntityRegistry,
) -> None:
    fired: list[dict[str, Any]] = []
    info = TriggerInfo(
        domain="automation",
        name="under test",
        variables=None,
        trigger_data={"id": "0", "idx": "0", "alias": None},
    )
    config = await validate(hass, trigger(device_id(hass, integration), "offline"))
    remove = await device_trigger.async_attach_trigger(
        hass, config, lambda variables, context=None: fired.append(variables), info
    )
    entered, release = asyncio.Event(), asyncio.Event()
    validate_state = device_trigger.state_trigger.async_validate_trigger_config

    async def held(hass: HomeAssistant, config: dict[str, Any]) -> dict[str, Any]:
        entered.set()
        await release.wait()
        return await validate_state(hass, config)

    with patch.object(
        device_trigger.state_trigger, "async_validate_trigger_config", held
    ):
        entity_registry.async_update_entity(
            CONNECTIVITY, new_entity_id="binary_sensor.headset_online"
        )
        await entered.wait()
        remove()
        release.set()
        await hass.async_block_till_done()
    await fleet.last_will()
    assert fired == []


async def test_invalid_configs_are_refused(
    hass: HomeAssistant, integration: MockConfigEntry, fleet: Fleet
) -> None:
    device = device_id(hass, integration)
    room = room_id(hass, integration)
    for config in (
        trigger(device, "exploded"),
        trigger(device, "online", to="on"),  # only status_changed takes a status
        trigger(device, "status_changed", to=""),
        trigger(device, "status_changed", **{"for": "soon"}),
        trigger(room, "tool_executed", success="maybe"),
        trigger(room, "display_action", **{"for": "00:01:00"}),
    ):
        with pytest.raises(vol.Invalid):
            await validate(hass, config)
    for config in (
        trigger(room, "online"),  # a room is no voice device
        trigger(device, "tool_executed"),
        trigger(bridge_device(hass, integration).id, "online"),
        trigger(device, "offline", entity_id=STATUS),  # not its entity
    ):
        with pytest.raises(InvalidDeviceAutomationConfig):
            await validate(hass, config)


async def test_a_device_without_the_entity_has_no_such_trigger(
    hass: HomeAssistant,
    integration: MockConfigEntry,
    fleet: Fleet,
    entity_registry: er.EntityRegistry,
) -> None:
    entity_registry.async_remove(STATUS)
    with pytest.raises(InvalidDeviceAutomationConfig):
        await validate(hass, trigger(device_id(hass, integration), "status_changed"))


async def test_a_config_as_the_ui_writes_it_is_valid(
    hass: HomeAssistant,
    integration: MockConfigEntry,
    fleet: Fleet,
    entity_registry: er.EntityRegistry,
) -> None:
    device = device_id(hass, integration)
    connectivity = entity_registry.async_get(CONNECTIVITY)
    assert connectivity is not None
    config = await validate(
        hass,
        {
            **trigger(device, "offline", entity_id=connectivity.id),
            "for": {"minutes": 2},
            "metadata": {"secondary": False},
        },
    )
    assert config["for"] == timedelta(minutes=2)
    assert "metadata" not in config


async def test_an_automation_with_an_invalid_trigger_does_not_run(
    hass: HomeAssistant,
    integration: MockConfigEntry,
    fleet: Fleet,
) -> None:
    calls = await automate(hass, [trigger(room_id(hass, integration), "online")])
    await fleet.last_will()
    assert calls == []
    assert hass.states.get("automation.under_test").state == "unavailable"


async def capabilities(
    hass: HomeAssistant, hass_ws_client: WebSocketGenerator, config: dict[str, Any]
) -> dict[str, Any]:
    """The optional fields the UI shows under a trigger."""
    assert await async_setup_component(hass, "device_automation", {})
    client = await hass_ws_client(hass)
    await client.send_json_auto_id(
        {"type": "device_automation/trigger/capabilities", "trigger": config}
    )
    message = await client.receive_json()
    assert message["success"]
    result: dict[str, Any] = message["result"]
    return result


async def test_capabilities_of_status_changed(
    hass: HomeAssistant,
    integration: MockConfigEntry,
    fleet: Fleet,
    hass_ws_client: WebSocketGenerator,
) -> None:
    result = await capabilities(
        hass,
        hass_ws_client,
        trigger(device_id(hass, integration), "status_changed"),
    )
    assert result == {
        "extra_fields": [
            {
                "name": "to",
                "optional": True,
                "required": False,
                "selector": {
                    "select": {
                        "options": ["idle", "playing", "paused"],
                        "custom_value": True,
                        "mode": "dropdown",
                        "translation_key": "device_status",
                        "multiple": False,
                        "sort": False,
                    }
                },
            },
            {
                "name": "for",
                "optional": True,
                "required": False,
                "type": "positive_time_period_dict",
            },
        ]
    }


async def test_the_outcome_reads_as_words_in_the_editor(
    hass: HomeAssistant,
    integration: MockConfigEntry,
    fleet: Fleet,
    hass_ws_client: WebSocketGenerator,
) -> None:
    # The automation editor shows a device trigger's select options by their
    # labels: it does not translate them (seen in the browser: "false").
    result = await capabilities(
        hass, hass_ws_client, trigger(room_id(hass, integration), "tool_executed")
    )
    select = result["extra_fields"][0]["selector"]["select"]
    assert select["options"] == [
        {"value": "true", "label": "Succeeded"},
        {"value": "false", "label": "Failed"},
    ]
    assert select["translation_key"] == "tool_outcome"


@pytest.mark.parametrize(
    ("scope", "trigger_type", "fields"),
    [
        ("device", "online", ["for"]),
        ("device", "offline", ["for"]),
        ("room", "conversation_started", ["for"]),
        ("room", "conversation_ended", ["for"]),
        ("room", "tool_executed", ["success"]),
        ("room", "display_action", ["action_type"]),
        ("room", "exploded", []),
    ],
)
async def test_capabilities(
    hass: HomeAssistant,
    integration: MockConfigEntry,
    fleet: Fleet,
    hass_ws_client: WebSocketGenerator,
    scope: str,
    trigger_type: str,
    fields: list[str],
) -> None:
    device = device_id if scope == "device" else room_id
    result = await capabilities(
        hass,
        hass_ws_client,
        trigger(device(hass, integration), trigger_type),
    )
    assert [field["name"] for field in result.get("extra_fields", [])] == fields


def test_every_trigger_type_and_field_is_translated() -> None:
    translations = json.loads(
        (Path(device_trigger.__file__).parent / "translations" / "en.json").read_text()
    )["device_automation"]
    assert set(translations["trigger_type"]) == set(device_trigger.TRIGGER_TYPES)
    fields = {
        str(key)
        for trigger_type in device_trigger.TRIGGER_TYPES.values()
        for key in trigger_type.capabilities
    }
    assert set(translations["extra_fields"]) >= fields
    assert set(translations["extra_fields_descriptions"]) >= fields
    for text in translations["trigger_type"].values():
        assert "{entity_name}" in text


async def test_calls_carry_the_trigger_context(
    hass: HomeAssistant, integration: MockConfigEntry, fleet: Fleet
) -> None:
    calls: list[ServiceCall] = await automate(
        hass, [trigger(room_id(hass, integration), "tool_executed")]
    )
    await fleet.tool("control_light", success=True)
    state = hass.states.get(TOOL)
    assert state is not None
    assert calls[0].context.parent_id == state.context.id
