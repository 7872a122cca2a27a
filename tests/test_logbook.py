"""The logbook reads like a log: what was heard, answered, run and shown."""

from __future__ import annotations

from homeassistant.components.recorder import Recorder
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)
from pytest_homeassistant_custom_component.typing import (
    MqttMockHAClient,
    WebSocketGenerator,
)

from custom_components.voice_mqtt.logbook import describe_turn

from .test_conversations import CONVERSATION, talk
from .test_rooms import Room

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


async def test_the_logbook_shows_the_turn(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    mqtt_mock: MqttMockHAClient,
    config_entry: MockConfigEntry,
    hass_ws_client: WebSocketGenerator,
) -> None:
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    # The logbook's panel is the frontend's, not installed with the tests.
    hass.config.components.add("frontend")
    assert await async_setup_component(hass, "logbook", {})
    await hass.async_block_till_done()
    start = dt_util.utcnow()
    talk(Room(hass))
    await hass.async_block_till_done()
    await async_wait_recording_done(hass)

    client = await hass_ws_client(hass)
    await client.send_json(
        {"id": 1, "type": "logbook/get_events", "start_time": start.isoformat()}
    )
    response = await client.receive_json()
    assert response["success"]
    turns = [row for row in response["result"] if row.get("domain") == "voice_mqtt"]
    assert [(row["name"], row["message"], row.get("entity_id")) for row in turns] == [
        (
            "Living room voice assistant",
            (
                "heard 'what time is it', answered 'It is noon.' in 1.2 s, ran get_time,"
                " showed clock"
            ),
            CONVERSATION,
        )
    ]
