"""Voice devices: discovery, presence, status, events, removal, admin snapshot."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
import json
import logging
from typing import Any
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import (
    EVENT_STATE_CHANGED,
    EVENT_STATE_REPORTED,
    STATE_OFF,
    STATE_ON,
    STATE_UNAVAILABLE,
    STATE_UNKNOWN,
)
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers import (
    device_registry as dr,
    entity_platform,
    entity_registry as er,
)
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
    async_fire_time_changed,
    get_scheduled_timer_handles,
)
from pytest_homeassistant_custom_component.typing import (
    MqttMockHAClient,
    MqttMockPahoClient,
    WebSocketGenerator,
)

from custom_components.voice_mqtt.const import DOMAIN
from custom_components.voice_mqtt.registry.last_seen import last_seen_store

from .common import disconnect, reconnect, remove_device_in_ui, send

ONLINE = "sensor.voice_assistant_mqtt_devices_online"
T0 = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


def iso(seconds: float = 0) -> str:
    return (T0 + timedelta(seconds=seconds)).isoformat().replace("+00:00", "Z")


def announce(hass: HomeAssistant, device_id: str, kind: str, name: str) -> None:
    send(
        hass,
        "devices/discovery/announce",
        {"deviceId": device_id, "type": kind, "name": name, "timestamp": iso()},
    )


def status(
    hass: HomeAssistant,
    device_id: str,
    value: str,
    seconds: float | None = 0,
    *,
    retain: bool = False,
    **fields: Any,
) -> None:
    payload: dict[str, Any] = {"deviceId": device_id, "status": value, **fields}
    if seconds is not None:
        payload["timestamp"] = iso(seconds)
    send(hass, f"devices/{device_id}/status", payload, retain=retain)


def last_will(
    hass: HomeAssistant, device_id: str, seconds: float | None, *, retain: bool = True
) -> None:
    payload: dict[str, Any] = {"deviceId": device_id, "status": "offline"}
    if seconds is not None:
        payload["timestamp"] = iso(seconds)
    send(hass, f"devices/{device_id}/lwt", payload, retain=retain)


def heartbeat(hass: HomeAssistant, device_id: str) -> None:
    send(hass, f"devices/{device_id}/heartbeat", {"deviceId": device_id})


def state_of(hass: HomeAssistant, entity_id: str) -> str:
    state = hass.states.get(entity_id)
    assert state is not None, entity_id
    return state.state


def registry_device(
    device_registry: dr.DeviceRegistry, entry: MockConfigEntry, device_id: str
) -> dr.DeviceEntry | None:
    return device_registry.async_get_device_by_identifier(
        (DOMAIN, f"{entry.entry_id}_device_{device_id}"), entry.entry_id
    )


async def test_three_devices_of_different_types_are_discovered(
    hass: HomeAssistant,
    integration: MockConfigEntry,
    device_registry: dr.DeviceRegistry,
    entity_registry: er.EntityRegistry,
) -> None:
    announce(hass, "VR_12345", "vr", "My VR Device")
    announce(hass, "cc:ba:97:11:0e:84", "voice_box", "Kitchen box")
    announce(hass, "SIM_1", "browser", "Browser simulator")
    await hass.async_block_till_done()

    bridge = device_registry.async_get_device_by_identifier(
        (DOMAIN, integration.entry_id), integration.entry_id
    )
    assert bridge is not None
    expected = {
        "VR_12345": ("My VR Device", "vr", "my_vr_device"),
        "cc:ba:97:11:0e:84": ("Kitchen box", "voice_box", "kitchen_box"),
        "SIM_1": ("Browser simulator", "browser", "browser_simulator"),
    }
    for device_id, (name, model, slug) in expected.items():
        device = registry_device(device_registry, integration, device_id)
        assert device is not None
        assert (device.name, device.model, device.via_device_id) == (
            name,
            model,
            bridge.id,
        )
        assert state_of(hass, f"binary_sensor.{slug}_connectivity") == STATE_ON
        assert state_of(hass, f"sensor.{slug}_status") == STATE_UNKNOWN
        assert state_of(hass, f"sensor.{slug}_session") == STATE_UNKNOWN
        position = entity_registry.async_get(f"sensor.{slug}_position")
        assert position is not None
        assert position.disabled_by is er.RegistryEntryDisabler.INTEGRATION
        connectivity = entity_registry.async_get(f"binary_sensor.{slug}_connectivity")
        assert connectivity is not None
        assert connectivity.unique_id == (
            f"{integration.entry_id}_device_{device_id}_connectivity"
        )
        assert connectivity.original_device_class == "connectivity"
    box = registry_device(device_registry, integration, "cc:ba:97:11:0e:84")
    assert box is not None
    assert box.connections == {(dr.CONNECTION_NETWORK_MAC, "cc:ba:97:11:0e:84")}
    assert state_of(hass, ONLINE) == "3"

    status(hass, "VR_12345", "playing", positionMs=1500, sessionId="S_1")
    status(hass, "SIM_1", "idle", sessionId="")
    await hass.async_block_till_done()
    assert state_of(hass, "sensor.my_vr_device_status") == "playing"
    assert state_of(hass, "sensor.my_vr_device_session") == "S_1"
    assert state_of(hass, "sensor.browser_simulator_session") == "none"


async def test_position_sensor_when_enabled(
    hass: HomeAssistant,
    mqtt_mock: MqttMockHAClient,
    config_entry: MockConfigEntry,
    entity_registry: er.EntityRegistry,
) -> None:
    config_entry.add_to_hass(hass)
    entity_registry.async_get_or_create(
        "sensor",
        DOMAIN,
        f"{config_entry.entry_id}_device_VR_1_position",
        config_entry=config_entry,
        suggested_object_id="vr_1_position",
        disabled_by=None,
    )
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    status(hass, "VR_1", "playing", positionMs=83_000)
    await hass.async_block_till_done()
    state = hass.states.get("sensor.vr_1_position")
    assert state is not None
    assert float(state.state) == 83_000
    assert state.attributes["device_class"] == "duration"
    assert state.attributes["unit_of_measurement"] == "ms"


async def test_a_disabled_entity_comes_back_once_enabled(
    hass: HomeAssistant,
    integration: MockConfigEntry,
    entity_registry: er.EntityRegistry,
) -> None:
    status(hass, "VR_1", "playing", positionMs=83_000)
    await hass.async_block_till_done()
    assert await hass.config_entries.async_reload(integration.entry_id)
    await hass.async_block_till_done()
    # Disabled by default: registered, not made at the restart, no state.
    assert hass.states.get("sensor.vr_1_position") is None
    assert state_of(hass, "sensor.vr_1_status") == STATE_UNKNOWN
    entity_registry.async_update_entity("sensor.vr_1_position", disabled_by=None)
    assert await hass.config_entries.async_reload(integration.entry_id)
    status(hass, "VR_1", "playing", positionMs=84_000)
    await hass.async_block_till_done()
    assert state_of(hass, "sensor.vr_1_position") == "84000"
    # And disabled again by the user, it is not made at the next start.
    entity_registry.async_update_entity(
        "sensor.vr_1_status", disabled_by=er.RegistryEntryDisabler.USER
    )
    assert await hass.config_entries.async_reload(integration.entry_id)
    await hass.async_block_till_done()
    assert hass.states.get("sensor.vr_1_status") is None
    assert state_of(hass, "sensor.vr_1_position") == STATE_UNKNOWN


async def test_a_new_announce_renames_the_device(
    hass: HomeAssistant,
    integration: MockConfigEntry,
    device_registry: dr.DeviceRegistry,
) -> None:
    announce(hass, "VR_1", "vr", "Old name")
    await hass.async_block_till_done()
    announce(hass, "VR_1", "vr_pro", "Living room headset")
    await hass.async_block_till_done()
    device = registry_device(device_registry, integration, "VR_1")
    assert device is not None
    assert (device.name, device.model) == ("Living room headset", "vr_pro")
    # An announce without a name keeps the one known.
    send(hass, "devices/discovery/announce", {"deviceId": "VR_1"})
    await hass.async_block_till_done()
    device = registry_device(device_registry, integration, "VR_1")
    assert device is not None
    assert device.name == "Living room headset"


async def test_a_device_known_only_by_status_or_will_is_named_by_its_id(
    hass: HomeAssistant,
    integration: MockConfigEntry,
    device_registry: dr.DeviceRegistry,
) -> None:
    status(hass, "VR_7", "idle", type="vr")
    last_will(hass, "BOX_9", 0)
    await hass.async_block_till_done()
    vr = registry_device(device_registry, integration, "VR_7")
    box = registry_device(device_registry, integration, "BOX_9")
    assert vr is not None
    assert box is not None
    assert (vr.name, vr.model) == ("VR_7", "vr")
    assert state_of(hass, "binary_sensor.vr_7_connectivity") == STATE_ON
    assert state_of(hass, "binary_sensor.box_9_connectivity") == STATE_OFF


async def test_presence_follows_will_status_and_silence(
    hass: HomeAssistant,
    integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    connectivity = "binary_sensor.vr_1_connectivity"
    heartbeat(hass, "VR_1")
    await hass.async_block_till_done()
    assert state_of(hass, connectivity) == STATE_ON
    last_will(hass, "VR_1", 10, retain=False)
    await hass.async_block_till_done()
    assert state_of(hass, connectivity) == STATE_OFF
    assert state_of(hass, ONLINE) == "0"
    status(hass, "VR_1", "idle", 20)
    await hass.async_block_till_done()
    assert state_of(hass, connectivity) == STATE_ON
    status(hass, "VR_1", "offline", 30)
    await hass.async_block_till_done()
    assert state_of(hass, connectivity) == STATE_OFF
    # An offline device's status is not shown as if it were live.
    assert state_of(hass, "sensor.vr_1_status") == STATE_UNAVAILABLE

    heartbeat(hass, "VR_1")
    for _ in range(3):  # heartbeats every 15 s keep it online
        freezer.tick(timedelta(seconds=15))
        async_fire_time_changed(hass)
        heartbeat(hass, "VR_1")
        await hass.async_block_till_done()
    assert state_of(hass, connectivity) == STATE_ON
    freezer.tick(timedelta(seconds=44))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert state_of(hass, connectivity) == STATE_ON
    freezer.tick(timedelta(seconds=2))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert state_of(hass, connectivity) == STATE_OFF, "silent for over 45 s"


DEVICE_ENTITIES = (
    "sensor.vr_1_status",
    "sensor.vr_1_session",
    "event.vr_1_device_event",
)


async def test_an_offline_device_shows_nothing_as_live(
    hass: HomeAssistant,
    integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    connectivity = "binary_sensor.vr_1_connectivity"
    status(hass, "VR_1", "playing", 0, sessionId="S_1")
    send(hass, "devices/VR_1/events", {"type": "button"})
    await hass.async_block_till_done()
    assert [state_of(hass, e) for e in DEVICE_ENTITIES[:2]] == ["playing", "S_1"]
    assert state_of(hass, DEVICE_ENTITIES[2]) not in (STATE_UNAVAILABLE, STATE_UNKNOWN)

    # Its Last Will: everything but connectivity is unavailable.
    last_will(hass, "VR_1", 10, retain=False)
    await hass.async_block_till_done()
    assert [state_of(hass, e) for e in DEVICE_ENTITIES] == [STATE_UNAVAILABLE] * 3
    assert state_of(hass, connectivity) == STATE_OFF

    # Back: the last values show again.
    heartbeat(hass, "VR_1")
    await hass.async_block_till_done()
    assert [state_of(hass, e) for e in DEVICE_ENTITIES[:2]] == ["playing", "S_1"]
    assert state_of(hass, DEVICE_ENTITIES[2]) != STATE_UNAVAILABLE

    # Silence beyond the heartbeat timeout is offline too.
    freezer.tick(timedelta(seconds=46))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert [state_of(hass, e) for e in DEVICE_ENTITIES] == [STATE_UNAVAILABLE] * 3
    assert state_of(hass, connectivity) == STATE_OFF


@pytest.mark.parametrize("entry_options", [{"heartbeat_timeout": 10}])
async def test_the_heartbeat_timeout_is_an_option(
    hass: HomeAssistant,
    integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    heartbeat(hass, "VR_1")
    await hass.async_block_till_done()
    freezer.tick(timedelta(seconds=11))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert state_of(hass, "binary_sensor.vr_1_connectivity") == STATE_OFF


def our_timers(hass: HomeAssistant) -> list[Any]:
    """The timers voice_mqtt has scheduled on the loop."""
    return [
        handle
        for handle in get_scheduled_timer_handles(hass.loop)
        if not handle.cancelled()
        and getattr(handle._callback, "__module__", "").startswith("custom_components")
    ]


async def test_heartbeats_that_change_nothing_write_nothing(
    hass: HomeAssistant, integration: MockConfigEntry
) -> None:
    devices = [f"BOX_{index:04}" for index in range(100)]
    for device_id in devices:
        status(hass, device_id, "idle")
    await hass.async_block_till_done()
    hub = integration.runtime_data
    # So many new devices at once get their entities in two batches.
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=1))
    await hass.async_block_till_done()
    assert hub.device_arrivals.waiting == 0
    assert state_of(hass, ONLINE) == "100"
    timers_before = our_timers(hass)
    sweep_timer = hub.sweeper.timer
    assert sweep_timer in timers_before

    # A write that changes nothing still reports the state: count both.
    changed = async_capture_events(hass, EVENT_STATE_CHANGED)
    reported: list[Event[Any]] = []

    @callback
    def report(event: Event[Any]) -> None:
        reported.append(event)

    hass.bus.async_listen(
        EVENT_STATE_REPORTED, report, event_filter=callback(lambda _: True)
    )
    for _ in range(3):  # three rounds of heartbeats from every device
        for device_id in devices:
            heartbeat(hass, device_id)
        await hass.async_block_till_done()
    assert changed == []
    assert reported == []
    # No timer per heartbeat: the one sweep timer is neither replaced nor joined.
    assert hub.sweeper.timer is sweep_timer
    assert our_timers(hass) == timers_before


@pytest.mark.parametrize("lwt_first", [True, False])
async def test_a_stale_retained_will_does_not_mark_a_live_device_offline(
    hass: HomeAssistant, integration: MockConfigEntry, lwt_first: bool
) -> None:
    # After a restart both retained topics arrive: the will is from an old death.
    messages = [
        lambda: last_will(hass, "VR_1", -3600),
        lambda: status(hass, "VR_1", "idle", 0, retain=True),
    ]
    for message in messages if lwt_first else reversed(messages):
        message()
    await hass.async_block_till_done()
    assert state_of(hass, "binary_sensor.vr_1_connectivity") == STATE_ON


@pytest.mark.parametrize("lwt_first", [True, False])
async def test_a_newer_retained_will_wins(
    hass: HomeAssistant, integration: MockConfigEntry, lwt_first: bool
) -> None:
    messages = [
        lambda: last_will(hass, "VR_1", 60),
        lambda: status(hass, "VR_1", "playing", 0, retain=True),
    ]
    for message in messages if lwt_first else reversed(messages):
        message()
    await hass.async_block_till_done()
    assert state_of(hass, "binary_sensor.vr_1_connectivity") == STATE_OFF
    # The last status the device published is kept, not shown as live.
    assert integration.runtime_data.devices["VR_1"].status == "playing"
    assert state_of(hass, "sensor.vr_1_status") == STATE_UNAVAILABLE


@pytest.mark.parametrize(
    ("order", "expected"),
    [(("status", "lwt"), STATE_OFF), (("lwt", "status"), STATE_ON)],
)
async def test_without_timestamps_the_later_arrival_wins(
    hass: HomeAssistant,
    integration: MockConfigEntry,
    order: tuple[str, str],
    expected: str,
) -> None:
    for kind in order:
        if kind == "lwt":
            last_will(hass, "VR_1", None)
        else:
            status(hass, "VR_1", "idle", None, retain=True)
    await hass.async_block_till_done()
    assert state_of(hass, "binary_sensor.vr_1_connectivity") == expected


async def test_an_empty_retained_payload_clears_and_changes_nothing(
    hass: HomeAssistant, integration: MockConfigEntry
) -> None:
    status(hass, "VR_1", "playing")
    await hass.async_block_till_done()
    send(hass, "devices/VR_1/lwt", b"", retain=True)
    send(hass, "devices/VR_1/status", b"", retain=True)
    send(hass, "devices/VR_2/lwt", b"", retain=True)
    await hass.async_block_till_done()
    assert state_of(hass, "binary_sensor.vr_1_connectivity") == STATE_ON
    assert state_of(hass, "sensor.vr_1_status") == "playing"
    assert hass.states.get("binary_sensor.vr_2_connectivity") is None, "no device"
    assert integration.runtime_data.intake.cleared == 3


async def test_broker_loss_makes_devices_unavailable_and_retained_restores_them(
    hass: HomeAssistant,
    integration: MockConfigEntry,
    mqtt_mock: MqttMockHAClient,
    mqtt_client_mock: MqttMockPahoClient,
    caplog: pytest.LogCaptureFixture,
) -> None:
    for device_id in ("VR_1", "VR_2"):
        status(hass, device_id, "idle", 0, retain=True)
    await hass.async_block_till_done()
    last_will(hass, "VR_1", 5, retain=False)  # VR_1 died while we watched
    await hass.async_block_till_done()
    assert state_of(hass, "binary_sensor.vr_1_connectivity") == STATE_OFF

    caplog.set_level(logging.INFO, logger="custom_components.voice_mqtt")
    disconnect(mqtt_mock, mqtt_client_mock)
    await hass.async_block_till_done()
    for entity_id in (
        "binary_sensor.vr_1_connectivity",
        "sensor.vr_1_status",
        "sensor.vr_2_session",
        "event.vr_2_device_event",
        ONLINE,
    ):
        assert state_of(hass, entity_id) == STATE_UNAVAILABLE

    # VR_1 came back while Home Assistant was away; the broker replays its status.
    reconnect(mqtt_mock, mqtt_client_mock)
    status(hass, "VR_1", "playing", 20, retain=True)
    last_will(hass, "VR_1", 5)
    await hass.async_block_till_done()
    assert state_of(hass, "binary_sensor.vr_1_connectivity") == STATE_ON
    assert state_of(hass, "sensor.vr_1_status") == "playing"
    assert caplog.text.count("connection lost") == 1
    assert caplog.text.count("connection restored") == 1


async def test_silence_while_the_broker_is_away_proves_nothing(
    hass: HomeAssistant,
    integration: MockConfigEntry,
    mqtt_mock: MqttMockHAClient,
    mqtt_client_mock: MqttMockPahoClient,
    freezer: FrozenDateTimeFactory,
) -> None:
    heartbeat(hass, "VR_1")
    await hass.async_block_till_done()
    disconnect(mqtt_mock, mqtt_client_mock)
    freezer.tick(timedelta(minutes=5))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    reconnect(mqtt_mock, mqtt_client_mock)
    await hass.async_block_till_done()
    assert state_of(hass, "binary_sensor.vr_1_connectivity") == STATE_ON
    # A full timeout from the reconnect, then silence counts again.
    freezer.tick(timedelta(seconds=46))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert state_of(hass, "binary_sensor.vr_1_connectivity") == STATE_OFF


async def test_after_a_restart_devices_are_known_and_unknown(
    hass: HomeAssistant,
    integration: MockConfigEntry,
) -> None:
    announce(hass, "VR_1", "vr", "Headset")
    status(hass, "VR_1", "playing")
    await hass.async_block_till_done()
    assert await hass.config_entries.async_reload(integration.entry_id)
    await hass.async_block_till_done()
    # No message yet: the device and its entities are back, neither on nor off.
    assert state_of(hass, "binary_sensor.headset_connectivity") == STATE_UNKNOWN
    assert state_of(hass, "sensor.headset_status") == STATE_UNKNOWN
    assert state_of(hass, ONLINE) == "0"
    heartbeat(hass, "VR_1")
    await hass.async_block_till_done()
    assert state_of(hass, "binary_sensor.headset_connectivity") == STATE_ON
    hub = integration.runtime_data
    assert hub.devices["VR_1"].device_type == "vr", "known from the registry"


async def test_a_restart_restores_in_one_batch_and_writes_no_registry(
    hass: HomeAssistant,
    integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    for index in range(120):
        status(hass, f"BOX_{index:03}", "idle")
        send(
            hass,
            f"v1/voice_assistant/room/room_{index % 12}/session/S/state",
            {"state": "idle"},
        )
    await hass.async_block_till_done()
    hub = integration.runtime_data
    while hub.device_arrivals.waiting:  # 50 new ones at a time
        freezer.tick(timedelta(seconds=1))
        async_fire_time_changed(hass)
        await hass.async_block_till_done()
    device_updates = async_capture_events(hass, dr.EVENT_DEVICE_REGISTRY_UPDATED)
    entity_updates = async_capture_events(hass, er.EVENT_ENTITY_REGISTRY_UPDATED)
    added: list[int] = []
    original = entity_platform.EntityPlatform.async_add_entities

    async def count(self: Any, entities: Any, **kwargs: Any) -> None:
        entities = list(entities)
        added.append(len(entities))
        await original(self, entities, **kwargs)

    with patch.object(entity_platform.EntityPlatform, "async_add_entities", count):
        assert await hass.config_entries.async_reload(integration.entry_id)
        await hass.async_block_till_done()
    # One call per platform and kind for every known room and device (the
    # bridge's entities come first): not one per device, nor 50 at a time;
    # a device's sensors disabled by default (position, last seen) not made.
    rooms, devices = 12, 120
    assert sorted(added) == sorted(
        [4, 1, rooms, devices, rooms * 3, devices, rooms * 5, devices * 3]
    )
    assert device_updates == []
    assert entity_updates == []
    assert state_of(hass, ONLINE) == "0"


async def test_a_mismatched_device_id_goes_to_the_topic_id_and_is_counted(
    hass: HomeAssistant, integration: MockConfigEntry
) -> None:
    send(hass, "devices/VR_1/status", {"deviceId": "VR_2", "status": "paused"})
    await hass.async_block_till_done()
    assert state_of(hass, "sensor.vr_1_status") == "paused"
    assert hass.states.get("sensor.vr_2_status") is None
    assert integration.runtime_data.intake.id_mismatches == 1


async def test_device_events_fire_with_their_data(
    hass: HomeAssistant, integration: MockConfigEntry
) -> None:
    payload = {"type": "button", "button": "main", "timestamp": iso(1)}
    send(hass, "devices/VR_1/events", payload)
    await hass.async_block_till_done()
    state = hass.states.get("event.vr_1_device_event")
    assert state is not None
    assert state.state != STATE_UNKNOWN
    assert state.attributes["event_type"] == "device_event"
    assert state.attributes["data"] == payload
    assert state.attributes["timestamp"] == "2025-06-01T12:00:01+00:00"
    # An event is not presence evidence.
    assert state_of(hass, "binary_sensor.vr_1_connectivity") == STATE_UNKNOWN


async def test_removing_a_device_from_the_ui(
    hass: HomeAssistant,
    integration: MockConfigEntry,
    device_registry: dr.DeviceRegistry,
    entity_registry: er.EntityRegistry,
    hass_ws_client: WebSocketGenerator,
) -> None:
    assert await async_setup_component(hass, "config", {})
    announce(hass, "VR_1", "vr", "Headset")
    send(
        hass,
        "v1/voice_assistant/room/kitchen/session/S1/state",
        {"state": "idle"},
    )
    await hass.async_block_till_done()
    client = await hass_ws_client(hass)
    for device_id in (
        f"{integration.entry_id}_device_VR_1",
        f"{integration.entry_id}_room_kitchen",
    ):
        device = device_registry.async_get_device_by_identifier(
            (DOMAIN, device_id), integration.entry_id
        )
        assert device is not None
        response = await remove_device_in_ui(client, device.id, integration.entry_id)
        assert response["success"]
    await hass.async_block_till_done()
    assert registry_device(device_registry, integration, "VR_1") is None
    assert entity_registry.async_get("binary_sensor.headset_connectivity") is None
    assert hass.states.get("binary_sensor.headset_connectivity") is None
    assert state_of(hass, ONLINE) == "0"

    bridge = device_registry.async_get_device_by_identifier(
        (DOMAIN, integration.entry_id), integration.entry_id
    )
    assert bridge is not None
    response = await remove_device_in_ui(client, bridge.id, integration.entry_id)
    assert not response["success"], "the bridge stays"

    # A removed device that speaks again comes back.
    announce(hass, "VR_1", "vr", "Headset")
    await hass.async_block_till_done()
    assert state_of(hass, "binary_sensor.headset_connectivity") == STATE_ON


async def test_stale_devices_are_removed_at_start_up(
    hass: HomeAssistant,
    mqtt_mock: MqttMockHAClient,
    config_entry: MockConfigEntry,
    device_registry: dr.DeviceRegistry,
    hass_storage: dict[str, Any],
    freezer: FrozenDateTimeFactory,
) -> None:
    freezer.move_to(T0)
    config_entry.add_to_hass(hass)
    entry_id = config_entry.entry_id
    for identifier in ("device_OLD", "device_FRESH", "device_NEW", "room_attic"):
        device_registry.async_get_or_create(
            config_entry_id=entry_id,
            identifiers={(DOMAIN, f"{entry_id}_{identifier}")},
            name=identifier,
        )
    hass_storage[f"{DOMAIN}.{entry_id}"] = {
        "version": 1,
        "key": f"{DOMAIN}.{entry_id}",
        "data": {
            "last_seen": {
                "device_OLD": (T0 - timedelta(days=31)).isoformat(),
                "device_FRESH": (T0 - timedelta(days=29)).isoformat(),
                "room_attic": (T0 - timedelta(days=40)).isoformat(),
            }
        },
    }
    assert await hass.config_entries.async_setup(entry_id)
    await hass.async_block_till_done()
    remaining = {
        identifier
        for device in dr.async_entries_for_config_entry(device_registry, entry_id)
        for _, identifier in device.identifiers
    }
    # Never-recorded devices start counting now rather than vanish.
    assert remaining == {entry_id, f"{entry_id}_device_FRESH", f"{entry_id}_device_NEW"}

    heartbeat(hass, "FRESH")
    await hass.async_block_till_done()
    assert await hass.config_entries.async_unload(entry_id)
    saved = await last_seen_store(hass, entry_id).async_load()
    assert saved is not None
    assert saved["last_seen"]["device_FRESH"] == T0.isoformat()
    assert "device_OLD" not in saved["last_seen"]


async def test_when_devices_were_heard_is_saved_every_few_minutes(
    hass: HomeAssistant,
    integration: MockConfigEntry,
    hass_storage: dict[str, Any],
    freezer: FrozenDateTimeFactory,
) -> None:
    freezer.move_to(T0)
    heartbeat(hass, "VR_1")
    await hass.async_block_till_done()
    key = f"{DOMAIN}.{integration.entry_id}"
    # Not per message: recorded every 5 minutes, saved a minute later.
    for _ in range(7):
        freezer.tick(timedelta(minutes=1))
        async_fire_time_changed(hass)
        heartbeat(hass, "VR_1")
        await hass.async_block_till_done()
    assert hass_storage[key]["data"]["last_seen"]["device_VR_1"] == T0.isoformat()


@pytest.mark.parametrize("entry_options", [{"stale_device_days": 3}])
async def test_the_stale_delay_is_an_option(
    hass: HomeAssistant,
    mqtt_mock: MqttMockHAClient,
    config_entry: MockConfigEntry,
    device_registry: dr.DeviceRegistry,
    hass_storage: dict[str, Any],
) -> None:
    config_entry.add_to_hass(hass)
    entry_id = config_entry.entry_id
    device_registry.async_get_or_create(
        config_entry_id=entry_id, identifiers={(DOMAIN, f"{entry_id}_device_A")}
    )
    hass_storage[f"{DOMAIN}.{entry_id}"] = {
        "version": 1,
        "key": f"{DOMAIN}.{entry_id}",
        "data": {"last_seen": {"device_A": "2000-01-01T00:00:00+00:00"}},
    }
    assert await hass.config_entries.async_setup(entry_id)
    assert registry_device(device_registry, config_entry, "A") is None


async def test_removing_the_entry_removes_its_store(
    hass: HomeAssistant,
    integration: MockConfigEntry,
    hass_storage: dict[str, Any],
) -> None:
    heartbeat(hass, "VR_1")
    await hass.async_block_till_done()
    assert await hass.config_entries.async_unload(integration.entry_id)
    assert f"{DOMAIN}.{integration.entry_id}" in hass_storage
    await hass.config_entries.async_remove(integration.entry_id)
    assert f"{DOMAIN}.{integration.entry_id}" not in hass_storage


@pytest.mark.parametrize("entry_options", [{"admin_snapshot": True}])
async def test_removing_the_entry_clears_its_retained_snapshot(
    hass: HomeAssistant, integration: MockConfigEntry, mqtt_mock: MqttMockHAClient
) -> None:
    status(hass, "VR_1", "idle")
    await hass.async_block_till_done()
    mqtt_mock.async_publish.reset_mock()
    await hass.config_entries.async_remove(integration.entry_id)
    await hass.async_block_till_done()
    assert [call.args for call in mqtt_mock.async_publish.call_args_list] == [
        ("admin/devices/snapshot", "", 1, True)
    ]


def snapshots(mqtt_mock: MqttMockHAClient) -> list[dict[str, Any]]:
    """The admin snapshots published so far, checked as retained QoS 1."""
    published = []
    for call in mqtt_mock.async_publish.call_args_list:
        topic, payload, qos, retain = call.args
        if topic == "admin/devices/snapshot":
            assert (qos, retain) == (1, True)
            published.append(json.loads(payload))
    return published


@pytest.mark.parametrize("entry_options", [{"admin_snapshot": True}])
async def test_admin_snapshot(
    hass: HomeAssistant,
    integration: MockConfigEntry,
    mqtt_mock: MqttMockHAClient,
    freezer: FrozenDateTimeFactory,
) -> None:
    freezer.move_to(T0)
    announce(hass, "VR_1", "vr", "Headset")
    await hass.async_block_till_done()
    assert snapshots(mqtt_mock) == [
        {
            "devices": [
                {
                    "deviceId": "VR_1",
                    "type": "vr",
                    "name": "Headset",
                    "status": None,
                    "sessionId": None,
                    "online": True,
                    "lastSeen": T0.isoformat(),
                }
            ],
            "timestamp": T0.isoformat(),
        }
    ]
    # A burst of changes within a second makes one more snapshot, a second later.
    for index in range(5):
        status(hass, f"BOX_{index}", "idle")
    await hass.async_block_till_done()
    assert len(snapshots(mqtt_mock)) == 1
    freezer.tick(timedelta(seconds=1))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert len(snapshots(mqtt_mock)) == 2
    assert len(snapshots(mqtt_mock)[-1]["devices"]) == 6

    # Heartbeats change nothing and publish nothing; a request publishes.
    freezer.tick(timedelta(seconds=5))
    heartbeat(hass, "VR_1")
    await hass.async_block_till_done()
    assert len(snapshots(mqtt_mock)) == 2
    send(hass, "admin/request/snapshot", b"")
    await hass.async_block_till_done()
    assert len(snapshots(mqtt_mock)) == 3


async def test_no_admin_snapshot_unless_asked(
    hass: HomeAssistant, integration: MockConfigEntry, mqtt_mock: MqttMockHAClient
) -> None:
    announce(hass, "VR_1", "vr", "Headset")
    send(hass, "admin/request/snapshot", b"{}")
    await hass.async_block_till_done()
    assert snapshots(mqtt_mock) == []
    assert "admin/request/snapshot" not in integration.runtime_data.subscriptions
