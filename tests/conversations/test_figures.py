"""Whole turns in Home Assistant: the Conversation event, response times, the bus."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import STATE_UNKNOWN
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
    async_fire_time_changed,
)

from custom_components.voice_mqtt.const import DOMAIN
from custom_components.voice_mqtt.conversations.figures import (
    EVENT_CONVERSATION,
    MAX_EVENT_TEXT,
)
from tests.test_rooms import PREFIX, ROOM, T0, Room, ms

CONVERSATION = f"event.{PREFIX}_conversation"
RESPONSE_TIME = f"sensor.{PREFIX}_response_time"
DURATION = f"sensor.{PREFIX}_turn_duration"
TURNS_TODAY = "sensor.voice_assistant_mqtt_turns_today"
MEAN_RESPONSE = "sensor.voice_assistant_mqtt_mean_response_time_today"


def attributes(hass: HomeAssistant, entity_id: str) -> dict[str, Any]:
    state = hass.states.get(entity_id)
    assert state is not None, entity_id
    return dict(state.attributes)


def state_of(hass: HomeAssistant, entity_id: str) -> str:
    state = hass.states.get(entity_id)
    assert state is not None, entity_id
    return state.state


def talk(
    room: Room, session: str = "S1", *, answer: str = "It is noon.", at: float = 0
) -> None:
    """A turn on the backend's clock: heard at 1.0 s, answered at 2.2 s."""
    steps: list[tuple[str, dict[str, Any], float]] = [
        ("state", {"state": "wake_detected"}, 0),
        ("transcript/final", {"text": "what time is it"}, 1),
        ("display_action", {"type": "clock"}, 1.5),
        ("tool_executed", {"tool_name": "get_time", "success": True}, 1.6),
        ("response/stream/start", {}, 2),
        ("response/stream/chunk", {"chunk": answer}, 2.2),
        ("response/stream/complete", {}, 2.4),
        ("state", {"state": "idle"}, 3),
    ]
    for message_type, payload, seconds in steps:
        room.send(message_type, {**payload, "timestamp": ms(at + seconds)}, session)


@pytest.mark.freeze_time(T0)
async def test_a_turn_fires_one_event_and_shows_its_response_time(
    hass: HomeAssistant,
    integration: MockConfigEntry,
    device_registry: dr.DeviceRegistry,
    entity_registry: er.EntityRegistry,
    freezer: FrozenDateTimeFactory,
) -> None:
    bus = async_capture_events(hass, EVENT_CONVERSATION)
    room = Room(hass, clock=freezer)
    room.send("state", {"state": "listening", "timestamp": ms(0)})
    await hass.async_block_till_done()
    assert state_of(hass, CONVERSATION) == STATE_UNKNOWN
    assert state_of(hass, RESPONSE_TIME) == STATE_UNKNOWN
    assert state_of(hass, TURNS_TODAY) == "0"

    talk(room)
    await hass.async_block_till_done()
    assert len(bus) == 1
    turn = attributes(hass, CONVERSATION)
    assert turn["event_type"] == "completed"
    assert turn["heard"] == "what time is it"
    assert turn["answer"] == "It is noon."
    assert turn["tools"] == [{"name": "get_time", "success": True}]
    assert turn["display_actions"] == ["clock"]
    assert turn["response_time"] == 1.2
    assert turn["duration"] == 3.0
    assert float(state_of(hass, RESPONSE_TIME)) == 1.2
    assert float(state_of(hass, DURATION)) == 3.0
    assert state_of(hass, TURNS_TODAY) == "1"
    assert float(state_of(hass, MEAN_RESPONSE)) == 1.2
    # Long-term statistics: duration sensors measured, in seconds.
    for entity_id in (RESPONSE_TIME, DURATION, MEAN_RESPONSE):
        entry = entity_registry.async_get(entity_id)
        assert entry is not None
        assert entry.original_device_class == "duration"
        assert attributes(hass, entity_id)["state_class"] == "measurement"
        assert attributes(hass, entity_id)["unit_of_measurement"] == "s"

    data = bus[0].data
    room_device = device_registry.async_get_device_by_identifier(
        (DOMAIN, f"{integration.entry_id}_room_{ROOM}"), integration.entry_id
    )
    assert room_device is not None
    assert (data["room"], data["session_id"], data["outcome"]) == (
        ROOM,
        "S1",
        "completed",
    )
    assert (data["device_id"], data["config_entry_id"]) == (
        room_device.id,
        integration.entry_id,
    )
    assert data["response_time"] == 1.2
    assert data["heard"] == "what time is it"


async def test_long_texts_are_cut_for_the_recorder(
    hass: HomeAssistant, integration: MockConfigEntry
) -> None:
    bus = async_capture_events(hass, EVENT_CONVERSATION)
    answer = "word " * 2000  # 10,000 characters
    talk(Room(hass), answer=answer)
    await hass.async_block_till_done()
    shown = attributes(hass, CONVERSATION)["answer"]
    assert len(shown) == 255
    assert shown.endswith("…")
    assert len(bus[0].data["answer"]) == MAX_EVENT_TEXT
    assert bus[0].data["answer_truncated"] is True


async def test_a_quiet_session_is_a_timed_out_turn(
    hass: HomeAssistant,
    integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    room = Room(hass)
    room.send("state", {"state": "listening"})
    room.send("transcript/final", {"text": "hello?"})
    await hass.async_block_till_done()
    freezer.tick(timedelta(seconds=61))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    turn = attributes(hass, CONVERSATION)
    assert (turn["event_type"], turn["heard"]) == ("timed_out", "hello?")
    assert turn["response_time"] is None
    assert state_of(hass, RESPONSE_TIME) == STATE_UNKNOWN, "nothing was answered"
    assert state_of(hass, TURNS_TODAY) == "1"


async def test_the_figures_of_the_day_reset_at_midnight(
    hass: HomeAssistant,
    integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    freezer.move_to(dt_util.start_of_local_day() + timedelta(hours=23, minutes=59))
    room = Room(hass)
    talk(room, "S1")
    talk(room, "S2", at=10)
    await hass.async_block_till_done()
    assert state_of(hass, TURNS_TODAY) == "2"
    freezer.tick(timedelta(minutes=2))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert state_of(hass, TURNS_TODAY) == "0"
    assert state_of(hass, MEAN_RESPONSE) == STATE_UNKNOWN


@pytest.mark.freeze_time(T0)
@pytest.mark.parametrize("step", [-1.0, 1.0, -3600.0])
async def test_turns_on_a_clock_stepped_or_skewed_are_all_counted(
    hass: HomeAssistant,
    integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    step: float,
) -> None:
    """A backend whose clock jumps between turns (NTP, a restored VM) loses none.

    The second turn's wake word comes half a second after the first's last
    message, stamped `step` seconds off: a new session all the same.
    """
    bus = async_capture_events(hass, EVENT_CONVERSATION)
    talk(Room(hass, clock=freezer), "S1")
    await hass.async_block_till_done()
    freezer.tick(0.5)
    second = Room(hass)
    for message_type, payload in (
        ("state", {"state": "wake_detected"}),
        ("transcript/final", {"text": "and now?"}),
        ("response", {"text": "Later."}),
        ("state", {"state": "idle"}),
    ):
        stamp = int((dt_util.utcnow().timestamp() + step) * 1000)
        second.send(message_type, {**payload, "timestamp": stamp}, "S2")
    await hass.async_block_till_done()
    assert [event.data["session_id"] for event in bus] == ["S1", "S2"]
    assert state_of(hass, TURNS_TODAY) == "2"
    assert bus[1].data["heard"] == "and now?"
    assert bus[1].data["started"] == dt_util.utcnow().isoformat(), "not its clock"
