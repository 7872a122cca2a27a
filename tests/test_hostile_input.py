"""Nothing a publisher sends can hurt Home Assistant (issue 9, parts 1 to 3).

Hostile numbers are dropped and counted, never raised into the MQTT client;
whatever becomes a state attribute can be stored by Home Assistant's own
encoder, so the restore-state save of every entity keeps working; a flood of
new ids stops at the entry's caps, with a repair issue, and gets its entities
at a pace Home Assistant can take.
"""

from __future__ import annotations

from datetime import timedelta
import json
import logging

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.helpers import (
    device_registry as dr,
    issue_registry as ir,
    restore_state,
)
from homeassistant.helpers.json import json_bytes
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)

from custom_components.voice_mqtt.const import DOMAIN
from custom_components.voice_mqtt.dispatch.arrivals import (
    ARRIVAL_BATCH,
    ARRIVAL_INTERVAL,
)

from .common import form_values, send, voice_topic

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

    stats = integration.runtime_data.intake
    assert dict(stats.rejected) == {"out_of_range": len(hostile)}
    assert errors(caplog) == []
    # Nothing was made of them: no room, no device.
    assert integration.runtime_data.rooms == {}
    assert integration.runtime_data.devices == {}


async def test_a_heartbeat_like_the_last_but_for_a_bad_time_is_dropped(
    hass: HomeAssistant,
    integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Heartbeats of a known shape skip the parse; hostile ones still cannot."""
    connectivity = "binary_sensor.vr_1_connectivity"

    def beat(stamp: str) -> str:
        return json.dumps({"deviceId": "VR_1", "status": "idle"})[:-1] + (
            f', "timestamp": "{stamp}"}}'
        )

    for second in range(3):  # the first is parsed, the next ones have its shape
        send(hass, "devices/VR_1/heartbeat", beat(f"2025-06-01T12:00:0{second}Z"))
    await hass.async_block_till_done()
    hub = integration.runtime_data
    assert hub.intake.received["device"] == 3
    hostile = [
        beat("2025-13-01T12:00:00Z"),  # no such month
        beat("0001-01-01T00:00:00+01:00"),  # before year 1 in UTC
        beat('2025-06-01"12:00:00'),  # fromisoformat's separator, broken JSON
        beat("2025-06-01\\12:00:00"),  # a bad escape
        beat("2025-06-01\\u005a"),  # an escape: 2025-06-01Z, no time
    ]
    for payload in hostile:
        send(hass, "devices/VR_1/heartbeat", payload)
    await hass.async_block_till_done()
    assert dict(hub.intake.rejected) == {
        "invalid_field": 2,
        "out_of_range": 1,
        "invalid_json": 2,
    }
    # None of them counted as a sign of life: silence is offline at the timeout.
    for _ in range(4):
        freezer.tick(timedelta(seconds=15))
        async_fire_time_changed(hass)
        send(hass, "devices/VR_1/heartbeat", hostile[0])
        await hass.async_block_till_done()
    state = hass.states.get(connectivity)
    assert state is not None
    assert state.state == "off"


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
    # Lone surrogates: valid JSON escapes that no UTF-8 holds.
    ("devices/discovery/announce", '{"deviceId": "VR_1", "name": "bad \\ud800"}'),
    (voice_topic(ROOM, "S1", "state"), '{"state": "\\udfff"}'),
    ("devices/VR_1/events", '{"type": "button", "\\ud800": 1}'),
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

    assert sum(integration.runtime_data.intake.rejected.values()) == 1
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
    # What the device registry saves.
    for device in dr.async_entries_for_config_entry(
        dr.async_get(hass), integration.entry_id
    ):
        assert json_bytes([device.name, device.model])
    await restore_state.async_get(hass).async_dump_states()
    assert errors(caplog) == []


# An id flood (issue 9, part 3) -------------------------------------------------------


def entry_devices(hass: HomeAssistant, entry: MockConfigEntry) -> list[dr.DeviceEntry]:
    return dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id)


@pytest.mark.parametrize("entry_options", [{"max_devices": 5, "max_rooms": 3}])
async def test_an_id_flood_stops_at_the_caps_with_a_repair_issue(
    hass: HomeAssistant,
    integration: MockConfigEntry,
    issue_registry: ir.IssueRegistry,
    freezer: FrozenDateTimeFactory,
) -> None:
    for index in range(20):
        send(hass, f"devices/D{index}/status", {"status": "idle"})
    for index in range(10):
        send(hass, voice_topic(f"room{index}", "S1", "state"), {"state": "listening"})
    await hass.async_block_till_done()

    hub = integration.runtime_data
    assert sorted(hub.devices) == [f"D{index}" for index in range(5)]
    assert sorted(hub.rooms) == [f"room{index}" for index in range(3)]
    assert len(entry_devices(hass, integration)) == 1 + 5 + 3  # with the bridge
    assert hub.limits.refused == {"device": 15, "room": 7}
    # Known ones still work: refusing is about new ids only.
    send(hass, "devices/D4/status", {"status": "playing"})
    await hass.async_block_till_done()
    assert hass.states.get("sensor.d4_status").state == "playing"

    issue = issue_registry.async_get_issue(
        DOMAIN, f"{integration.entry_id}_too_many_devices"
    )
    assert issue is not None
    assert issue.translation_key == "too_many_devices"
    assert issue.translation_placeholders["cap"] == "5"
    # The count is brought up to date once a minute, not once a message.
    freezer.tick(timedelta(seconds=61))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    issue = issue_registry.async_get_issue(
        DOMAIN, f"{integration.entry_id}_too_many_devices"
    )
    assert issue is not None
    assert issue.translation_placeholders["refused"] == "15"
    assert issue_registry.async_get_issue(
        DOMAIN, f"{integration.entry_id}_too_many_rooms"
    )

    # The user raises the cap: the issue goes, and new ids are welcome again.
    result = await hass.config_entries.options.async_init(integration.entry_id)
    options = form_values(result["data_schema"])
    await hass.config_entries.options.async_configure(
        result["flow_id"], {**options, "max_devices": 50}
    )
    await hass.async_block_till_done()
    assert not issue_registry.async_get_issue(
        DOMAIN, f"{integration.entry_id}_too_many_devices"
    )
    send(hass, "devices/D10/status", {"status": "idle"})
    await hass.async_block_till_done()
    assert "D10" in integration.runtime_data.devices


async def test_a_flood_of_new_ids_gets_its_entities_in_paced_batches(
    hass: HomeAssistant,
    integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    for index in range(300):
        send(hass, f"devices/D{index}/status", {"status": f"s{index}"})
    await hass.async_block_till_done()
    hub = integration.runtime_data
    assert len(hub.devices) == 300, "every model is known at once"
    assert hub.device_arrivals.waiting == 300 - ARRIVAL_BATCH
    assert len(entry_devices(hass, integration)) == 1 + ARRIVAL_BATCH

    # A message for a waiting device is not lost.
    send(hass, "devices/D299/status", {"status": "playing"})
    for _ in range(300 // ARRIVAL_BATCH):
        freezer.tick(timedelta(seconds=ARRIVAL_INTERVAL))
        async_fire_time_changed(hass)
        await hass.async_block_till_done()
    assert hub.device_arrivals.waiting == 0
    assert len(entry_devices(hass, integration)) == 1 + 300
    assert hass.states.get("sensor.d299_status").state == "playing"
    assert hass.states.get("sensor.d150_status").state == "s150"
