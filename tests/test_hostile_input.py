"""Nothing a publisher sends can hurt Home Assistant (issue 9, parts 1 and 2).

Hostile numbers are dropped and counted, never raised into the MQTT client;
whatever becomes a state attribute can be stored by Home Assistant's own
encoder, so the restore-state save of every entity keeps working.
"""

from __future__ import annotations

import json
import logging

from homeassistant.core import HomeAssistant
from homeassistant.helpers import restore_state
from homeassistant.helpers.json import json_bytes
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from .common import send, voice_topic

HUGE = "1" + "0" * 400  # a JSON integer no float can hold
DEEP = "[" * 300 + "]" * 300  # json.loads takes it; orjson cannot store it

# Recorder: a state's attributes over 16 KiB are not stored.
RECORDER_ATTRIBUTE_LIMIT = 16 * 1024


def errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


async def test_numbers_beyond_float_range_are_dropped_and_counted(
    hass: HomeAssistant, integration: MockConfigEntry, caplog: pytest.LogCaptureFixture
) -> None:
    hostile = [
        (
            voice_topic("salon", "S1", "state"),
            f'{{"state": "idle", "timestamp": {HUGE}}}',
        ),
        (
            voice_topic("salon", "S1", "transcript/interim"),
            f'{{"text": "a", "sequence": {HUGE}}}',
        ),
        (
            voice_topic("salon", "S1", "transcript/final"),
            f'{{"text": "a", "confidence": {HUGE}}}',
        ),
        (voice_topic("salon", "S1", "response"), '{"text": "a", "timestamp": 1e400}'),
        ("devices/VR_1/status", f'{{"status": "idle", "positionMs": {HUGE}}}'),
        ("devices/VR_1/heartbeat", f'{{"timestamp": -{HUGE}}}'),
        ("devices/discovery/announce", f'{{"deviceId": "VR_1", "timestamp": {HUGE}}}'),
    ]
    for topic, payload in hostile:
        send(hass, topic, payload)
    await hass.async_block_till_done()

    stats = integration.runtime_data.stats
    assert dict(stats.rejected) == {"out_of_range": len(hostile)}
    assert errors(caplog) == []
    # Nothing was made of them: no room, no device.
    assert integration.runtime_data.rooms == {}
    assert integration.runtime_data.devices == {}


ROOM = "salon"
HOSTILE_ATTRIBUTES = [
    (
        voice_topic(ROOM, "S1", "display_action"),
        f'{{"type": "x", "data": {{"a": {DEEP}}}}}',
    ),
    (
        voice_topic(ROOM, "S1", "display_action"),
        '{"type": "x", "data": {"n": 18446744073709551616}}',
    ),
    (
        voice_topic(ROOM, "S1", "display_action"),
        json.dumps({"type": "x", "data": {"t": "x" * 20_000}}),
    ),
    (voice_topic(ROOM, "S1", "display_action"), json.dumps({"type": "y" * 20_000})),
    (
        voice_topic(ROOM, "S1", "tool_executed"),
        json.dumps({"tool_name": "t" * 20_000, "success": True}),
    ),
    (
        voice_topic(ROOM, "S1", "transcript/interim"),
        '{"text": "a", "sequence": 18446744073709551616}',
    ),
    ("devices/VR_1/events", f'{{"type": "button", "deep": {DEEP}}}'),
    ("devices/VR_1/events", '{"type": "button", "n": 18446744073709551616}'),
    ("devices/VR_1/events", json.dumps({"blob": "x" * 30_000})),
    ("devices/VR_1/status", '{"status": "idle", "positionMs": 18446744073709551616}'),
    (
        "devices/discovery/announce",
        json.dumps({"deviceId": "VR_1", "name": "n" * 20_000}),
    ),
]


@pytest.mark.parametrize(("topic", "payload"), HOSTILE_ATTRIBUTES, ids=lambda v: v[:50])
async def test_every_attribute_can_be_stored_after_hostile_input(
    hass: HomeAssistant,
    integration: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
    topic: str,
    payload: str,
) -> None:
    # A room and a device exist, with an event of each kind already fired.
    send(hass, voice_topic(ROOM, "S1", "state"), {"state": "listening"})
    send(hass, voice_topic(ROOM, "S1", "display_action"), {"type": "clock"})
    send(
        hass,
        voice_topic(ROOM, "S1", "tool_executed"),
        {"tool_name": "t", "success": True},
    )
    send(hass, "devices/VR_1/status", {"status": "idle"})
    send(hass, "devices/VR_1/events", {"type": "button"})
    await hass.async_block_till_done()

    send(hass, topic, payload)
    await hass.async_block_till_done()

    assert sum(integration.runtime_data.stats.rejected.values()) == 1
    ours = [
        state
        for state in hass.states.async_all()
        if state.entity_id.split(".")[1].startswith((f"{ROOM}_", "vr_1_"))
    ]
    assert len(ours) >= 8
    for state in ours:
        # What the state machine, the websocket API and restore state encode.
        assert json_bytes(state.as_dict())
        recorded = {k: v for k, v in state.attributes.items() if k != "full_text"}
        assert len(json_bytes(recorded)) <= RECORDER_ATTRIBUTE_LIMIT, state.entity_id
    await restore_state.async_get(hass).async_dump_states()
    assert errors(caplog) == []
