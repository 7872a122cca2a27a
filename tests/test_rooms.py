"""Rooms as Home Assistant sees them: devices, entities, states and events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.recorder import Recorder
from homeassistant.components.recorder.history import get_significant_states
from homeassistant.const import EVENT_STATE_CHANGED, STATE_UNKNOWN
from homeassistant.core import HomeAssistant, State
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
    async_fire_time_changed,
    async_fire_time_changed_exact,
    mock_restore_cache_with_extra_data,
)
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)
from syrupy.assertion import SnapshotAssertion

from custom_components.voice_mqtt.const import DOMAIN

from .common import disconnect, reconnect, send, voice_topic
from .conftest import DEFAULT_DATA

ROOM = "living_room"
PREFIX = "living_room_voice_assistant"
STATE = f"sensor.{PREFIX}_assistant_state"
ACTIVE = f"binary_sensor.{PREFIX}_conversation_active"
TRANSCRIPT = f"sensor.{PREFIX}_transcript"
RESPONSE = f"sensor.{PREFIX}_response"
DISPLAY = f"event.{PREFIX}_display_action"
TOOL = f"event.{PREFIX}_tool_executed"
T0_MS = 1_701_234_567_890
T0 = datetime.fromtimestamp(T0_MS / 1000, UTC)


def ms(seconds: float) -> int:
    return T0_MS + int(seconds * 1000)


class Room:
    """Speaks for one room's backend, on one layout.

    Given the test's clock, live messages come as far apart as their
    timestamps say (the clock moves on by their differences), as in a home:
    voice_mqtt times a turn on the payloads' clock only where it agrees with
    the moments the messages came. A test frozen at T0 (`freeze_time`) has
    the payloads' clock and Home Assistant's agree on the moments too.
    """

    def __init__(
        self,
        hass: HomeAssistant,
        version: str = "v1",
        clock: FrozenDateTimeFactory | None = None,
    ) -> None:
        self.hass = hass
        self.version = version
        self.clock = clock
        self._last_stamp: int | None = None

    def send(
        self,
        message_type: str,
        payload: dict[str, Any] | bytes,
        session: str = "S1",
        *,
        retain: bool = False,
    ) -> None:
        if (
            self.clock is not None
            and not retain
            and isinstance(payload, dict)
            and isinstance(stamp := payload.get("timestamp"), int)
        ):
            if self._last_stamp is not None and stamp > self._last_stamp:
                self.clock.tick(timedelta(milliseconds=stamp - self._last_stamp))
            self._last_stamp = stamp
        topic = voice_topic(ROOM, session, message_type, self.version)
        send(self.hass, topic, payload, retain=retain)


def attributes(hass: HomeAssistant, entity_id: str) -> dict[str, Any]:
    state = hass.states.get(entity_id)
    assert state is not None
    return {
        key: value
        for key, value in state.attributes.items()
        if key not in ("friendly_name", "icon", "event_types")
    }


def state_of(hass: HomeAssistant, entity_id: str) -> str:
    state = hass.states.get(entity_id)
    assert state is not None
    return state.state


class StateWrites:
    """Counts the state changes of one entity, from its creation on."""

    def __init__(self, hass: HomeAssistant, entity_id: str) -> None:
        self._events = async_capture_events(hass, EVENT_STATE_CHANGED)
        self._entity_id = entity_id

    def __len__(self) -> int:
        return sum(
            1 for event in self._events if event.data["entity_id"] == self._entity_id
        )


@pytest.mark.freeze_time(T0)
@pytest.mark.parametrize(
    "entry_data",
    [DEFAULT_DATA, {**DEFAULT_DATA, "version": ""}],
    ids=["v1", "v0"],
)
async def test_a_voice_command_step_by_step(
    hass: HomeAssistant,
    integration: MockConfigEntry,
    entry_data: dict[str, str],
    device_registry: dr.DeviceRegistry,
    freezer: FrozenDateTimeFactory,
) -> None:
    room = Room(hass, entry_data["version"], freezer)

    room.send("state", {"state": "wake_detected", "timestamp": ms(0)})
    await hass.async_block_till_done()
    device = device_registry.async_get_device_by_identifier(
        (DOMAIN, f"{integration.entry_id}_room_{ROOM}"), integration.entry_id
    )
    assert device is not None
    assert device.name == "Living room voice assistant"
    assert state_of(hass, STATE) == "wake_detected"
    assert attributes(hass, STATE) == {"session_id": "S1", "changed_at": T0}
    assert state_of(hass, ACTIVE) == "on"
    assert state_of(hass, TRANSCRIPT) == STATE_UNKNOWN
    assert state_of(hass, RESPONSE) == STATE_UNKNOWN

    room.send(
        "transcript/final",
        {"text": "turn on lights", "confidence": 0.85, "timestamp": ms(2)},
    )
    await hass.async_block_till_done()
    assert state_of(hass, TRANSCRIPT) == "turn on lights"
    assert attributes(hass, TRANSCRIPT) == {
        "stage": "final",
        "confidence": 0.85,
        "sequence": None,
        "session_id": "S1",
        "full_text": "turn on lights",
    }

    room.send("state", {"state": "processing", "timestamp": ms(2.1)})
    await hass.async_block_till_done()
    assert state_of(hass, STATE) == "processing"
    assert attributes(hass, STATE)["changed_at"] == T0 + timedelta(seconds=2.1)
    assert state_of(hass, ACTIVE) == "on"

    room.send(
        "display_action",
        {
            "type": "light_control",
            "data": {"room": ROOM, "on": True},
            "timestamp": ms(3),
        },
    )
    await hass.async_block_till_done()
    assert state_of(hass, DISPLAY) != STATE_UNKNOWN
    assert attributes(hass, DISPLAY) == {
        "event_type": "display_action",
        "type": "light_control",
        "data": {"room": ROOM, "on": True},
        "session_id": "S1",
        "timestamp": "2023-11-29T05:09:30.890000+00:00",
        "keep_open": None,
    }

    room.send("tool_executed", {"tool_name": "control_light", "success": True})
    room.send("response", {"text": "Turning on the lights", "timestamp": ms(4)})
    await hass.async_block_till_done()
    assert attributes(hass, TOOL) == {
        "event_type": "succeeded",
        "tool_name": "control_light",
        "success": True,
        "session_id": "S1",
    }
    assert state_of(hass, RESPONSE) == "Turning on the lights"
    assert attributes(hass, RESPONSE) == {
        "streaming": False,
        "session_id": "S1",
        "full_text": "Turning on the lights",
    }

    room.send("state", {"state": "idle", "timestamp": ms(5)})
    await hass.async_block_till_done()
    assert state_of(hass, STATE) == "idle"
    assert state_of(hass, ACTIVE) == "off"
    # The conversation's texts stay until the next one replaces them.
    assert state_of(hass, TRANSCRIPT) == "turn on lights"
    assert state_of(hass, RESPONSE) == "Turning on the lights"


@pytest.mark.parametrize(
    "entry_data",
    [DEFAULT_DATA, {**DEFAULT_DATA, "version": ""}],
    ids=["v1", "v0"],
)
async def test_a_streamed_response_is_coalesced_and_exact(
    hass: HomeAssistant,
    integration: MockConfigEntry,
    entry_data: dict[str, str],
    freezer: FrozenDateTimeFactory,
) -> None:
    room = Room(hass, entry_data["version"])
    room.send("state", {"state": "responding"})
    await hass.async_block_till_done()
    changes = StateWrites(hass, RESPONSE)

    chunks = [f" word{index}" for index in range(120)]
    room.send("response/stream/start", {"timestamp": ms(0)})
    await hass.async_block_till_done()
    assert state_of(hass, RESPONSE) == STATE_UNKNOWN  # empty text so far
    assert attributes(hass, RESPONSE)["streaming"] is True

    seen_partial = False
    for chunk in chunks:  # 30 a second, for four seconds
        room.send("response/stream/chunk", {"chunk": chunk})
        freezer.tick(timedelta(seconds=1 / 30))
        async_fire_time_changed_exact(hass)
        await hass.async_block_till_done()
        text = attributes(hass, RESPONSE)["full_text"]
        assert "".join(chunks).startswith(text)
        seen_partial |= 0 < len(text) < len("".join(chunks))
    assert seen_partial, "the answer shows while it streams"
    assert attributes(hass, RESPONSE)["streaming"] is True

    room.send("response/stream/complete", {"timestamp": ms(4)})
    await hass.async_block_till_done()
    full = "".join(chunks)
    assert attributes(hass, RESPONSE) == {
        "streaming": False,
        "session_id": "S1",
        "full_text": full,
    }
    # The state is trimmed and cut; full_text is exact.
    assert full.startswith(" ")
    assert state_of(hass, RESPONSE) == full.strip()[:254] + "…"
    # 4 s of chunks at 4 writes a second, plus the start and the end.
    assert len(changes) <= 4 * 4 + 2
    assert len(changes) >= 4 * 4 - 1, "still shown while streaming"


async def test_long_texts_are_cut_in_the_state_and_kept_whole(
    hass: HomeAssistant, integration: MockConfigEntry
) -> None:
    room = Room(hass)
    text = "word " * 200
    room.send("transcript/final", {"text": text})
    room.send("state", {"state": "x" * 300})
    await hass.async_block_till_done()
    assert len(state_of(hass, TRANSCRIPT)) == 255
    assert state_of(hass, TRANSCRIPT).endswith("…")
    assert attributes(hass, TRANSCRIPT)["full_text"] == text
    assert state_of(hass, STATE) == "x" * 254 + "…"


async def test_full_texts_are_not_recorded(
    recorder_mock: Recorder, hass: HomeAssistant, integration: MockConfigEntry
) -> None:
    start = dt_util.utcnow()
    room = Room(hass)
    room.send("transcript/final", {"text": "hello " * 100})
    room.send("response", {"text": "hi " * 100})
    await hass.async_block_till_done()
    await async_wait_recording_done(hass)
    history = await hass.async_add_executor_job(
        get_significant_states, hass, start, None, [TRANSCRIPT, RESPONSE]
    )
    for entity_id in (TRANSCRIPT, RESPONSE):
        recorded = history[entity_id][-1]
        assert isinstance(recorded, State)
        assert recorded.state.endswith("…")
        assert recorded.attributes["session_id"] == "S1"
        assert "full_text" not in recorded.attributes


async def test_unknown_states_reach_the_user(
    hass: HomeAssistant, integration: MockConfigEntry
) -> None:
    room = Room(hass)
    room.send("state", {"state": "thinking_hard"})
    await hass.async_block_till_done()
    assert state_of(hass, STATE) == "thinking_hard"
    assert state_of(hass, ACTIVE) == "on", "anything but idle is a conversation"


async def test_refined_replaces_final_and_late_interim_does_not(
    hass: HomeAssistant, integration: MockConfigEntry
) -> None:
    room = Room(hass)
    room.send("transcript/interim", {"text": "turn", "sequence": 1, "timestamp": ms(1)})
    await hass.async_block_till_done()
    assert state_of(hass, TRANSCRIPT) == "turn"
    assert attributes(hass, TRANSCRIPT)["stage"] == "interim"
    assert attributes(hass, TRANSCRIPT)["sequence"] == 1
    room.send("transcript/final", {"text": "turn on lights", "timestamp": ms(3)})
    room.send(
        "transcript/interim", {"text": "turn on", "sequence": 2, "timestamp": ms(2)}
    )
    await hass.async_block_till_done()
    assert state_of(hass, TRANSCRIPT) == "turn on lights"
    assert attributes(hass, TRANSCRIPT)["stage"] == "final"
    room.send("transcript/refined", {"text": "Turn on the lights", "timestamp": ms(4)})
    await hass.async_block_till_done()
    assert state_of(hass, TRANSCRIPT) == "Turn on the lights"
    assert attributes(hass, TRANSCRIPT)["stage"] == "refined"
    # The legacy `transcript` type is a final transcript.
    room.send("transcript", {"text": "next question"}, session="S2")
    await hass.async_block_till_done()
    assert state_of(hass, TRANSCRIPT) == "next question"
    assert attributes(hass, TRANSCRIPT)["stage"] == "final"
    assert attributes(hass, TRANSCRIPT)["session_id"] == "S2"


async def test_overlay_hint_sets_keep_open_on_the_display_action(
    hass: HomeAssistant, integration: MockConfigEntry
) -> None:
    room = Room(hass)
    room.send("display_action", {"type": "weather", "data": {}})
    await hass.async_block_till_done()
    fired_at = state_of(hass, DISPLAY)
    room.send("overlay_hint", {"keep_open": True})
    await hass.async_block_till_done()
    assert attributes(hass, DISPLAY)["keep_open"] is True
    assert state_of(hass, DISPLAY) == fired_at, "a hint is not a new event"
    room.send("state", {"state": "listening"}, session="S2")
    await hass.async_block_till_done()
    assert attributes(hass, DISPLAY)["keep_open"] is None, "it held for S1 only"


async def test_the_first_message_of_a_room_fires_its_event(
    hass: HomeAssistant, integration: MockConfigEntry
) -> None:
    # The room, its device and its entities are made by this very message.
    Room(hass).send("tool_executed", {"tool_name": "get_time", "success": True})
    await hass.async_block_till_done()
    assert state_of(hass, TOOL) != STATE_UNKNOWN
    assert attributes(hass, TOOL)["tool_name"] == "get_time"
    assert state_of(hass, DISPLAY) == STATE_UNKNOWN, "nothing was displayed"


async def test_failed_tools_fire_failed_events(
    hass: HomeAssistant, integration: MockConfigEntry
) -> None:
    events = async_capture_events(hass, EVENT_STATE_CHANGED)
    room = Room(hass)
    room.send("tool_executed", {"tool_name": "control_light", "success": False})
    room.send("tool_executed", {"tool_name": "control_light", "success": False})
    await hass.async_block_till_done()
    assert attributes(hass, TOOL)["event_type"] == "failed"
    fired = [e for e in events if e.data["entity_id"] == TOOL]
    assert len(fired) == 2, "the same event twice fires twice"
    assert fired[0].data["new_state"].state != fired[1].data["new_state"].state


async def test_migration_mode_counts_a_message_on_both_layouts_once(
    hass: HomeAssistant,
    mqtt_mock: Any,
    config_entry: MockConfigEntry,
) -> None:
    config_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(
        config_entry, options={"legacy_topics": True}
    )
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    v1, v0 = Room(hass, "v1"), Room(hass, "")

    v0.send("state", {"state": "listening", "timestamp": ms(0)})  # v0 only: counts
    await hass.async_block_till_done()
    assert state_of(hass, STATE) == "listening"

    display = StateWrites(hass, DISPLAY)
    response = StateWrites(hass, RESPONSE)
    for layout in (v1, v0):
        layout.send("display_action", {"type": "clock", "timestamp": ms(1)})
    for chunk in ("a", "a", "b"):
        for layout in (v1, v0):
            layout.send("response/stream/chunk", {"chunk": chunk})
    for layout in (v0, v1):  # either layout may come first
        layout.send("response/stream/complete", {"timestamp": ms(2)})
    await hass.async_block_till_done()
    assert len(display) == 1
    assert attributes(hass, RESPONSE)["full_text"] == "aab"
    assert attributes(hass, RESPONSE)["streaming"] is False
    # One twin each for the display action, three chunks and the completion.
    assert config_entry.runtime_data.intake.duplicates == 5
    assert len(response) >= 1


async def test_retained_messages_apply_like_live_ones_and_do_not_refire(
    hass: HomeAssistant,
    integration: MockConfigEntry,
    mqtt_mock: Any,
    mqtt_client_mock: Any,
) -> None:
    room = Room(hass)
    room.send("state", {"state": "listening", "timestamp": ms(0)}, retain=True)
    room.send("display_action", {"type": "clock", "timestamp": ms(1)}, retain=True)
    await hass.async_block_till_done()
    assert state_of(hass, STATE) == "listening"
    fired_at = state_of(hass, DISPLAY)
    assert fired_at != STATE_UNKNOWN
    # A reconnect replays the retained messages: nothing fires twice.
    disconnect(mqtt_mock, mqtt_client_mock)
    reconnect(mqtt_mock, mqtt_client_mock)
    room.send("state", {"state": "listening", "timestamp": ms(0)}, retain=True)
    room.send("display_action", {"type": "clock", "timestamp": ms(1)}, retain=True)
    await hass.async_block_till_done()
    assert integration.runtime_data.intake.received["voice_current"] == 4
    assert state_of(hass, DISPLAY) == fired_at
    assert state_of(hass, STATE) == "listening"


async def test_restored_event_is_not_fired_again_by_its_retained_message(
    hass: HomeAssistant, mqtt_mock: Any, config_entry: MockConfigEntry
) -> None:
    fired_at = "2025-01-01T00:00:00.000+00:00"
    last_event = {"type": "clock", "data": {}, "timestamp": T0.isoformat()}
    mock_restore_cache_with_extra_data(
        hass,
        [
            (
                State(
                    DISPLAY, fired_at, {"event_type": "display_action", **last_event}
                ),
                {
                    "last_event_type": "display_action",
                    "last_event_attributes": last_event,
                },
            )
        ],
    )
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    # The room device is known from before the restart.
    room = Room(hass)
    room.send("display_action", {"type": "clock", "timestamp": ms(0)}, retain=True)
    await hass.async_block_till_done()
    assert state_of(hass, DISPLAY) == fired_at
    room.send("display_action", {"type": "clock", "timestamp": ms(9)})
    await hass.async_block_till_done()
    assert state_of(hass, DISPLAY) != fired_at, "a new event fires"


BAD_PAYLOADS: list[tuple[str, bytes]] = [
    ("state", b"{broken"),
    ("state", b'{"state": ["idle"]}'),
    ("state", b'{"state": "idle", "timestamp": "soon"}'),
    ("transcript/final", b'{"text": 12}'),
    ("response/stream/chunk", b'{"chunk": null}'),
    ("display_action", b'{"type": "clock", "data": "not an object"}'),
    ("tool_executed", b'{"tool_name": "x", "success": "maybe"}'),
    ("overlay_hint", b"[]"),
    ("state", b'{"state": "' + b"x" * 70_000 + b'"}'),
    ("weather", b"{}"),
]


async def test_bad_input_never_changes_a_state(
    hass: HomeAssistant, integration: MockConfigEntry
) -> None:
    room = Room(hass)
    room.send("state", {"state": "listening"})
    room.send("transcript/final", {"text": "hello"})
    await hass.async_block_till_done()
    before = {state.entity_id: state for state in hass.states.async_all()}
    for message_type, payload in BAD_PAYLOADS:
        room.send(message_type, payload)
    await hass.async_block_till_done()
    after = {state.entity_id: state for state in hass.states.async_all()}
    assert after == before
    assert sum(integration.runtime_data.intake.rejected.values()) == len(BAD_PAYLOADS)


async def test_bad_input_creates_no_room(
    hass: HomeAssistant,
    integration: MockConfigEntry,
    device_registry: dr.DeviceRegistry,
) -> None:
    send(hass, voice_topic("kitchen", "S1", "state"), b"nope")
    await hass.async_block_till_done()
    devices = dr.async_entries_for_config_entry(device_registry, integration.entry_id)
    assert [device.name for device in devices] == ["Voice Assistant MQTT"]


async def test_quiet_sessions_return_to_idle(
    hass: HomeAssistant,
    integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    room = Room(hass)
    room.send("state", {"state": "responding"})
    room.send("response/stream/start", {})
    room.send("response/stream/chunk", {"chunk": "Half an ans"})
    await hass.async_block_till_done()
    freezer.tick(timedelta(seconds=59))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert state_of(hass, STATE) == "responding"
    assert attributes(hass, RESPONSE)["streaming"] is True

    freezer.tick(timedelta(seconds=2))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert state_of(hass, STATE) == "idle"
    assert state_of(hass, ACTIVE) == "off"
    assert attributes(hass, RESPONSE) == {
        "streaming": False,
        "session_id": "S1",
        "full_text": "Half an ans",
    }


async def test_news_keeps_a_session_alive(
    hass: HomeAssistant,
    integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    room = Room(hass)
    room.send("state", {"state": "listening"})
    await hass.async_block_till_done()
    for _ in range(3):
        freezer.tick(timedelta(seconds=40))
        async_fire_time_changed(hass)
        room.send("transcript/interim", {"text": "still talking"})
        await hass.async_block_till_done()
    assert state_of(hass, STATE) == "listening"
    freezer.tick(timedelta(seconds=61))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert state_of(hass, STATE) == "idle"


async def test_room_entities_snapshot(
    hass: HomeAssistant,
    integration: MockConfigEntry,
    entity_registry: er.EntityRegistry,
    device_registry: dr.DeviceRegistry,
    snapshot: SnapshotAssertion,
    freezer: FrozenDateTimeFactory,
) -> None:
    freezer.move_to("2025-01-01T12:00:00+00:00")
    room = Room(hass)
    # Stamped in 2023, received in 2025: changed_at is when it came.
    room.send("state", {"state": "listening", "timestamp": ms(0)})
    room.send("transcript/final", {"text": "what time is it", "confidence": 0.9})
    room.send("response", {"text": "It is noon."})
    room.send("display_action", {"type": "clock", "data": {"format": "24h"}})
    room.send("tool_executed", {"tool_name": "get_time", "success": True})
    await hass.async_block_till_done()
    device = device_registry.async_get_device_by_identifier(
        (DOMAIN, f"{integration.entry_id}_room_{ROOM}"), integration.entry_id
    )
    assert device is not None
    entries = er.async_entries_for_device(entity_registry, device.id)
    assert len(entries) == 9
    for entry in sorted(entries, key=lambda entry: entry.entity_id):
        assert entry == snapshot(name=f"{entry.entity_id}-entry")
        assert hass.states.get(entry.entity_id) == snapshot(
            name=f"{entry.entity_id}-state"
        )
