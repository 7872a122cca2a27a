"""The fleet's link: a broker bridge down makes the fleet unknown, not offline.

With the broker-health option, mosquitto's retained notification of its
bridge (`$SYS/broker/connection/<remote client id>/state`) says whether the
fleet's broker can be heard. These tests play what mosquitto publishes.
"""

from __future__ import annotations

from datetime import timedelta
import logging
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import STATE_OFF, STATE_ON, STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import entity_registry as er, issue_registry as ir
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
    async_fire_time_changed,
)
from pytest_homeassistant_custom_component.typing import MqttMockHAClient

from custom_components.voice_mqtt.const import DOMAIN, EVENT_DISPLAY_ACTION
from custom_components.voice_mqtt.fleet.link import ISSUE_AFTER, REPLAY_WINDOW
from tests.common import send
from tests.test_devices import heartbeat, last_will, state_of, status
from tests.test_rooms import ROOM, Room, ms

LINK = "binary_sensor.voice_assistant_mqtt_fleet_link"
ONLINE = "sensor.voice_assistant_mqtt_devices_online"
CONNECTED = "binary_sensor.vr_1_connectivity"
STATUS = "sensor.vr_1_status"
ASSISTANT = f"sensor.{ROOM}_voice_assistant_assistant_state"
DISPLAY = f"event.{ROOM}_voice_assistant_display_action"
BRIDGE = "ha-home-1"


@pytest.fixture
def entry_options() -> dict[str, Any]:
    return {"broker_health": True}


def link(hass: HomeAssistant, state: bytes | str, bridge: str = BRIDGE) -> None:
    """What mosquitto publishes when its bridge connects or drops.

    Retained, so a new subscriber gets it with the retain flag; a subscriber
    already there gets each change live (and Home Assistant's MQTT client
    passes a topic's retained message to a subscription once).
    """
    send(hass, f"$SYS/broker/connection/{bridge}/state", state)


def tick(hass: HomeAssistant, freezer: FrozenDateTimeFactory, seconds: float) -> None:
    freezer.tick(timedelta(seconds=seconds))
    async_fire_time_changed(hass)


async def test_without_notifications_the_sensor_is_unavailable_and_nothing_else(
    hass: HomeAssistant, integration: MockConfigEntry
) -> None:
    heartbeat(hass, "VR_1")
    await hass.async_block_till_done()
    assert state_of(hass, LINK) == STATE_UNAVAILABLE
    assert state_of(hass, CONNECTED) == STATE_ON
    assert integration.runtime_data.fleet_link.as_dict()["up"] is None


async def test_a_link_down_makes_the_fleet_unknown_and_stops_its_clocks(
    hass: HomeAssistant, integration: MockConfigEntry, freezer: FrozenDateTimeFactory
) -> None:
    link(hass, "1")
    heartbeat(hass, "VR_1")
    status(hass, "VR_1", "playing", None)
    Room(hass).send("state", {"state": "listening"})
    await hass.async_block_till_done()
    assert state_of(hass, LINK) == STATE_ON
    assert (state_of(hass, CONNECTED), state_of(hass, STATUS)) == (STATE_ON, "playing")

    link(hass, "0")
    await hass.async_block_till_done()
    assert state_of(hass, LINK) == STATE_OFF
    # Nobody knows what the fleet does: unavailable, not offline.
    for entity_id in (CONNECTED, STATUS, ASSISTANT):
        assert state_of(hass, entity_id) == STATE_UNAVAILABLE, entity_id
    assert state_of(hass, ONLINE) == "1", "the hub's own entities stay"
    # No heartbeat can come: silence proves nothing, however long.
    tick(hass, freezer, 600)
    await hass.async_block_till_done()
    assert integration.runtime_data.devices["VR_1"].online is True

    link(hass, "1")
    await hass.async_block_till_done()
    assert (state_of(hass, CONNECTED), state_of(hass, STATUS)) == (STATE_ON, "playing")
    # A room's session quiet for ten minutes is over, link or not.
    assert state_of(hass, ASSISTANT) == "idle"
    # The heartbeat timeout starts from zero.
    tick(hass, freezer, 44)
    await hass.async_block_till_done()
    assert state_of(hass, CONNECTED) == STATE_ON
    tick(hass, freezer, 2)
    await hass.async_block_till_done()
    assert state_of(hass, CONNECTED) == STATE_OFF


async def test_a_minute_down_raises_an_issue_that_names_the_bridge(
    hass: HomeAssistant,
    integration: MockConfigEntry,
    issue_registry: ir.IssueRegistry,
    freezer: FrozenDateTimeFactory,
) -> None:
    issue_id = f"{integration.entry_id}_fleet_link_down"
    link(hass, "1")
    link(hass, "0")
    tick(hass, freezer, ISSUE_AFTER - 1)
    await hass.async_block_till_done()
    assert issue_registry.async_get_issue(DOMAIN, issue_id) is None, "a blip"
    tick(hass, freezer, 2)
    await hass.async_block_till_done()
    issue = issue_registry.async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.translation_key == "fleet_link_down"
    assert issue.translation_placeholders["bridge"] == BRIDGE
    link(hass, "1")
    await hass.async_block_till_done()
    assert issue_registry.async_get_issue(DOMAIN, issue_id) is None


async def test_what_a_returning_link_replays_is_a_replay(
    hass: HomeAssistant, integration: MockConfigEntry, freezer: FrozenDateTimeFactory
) -> None:
    """The fleet's broker resends its retained topics; they arrive as live ones."""
    link(hass, "1")
    room = Room(hass)
    room.send("state", {"state": "listening", "timestamp": ms(100)}, "S2")
    room.send("display_action", {"type": "clock", "timestamp": ms(101)}, "S2")
    # The device crashed once (its Last Will is still retained, stamped when
    # that connection opened) and came back: a newer status.
    status(hass, "VR_1", "idle", 10)
    await hass.async_block_till_done()
    fired = async_capture_events(hass, EVENT_DISPLAY_ACTION)
    link(hass, "0")
    await hass.async_block_till_done()

    link(hass, "1")
    # The replay, as the local broker forwards it: retain flag 0, any order.
    last_will(hass, "VR_1", 5, retain=False)
    status(hass, "VR_1", "idle", 10)
    room.send("display_action", {"type": "clock", "timestamp": ms(101)}, "S2")
    room.send("state", {"state": "idle", "timestamp": ms(50)}, "S1")
    await hass.async_block_till_done()
    assert state_of(hass, CONNECTED) == STATE_ON, "the older Last Will lost"
    assert state_of(hass, ASSISTANT) == "listening", "an old session did not take over"
    assert fired == [], "nothing fired twice"
    assert integration.runtime_data.fleet_link.as_dict()["replaying"] is True

    # After the window, live news is live news again.
    tick(hass, freezer, REPLAY_WINDOW + 1)
    last_will(hass, "VR_1", 5, retain=False)
    room.send("state", {"state": "wake_detected", "timestamp": ms(50)}, "S3")
    await hass.async_block_till_done()
    assert state_of(hass, CONNECTED) == STATE_OFF
    assert state_of(hass, ASSISTANT) == "wake_detected"


async def test_outside_a_replay_the_same_messages_are_news(
    hass: HomeAssistant, integration: MockConfigEntry
) -> None:
    """What the window prevents: without it the stale Last Will wins."""
    link(hass, "1")
    status(hass, "VR_1", "idle", 10)
    await hass.async_block_till_done()
    last_will(hass, "VR_1", 5, retain=False)
    await hass.async_block_till_done()
    assert state_of(hass, CONNECTED) == STATE_OFF


@pytest.mark.parametrize("payload", [b"2", b"", b"up", b"\xff", b"10"])
async def test_a_state_other_than_0_or_1_is_dropped_and_counted(
    hass: HomeAssistant, integration: MockConfigEntry, payload: bytes
) -> None:
    link(hass, "1")
    await hass.async_block_till_done()
    hub = integration.runtime_data
    rejected = sum(hub.intake.rejected.values())
    link(hass, payload)
    await hass.async_block_till_done()
    assert sum(hub.intake.rejected.values()) == rejected + 1
    assert state_of(hass, LINK) == STATE_ON


async def test_several_bridges_need_the_option_to_tell_which(
    hass: HomeAssistant,
    integration: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    link(hass, "1", "to-the-fleet")
    link(hass, "0", "to-the-garden")
    await hass.async_block_till_done()
    assert state_of(hass, LINK) == STATE_UNAVAILABLE, "which one? nobody said"
    warned = [r for r in caplog.records if "several bridges" in r.getMessage()]
    assert len(warned) == 1
    assert warned[0].levelno == logging.WARNING
    assert "to-the-fleet, to-the-garden" in warned[0].getMessage()

    hass.config_entries.async_update_entry(
        integration, options={**integration.options, "fleet_link": "to-the-garden"}
    )
    assert await hass.config_entries.async_reload(integration.entry_id)
    await hass.async_block_till_done()
    # The retained states come again on the new subscription.
    link(hass, "1", "to-the-fleet")
    link(hass, "0", "to-the-garden")
    await hass.async_block_till_done()
    assert state_of(hass, LINK) == STATE_OFF


async def test_the_sensor_goes_with_the_option(
    hass: HomeAssistant,
    integration: MockConfigEntry,
    entity_registry: er.EntityRegistry,
) -> None:
    assert entity_registry.async_get(LINK) is not None
    hass.config_entries.async_update_entry(
        integration, options={**integration.options, "broker_health": False}
    )
    assert await hass.config_entries.async_reload(integration.entry_id)
    await hass.async_block_till_done()
    assert entity_registry.async_get(LINK) is None
    assert (
        "$SYS/broker/connection/+/state" not in integration.runtime_data.subscriptions
    )


async def test_a_silent_backend_is_not_blamed_while_the_link_is_down(
    hass: HomeAssistant,
    integration: MockConfigEntry,
    issue_registry: ir.IssueRegistry,
    freezer: FrozenDateTimeFactory,
) -> None:
    link(hass, "1")
    heartbeat(hass, "VR_1")
    Room(hass).send("state", {"state": "idle"})
    await hass.async_block_till_done()
    link(hass, "0")
    tick(hass, freezer, 45 * 60)
    await hass.async_block_till_done()
    issues = {
        issue.translation_key
        for (domain, _), issue in issue_registry.issues.items()
        if domain == DOMAIN
    }
    assert issues == {"fleet_link_down"}


async def test_actions_refuse_while_the_link_is_down(
    hass: HomeAssistant, integration: MockConfigEntry, mqtt_mock: MqttMockHAClient
) -> None:
    """Home Assistant's broker would take the command, and no device would get it."""
    link(hass, "1")
    link(hass, "0")
    await hass.async_block_till_done()
    mqtt_mock.async_publish.reset_mock()
    with pytest.raises(HomeAssistantError) as err:
        await hass.services.async_call(
            DOMAIN,
            "send_command",
            {"device": "VR_1", "command": "play"},
            blocking=True,
        )
    assert err.value.translation_key == "fleet_link_down"
    assert err.value.translation_placeholders["bridge"] == BRIDGE
    with pytest.raises(HomeAssistantError) as err:
        await hass.services.async_call(
            DOMAIN,
            "ws_start",
            {
                "device": "cc:ba:97:11:0e:84",
                "url": "wss://voice.example/ws",
                "retries": 0,
            },
            blocking=True,
        )
    assert err.value.translation_key == "ws_start_fleet_link_down"
    mqtt_mock.async_publish.assert_not_called()

    link(hass, "1")
    await hass.async_block_till_done()
    await hass.services.async_call(
        DOMAIN, "send_command", {"device": "VR_1", "command": "play"}, blocking=True
    )
    assert mqtt_mock.async_publish.call_args[0][0] == "devices/VR_1/commands/play"
