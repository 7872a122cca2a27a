"""Conversation history: kept across restarts, bounded, read by an action and a command."""

from __future__ import annotations

from datetime import timedelta
import json
from pathlib import Path
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, issue_registry as ir
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from custom_components.voice_mqtt.const import DOMAIN
from custom_components.voice_mqtt.conversations.history import (
    MAX_ROOM_BYTES,
    SAVE_DELAY,
)
from custom_components.voice_mqtt.diagnostics import (
    async_get_config_entry_diagnostics,
)
from tests.test_rooms import ROOM, T0, Room, ms

from .test_figures import talk

STORE_KEY = f"{DOMAIN}.01TESTENTRY.history"


async def history(hass: HomeAssistant, **data: Any) -> dict[str, Any]:
    response = await hass.services.async_call(
        DOMAIN,
        "get_history",
        {"room": ROOM, **data},
        blocking=True,
        return_response=True,
    )
    assert response is not None
    return dict(response)


async def turns(
    hass: HomeAssistant,
    clock: FrozenDateTimeFactory,
    count: int,
    answer: str = "It is noon.",
    first: int = 0,
) -> None:
    """Count turns, ten seconds apart, each at the moments its timestamps say."""
    room = Room(hass, clock=clock)
    for index in range(first, first + count):
        talk(room, f"S{index}", answer=f"{answer} {index}", at=index * 10)
    await hass.async_block_till_done()


@pytest.mark.freeze_time(T0)
async def test_a_turn_is_in_the_history(
    hass: HomeAssistant, integration: MockConfigEntry, freezer: FrozenDateTimeFactory
) -> None:
    await turns(hass, freezer, 1)
    found = await history(hass)
    assert found["room"] == ROOM
    (turn,) = found["turns"]
    assert turn["heard"] == "what time is it"
    assert turn["answer"] == "It is noon. 0"
    assert turn["tools"] == [{"name": "get_time", "success": True}]
    assert turn["display_actions"] == ["clock"]
    assert turn["outcome"] == "completed"
    assert turn["response_time"] == pytest.approx(1.2)
    assert turn["started"] == dt_util.utc_from_timestamp(ms(0) / 1000).isoformat()
    assert "room" not in turn


@pytest.mark.freeze_time(T0)
async def test_the_history_survives_a_restart_written_in_batches(
    hass: HomeAssistant,
    integration: MockConfigEntry,
    hass_storage: dict[str, Any],
    freezer: FrozenDateTimeFactory,
) -> None:
    await turns(hass, freezer, 2)
    # Not written per turn...
    assert STORE_KEY not in hass_storage
    # ...but within SAVE_DELAY seconds.
    freezer.tick(timedelta(seconds=SAVE_DELAY + 1))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert len(hass_storage[STORE_KEY]["data"]["rooms"][ROOM]) == 2
    await turns(hass, freezer, 1, answer="Later", first=2)
    # An unload writes at once what is left.
    assert await hass.config_entries.async_reload(integration.entry_id)
    await hass.async_block_till_done()
    assert len(hass_storage[STORE_KEY]["data"]["rooms"][ROOM]) == 3
    found = await history(hass)
    assert [turn["answer"] for turn in found["turns"]] == [
        "It is noon. 0",
        "It is noon. 1",
        "Later 2",
    ]


@pytest.mark.freeze_time(T0)
@pytest.mark.parametrize("entry_options", [{"history_turns": 3}])
async def test_a_room_keeps_its_last_turns_and_calls_pick(
    hass: HomeAssistant,
    entry_options: dict[str, Any],
    integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    await turns(hass, freezer, 5)
    found = await history(hass)
    assert [turn["answer"] for turn in found["turns"]] == [
        "It is noon. 2",
        "It is noon. 3",
        "It is noon. 4",
    ]
    assert [t["answer"] for t in (await history(hass, limit=1))["turns"]] == [
        "It is noon. 4"
    ]
    since = dt_util.utc_from_timestamp(ms(35) / 1000)
    assert [t["answer"] for t in (await history(hass, since=since))["turns"]] == [
        "It is noon. 4"
    ]


@pytest.mark.freeze_time(T0)
async def test_long_answers_keep_a_room_within_its_bytes(
    hass: HomeAssistant,
    integration: MockConfigEntry,
    hass_storage: dict[str, Any],
    freezer: FrozenDateTimeFactory,
) -> None:
    await turns(hass, freezer, 30, answer="é" * 4000)
    kept = (await history(hass, limit=500))["turns"]
    assert 0 < len(kept) < 30
    size = sum(len(json.dumps(turn, ensure_ascii=False).encode()) for turn in kept)
    assert size <= MAX_ROOM_BYTES
    assert kept[-1]["answer"].endswith(" 29")


@pytest.mark.freeze_time(T0)
@pytest.mark.parametrize("entry_options", [{"history_turns": 0}])
async def test_zero_turns_keeps_nothing(
    hass: HomeAssistant,
    entry_options: dict[str, Any],
    integration: MockConfigEntry,
    hass_storage: dict[str, Any],
    freezer: FrozenDateTimeFactory,
) -> None:
    await turns(hass, freezer, 2)
    assert await hass.config_entries.async_unload(integration.entry_id)
    assert STORE_KEY not in hass_storage


@pytest.mark.freeze_time(T0)
async def test_an_unreadable_history_is_set_aside_with_a_repair(
    hass: HomeAssistant,
    mqtt_mock: Any,
    config_entry: MockConfigEntry,
    hass_storage: dict[str, Any],
    issue_registry: ir.IssueRegistry,
    tmp_path: Path,
    freezer: FrozenDateTimeFactory,
) -> None:
    hass.config.config_dir = str(tmp_path)
    stored = tmp_path / ".storage" / STORE_KEY
    stored.parent.mkdir()
    stored.write_text('{"rooms": 5}')
    hass_storage[STORE_KEY] = {"version": 1, "key": STORE_KEY, "data": {"rooms": 5}}
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    issue = issue_registry.async_get_issue(DOMAIN, "01TESTENTRY_history_unreadable")
    assert issue is not None
    aside = Path(issue.translation_placeholders["path"])
    assert await hass.async_add_executor_job(aside.read_text) == '{"rooms": 5}'
    assert not await hass.async_add_executor_job(stored.exists)
    await turns(hass, freezer, 1)
    assert len((await history(hass))["turns"]) == 1


async def test_malformed_turns_are_skipped(
    hass: HomeAssistant,
    mqtt_mock: Any,
    config_entry: MockConfigEntry,
    hass_storage: dict[str, Any],
) -> None:
    good = {
        "started": "2026-12-01T10:00:00+00:00",
        "heard": "hi",
        "answer": "hello",
        "tools": [],
        "display_actions": [],
    }
    rooms = {ROOM: [good, {"heard": "no start"}, 7], 3: [good], "kitchen": "x"}
    hass_storage[STORE_KEY] = {"version": 1, "key": STORE_KEY, "data": {"rooms": rooms}}
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    assert (await history(hass))["turns"] == [good]


@pytest.mark.freeze_time(T0)
async def test_the_card_reads_it_over_the_websocket(
    hass: HomeAssistant,
    integration: MockConfigEntry,
    hass_ws_client: WebSocketGenerator,
    device_registry: dr.DeviceRegistry,
    freezer: FrozenDateTimeFactory,
) -> None:
    await turns(hass, freezer, 2)
    room = device_registry.async_get_device_by_identifier(
        (DOMAIN, f"{integration.entry_id}_room_{ROOM}"), integration.entry_id
    )
    assert room is not None
    client = await hass_ws_client(hass)
    await client.send_json_auto_id(
        {"type": "voice_mqtt/history", "device_id": room.id, "limit": 1}
    )
    reply = await client.receive_json()
    assert reply["success"], reply
    assert reply["result"]["room"] == ROOM
    assert [turn["answer"] for turn in reply["result"]["turns"]] == ["It is noon. 1"]
    bridge = device_registry.async_get_device_by_identifier(
        (DOMAIN, f"{integration.entry_id}_bridge"), integration.entry_id
    )
    for device_id in ("nope", bridge.id if bridge else "nope"):
        await client.send_json_auto_id(
            {"type": "voice_mqtt/history", "device_id": device_id}
        )
        reply = await client.receive_json()
        assert not reply["success"]
        assert reply["error"]["code"] == "not_found"


@pytest.mark.freeze_time(T0)
async def test_diagnostics_count_turns_without_their_words(
    hass: HomeAssistant,
    integration: MockConfigEntry,
    device_registry: dr.DeviceRegistry,
    freezer: FrozenDateTimeFactory,
) -> None:
    await turns(hass, freezer, 2)
    diagnostics = await async_get_config_entry_diagnostics(hass, integration)
    assert diagnostics["history"] == {ROOM: 2}
    assert "noon" not in json.dumps(diagnostics)
    room = device_registry.async_get_device_by_identifier(
        (DOMAIN, f"{integration.entry_id}_room_{ROOM}"), integration.entry_id
    )
    assert room is not None
    # Removing the room removes what it said.
    assert integration.runtime_data.async_forget(room)
    assert (await history(hass))["turns"] == []
