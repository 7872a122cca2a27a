"""The logbook reads like a log: what was heard, answered, run, shown, and lost.

Read through Home Assistant's own logbook (`logbook/get_events`, what the
logbook panel and an entity's more-info dialog ask), and put in words as the
frontend shows a row: the entity's name, then its message, or for a state row
its translated event type or its state.
"""

from __future__ import annotations

from datetime import datetime, timedelta
import json
from pathlib import Path
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.recorder import Recorder
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
    async_fire_time_changed,
)
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)
from pytest_homeassistant_custom_component.typing import (
    MqttMockHAClient,
    WebSocketGenerator,
)

from custom_components.voice_mqtt.logbook import describe_turn

from .common import disconnect, reconnect
from .conversations.test_figures import CONVERSATION, talk
from .test_devices import announce, heartbeat, last_will, status
from .test_rooms import DISPLAY, TOOL, Room, ms

TRANSLATIONS = json.loads(
    (
        Path(__file__).parents[1] / "custom_components/voice_mqtt/translations/en.json"
    ).read_text()
)

TURN = {
    "heard": "what time is it",
    "answer": "It is noon.",
    "response_time": 1.234,
    "tools": [{"name": "get_time", "success": True}],
    "display_actions": ["clock"],
    "outcome": "completed",
}


@pytest.mark.parametrize(
    ("changes", "line"),
    [
        (
            {},
            (
                "heard 'what time is it', answered 'It is noon.' in 1.2 s, ran get_time,"
                " showed clock"
            ),
        ),
        (
            {
                "tools": [{"name": "control_light", "success": False}],
                "display_actions": [],
            },
            (
                "heard 'what time is it', answered 'It is noon.' in 1.2 s,"
                " ran control_light (failed)"
            ),
        ),
        (
            {
                "answer": None,
                "tools": [],
                "display_actions": [],
                "outcome": "timed_out",
            },
            "heard 'what time is it', went quiet",
        ),
        (
            {
                "outcome": "error",
                "tools": [],
                "display_actions": [],
                "response_time": None,
            },
            "heard 'what time is it', answered 'It is noon.', ended in an error",
        ),
        (
            {"heard": None, "answer": None, "tools": [], "display_actions": []},
            "had a conversation",
        ),
        (
            {"heard": "a " * 100, "tools": [], "display_actions": [], "answer": None},
            "heard '" + ("a " * 39) + "a…'",
        ),
    ],
)
def test_a_turn_in_one_line(changes: dict[str, object], line: str) -> None:
    assert describe_turn({**TURN, **changes}) == line


@pytest.fixture
async def logbook(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    mqtt_mock: MqttMockHAClient,
    config_entry: MockConfigEntry,
) -> MockConfigEntry:
    """voice_mqtt with the recorder and the logbook."""
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    # The logbook's panel is the frontend's, not installed with the tests.
    hass.config.components.add("frontend")
    assert await async_setup_component(hass, "logbook", {})
    await hass.async_block_till_done()
    return config_entry


def _event_type_name(hass: HomeAssistant, entity_id: str, event_type: str) -> str:
    entry = er.async_get(hass).async_get(entity_id)
    assert entry is not None
    event = TRANSLATIONS["entity"]["event"][entry.translation_key]
    return str(event["state_attributes"]["event_type"]["state"][event_type])


async def read(
    hass: HomeAssistant,
    hass_ws_client: WebSocketGenerator,
    start: datetime,
    **only: list[str],
) -> list[str]:
    """The logbook's rows from start, as the frontend words them."""
    await hass.async_block_till_done()
    await async_wait_recording_done(hass)
    client = await hass_ws_client(hass)
    await client.send_json(
        {"id": 1, "type": "logbook/get_events", "start_time": start.isoformat(), **only}
    )
    response = await client.receive_json()
    assert response["success"]
    lines = []
    for row in response["result"]:
        entity_id = row.get("entity_id")
        state = hass.states.get(entity_id) if entity_id else None
        name = state.name if state is not None else row["name"]
        if "message" in row:
            text = row["message"]
        elif event_type := row.get("attributes", {}).get("event_type"):
            text = _event_type_name(hass, entity_id, event_type)
        else:
            text = row["state"]
        lines.append(f"{name}: {text}")
    return lines


def _a_turn(room: Room, session: str, at: float) -> None:
    steps: list[tuple[str, dict[str, Any]]] = [
        ("state", {"state": "wake_detected"}),
        ("transcript/final", {"text": "turn on the lights"}),
        ("display_action", {"type": "light_control", "data": {"room": "living"}}),
        ("tool_executed", {"tool_name": "control_light", "success": False}),
        ("response", {"text": "Sorry, the lights did not answer."}),
        ("state", {"state": "idle"}),
    ]
    for step, (message_type, payload) in enumerate(steps):
        room.send(message_type, {**payload, "timestamp": ms(at + step)}, session)


async def test_the_panel_and_the_tool_are_named(
    hass: HomeAssistant,
    logbook: MockConfigEntry,
    hass_ws_client: WebSocketGenerator,
    freezer: FrozenDateTimeFactory,
) -> None:
    room = Room(hass, clock=freezer)
    # The room's first message makes its entities: their first states are
    # not logbook rows, their changes are.
    room.send("state", {"state": "idle", "timestamp": ms(0)}, "S0")
    await hass.async_block_till_done()
    start = dt_util.utcnow()
    _a_turn(room, "S1", at=10)
    freezer.tick(1)  # the logbook reads up to now, not including it

    # The entities' own logbooks (their more-info dialogs). A state row and
    # the line that describes it share their moment: their order is open.
    rows = await read(hass, hass_ws_client, start, entity_ids=[DISPLAY, TOOL])
    assert sorted(rows) == [
        "Living room voice assistant Display action: Panel shown",
        "Living room voice assistant Display action: showed light_control",
        "Living room voice assistant Tool executed: Failed",
        "Living room voice assistant Tool executed: ran control_light (failed)",
    ]
    # The logbook panel: the room's rows that say something of their own.
    said = [
        line
        for line in await read(hass, hass_ws_client, start)
        if any(f": {word} " in line for word in ("showed", "ran", "heard"))
    ]
    assert said == [
        "Living room voice assistant Display action: showed light_control",
        "Living room voice assistant Tool executed: ran control_light (failed)",
        (
            "Living room voice assistant Conversation: heard 'turn on the lights',"
            " answered 'Sorry, the lights did not answer.' in 3.0 s,"
            " ran control_light (failed), showed light_control"
        ),
    ]


async def test_the_turn_is_in_the_conversation_entity_logbook(
    hass: HomeAssistant,
    logbook: MockConfigEntry,
    hass_ws_client: WebSocketGenerator,
    freezer: FrozenDateTimeFactory,
) -> None:
    start = dt_util.utcnow()
    talk(Room(hass, clock=freezer))
    freezer.tick(1)  # the logbook reads up to now, not including it
    turn = (
        "Living room voice assistant Conversation: heard 'what time is it',"
        " answered 'It is noon.' in 1.2 s, ran get_time, showed clock"
    )
    assert turn in await read(hass, hass_ws_client, start, entity_ids=[CONVERSATION])


async def test_a_device_gone_offline_says_why(
    hass: HomeAssistant,
    logbook: MockConfigEntry,
    hass_ws_client: WebSocketGenerator,
    freezer: FrozenDateTimeFactory,
) -> None:
    start = dt_util.utcnow() - timedelta(seconds=1)
    for device_id, name in (("VR_1", "Kitchen VR"), ("VR_2", "Hall VR")):
        announce(hass, device_id, "vr", name)
    announce(hass, "cc:ba:97:11:0e:84", "voice_box", "Desk box")
    await hass.async_block_till_done()
    freezer.tick(timedelta(seconds=1))
    last_will(hass, "VR_1", 1, retain=False)
    await hass.async_block_till_done()
    freezer.tick(timedelta(seconds=1))
    status(hass, "VR_2", "offline", 2)
    # The box stays silent: offline once the heartbeat timeout has passed.
    freezer.tick(timedelta(seconds=46))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    # More evidence of offline says nothing new.
    status(hass, "VR_1", "offline", 50)
    await hass.async_block_till_done()
    freezer.tick(timedelta(seconds=1))  # the logbook reads up to now, excluded

    said = [line for line in await read(hass, hass_ws_client, start) if "went" in line]
    assert said == [
        "Kitchen VR Connectivity: went offline (Last Will)",
        "Hall VR Connectivity: went offline (its status said so)",
        "Desk box Connectivity: went offline (no heartbeat for 45 s)",
    ]
    # The device's own page and the sensor's more-info show it too.
    device = er.async_get(hass).async_get("binary_sensor.kitchen_vr_connectivity")
    assert device is not None
    assert device.device_id is not None
    for only in (
        {"device_ids": [device.device_id]},
        {"entity_ids": ["binary_sensor.kitchen_vr_connectivity"]},
    ):
        lines = await read(hass, hass_ws_client, start, **only)
        assert "Kitchen VR Connectivity: went offline (Last Will)" in lines


async def test_only_a_device_known_online_goes_offline(
    hass: HomeAssistant, logbook: MockConfigEntry
) -> None:
    offline = async_capture_events(hass, "voice_mqtt_device_offline")
    # Heard first through its retained Last Will: it was never seen online.
    last_will(hass, "VR_1", 0)
    await hass.async_block_till_done()
    assert offline == []
    heartbeat(hass, "VR_1")
    last_will(hass, "VR_1", 5, retain=False)
    await hass.async_block_till_done()
    assert [event.data["reason"] for event in offline] == ["last_will"]
    assert offline[0].data["voice_device_id"] == "VR_1"


async def test_a_replayed_tool_run_is_logged_once(
    hass: HomeAssistant,
    integration: MockConfigEntry,
    mqtt_mock: Any,
    mqtt_client_mock: Any,
) -> None:
    ran = async_capture_events(hass, "voice_mqtt_tool_executed")
    shown = async_capture_events(hass, "voice_mqtt_display_action")
    room = Room(hass)
    for _ in range(2):  # the second time, as the broker replays after a reconnect
        room.send(
            "tool_executed",
            {"tool_name": "get_time", "success": True, "timestamp": ms(1)},
            retain=True,
        )
        room.send("display_action", {"type": "clock", "timestamp": ms(2)}, retain=True)
        await hass.async_block_till_done()
        disconnect(mqtt_mock, mqtt_client_mock)
        reconnect(mqtt_mock, mqtt_client_mock)
    assert [event.data["tool_name"] for event in ran] == ["get_time"]
    assert [event.data["type"] for event in shown] == ["clock"]
    assert ran[0].data["entity_id"] == TOOL
    assert shown[0].data["entity_id"] == DISPLAY
    assert "data" not in shown[0].data, "the panel's data is the entity's to keep"
