"""The media player platform: a player per device that plays, sessions as groups.

The platform's snapshot after the entity contract's scenario, as the other
platforms have theirs; then what a status shows, what each action publishes,
the groups sessions make, and the errors that publish nothing.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.media_player import (
    ATTR_GROUP_MEMBERS,
    ATTR_MEDIA_DURATION,
    ATTR_MEDIA_POSITION,
    ATTR_MEDIA_POSITION_UPDATED_AT,
    ATTR_MEDIA_SEEK_POSITION,
    DOMAIN as MEDIA_PLAYER_DOMAIN,
    SERVICE_JOIN,
    SERVICE_UNJOIN,
)
from homeassistant.components.media_player.const import MediaPlayerEntityFeature
from homeassistant.const import (
    ATTR_ENTITY_ID,
    ATTR_SUPPORTED_FEATURES,
    EVENT_STATE_CHANGED,
    EVENT_STATE_REPORTED,
    SERVICE_MEDIA_PAUSE,
    SERVICE_MEDIA_PLAY,
    SERVICE_MEDIA_SEEK,
    SERVICE_MEDIA_STOP,
    STATE_UNAVAILABLE,
    STATE_UNKNOWN,
    Platform,
)
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.helpers.entity_platform import async_get_platforms
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)
from pytest_homeassistant_custom_component.typing import (
    MqttMockHAClient,
    MqttMockPahoClient,
    WebSocketGenerator,
)
from syrupy.assertion import SnapshotAssertion

from custom_components.voice_mqtt.const import DOMAIN
from custom_components.voice_mqtt.media_player import VoiceMqttMediaPlayer
from tests.common import (
    assert_translated,
    disconnect,
    published,
    reconnect,
    remove_device_in_ui,
    send,
)
from tests.conftest import DEFAULT_DATA
from tests.scenario import snapshot_the_platform

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
STAMP = NOW.isoformat()  # how commands are stamped, frozen at NOW
FEATURES = (
    MediaPlayerEntityFeature.PLAY
    | MediaPlayerEntityFeature.PAUSE
    | MediaPlayerEntityFeature.STOP
    | MediaPlayerEntityFeature.SEEK
    | MediaPlayerEntityFeature.GROUPING
)


@pytest.fixture
def platforms() -> list[Platform]:
    """The media player platform alone."""
    return [Platform.MEDIA_PLAYER]


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_media_players(
    hass: HomeAssistant,
    integration: MockConfigEntry,
    snapshot: SnapshotAssertion,
    freezer: FrozenDateTimeFactory,
) -> None:
    await snapshot_the_platform(hass, integration.entry_id, snapshot, freezer)


# Helpers -----------------------------------------------------------------------


def status(hass: HomeAssistant, device_id: str, state: str, **fields: Any) -> None:
    """Deliver a device's status live (a broker flags only replays retained)."""
    send(
        hass,
        f"devices/{device_id}/status",
        {"deviceId": device_id, "status": state, **fields},
    )


def player(device_id: str) -> str:
    return f"media_player.{device_id.lower()}"


class Writes:
    """Counts the state writes of each entity: changes and unchanged reports."""

    def __init__(self, hass: HomeAssistant) -> None:
        self.by_entity: Counter[str] = Counter()

        @callback
        def count(event: Event[Any]) -> None:
            self.by_entity[event.data["entity_id"]] += 1

        hass.bus.async_listen(EVENT_STATE_CHANGED, count)
        hass.bus.async_listen(
            EVENT_STATE_REPORTED, count, event_filter=callback(lambda _: True)
        )


async def act(hass: HomeAssistant, service: str, entity_id: str, **data: Any) -> None:
    await hass.services.async_call(
        MEDIA_PLAYER_DOMAIN,
        service,
        {ATTR_ENTITY_ID: entity_id, **data},
        blocking=True,
    )


@pytest.fixture
async def headsets(
    hass: HomeAssistant,
    integration: MockConfigEntry,
    mqtt_mock: MqttMockHAClient,
    freezer: FrozenDateTimeFactory,
) -> MockConfigEntry:
    """Three headsets: VR_1 plays alone, VR_2 and VR_3 idle in session S_1."""
    freezer.move_to(NOW)
    status(hass, "VR_1", "playing", type="vr", positionMs=61_500)
    status(hass, "VR_2", "idle", type="vr", sessionId="S_1")
    status(hass, "VR_3", "idle", type="vr", sessionId="S_1")
    await hass.async_block_till_done()
    mqtt_mock.async_publish.reset_mock()
    return integration


# What a status shows -------------------------------------------------------------


@pytest.mark.parametrize(
    ("said", "shown"),
    [
        ("playing", "playing"),
        ("paused", "paused"),
        ("idle", "idle"),
        ("buffering", "buffering"),
        ("standby", "on"),  # a status the media player has no word for
    ],
)
async def test_a_status_shows_as_the_players_state(
    hass: HomeAssistant,
    integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    said: str,
    shown: str,
) -> None:
    freezer.move_to(NOW)
    status(hass, "VR_1", said, type="vr", positionMs=1_250, durationMs=5_400_000)
    await hass.async_block_till_done()
    state = hass.states.get("media_player.vr_1")
    assert state is not None
    assert state.state == shown
    assert state.attributes[ATTR_MEDIA_POSITION] == 1.25
    assert state.attributes[ATTR_MEDIA_DURATION] == 5400
    assert state.attributes[ATTR_MEDIA_POSITION_UPDATED_AT] == NOW
    assert state.attributes[ATTR_SUPPORTED_FEATURES] == FEATURES
    assert state.attributes[ATTR_GROUP_MEMBERS] is None, "in no session, no group"


async def test_the_position_is_valid_when_its_status_was_heard(
    hass: HomeAssistant,
    integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    freezer.move_to(NOW)
    status(hass, "VR_1", "playing", type="vr", positionMs=10_000)
    await hass.async_block_till_done()
    freezer.tick(timedelta(seconds=30))
    # The same status again: what was shown still holds.
    status(hass, "VR_1", "playing", type="vr", positionMs=10_000)
    await hass.async_block_till_done()
    state = hass.states.get("media_player.vr_1")
    assert state is not None
    assert state.attributes[ATTR_MEDIA_POSITION_UPDATED_AT] == NOW
    status(hass, "VR_1", "paused", type="vr", positionMs=40_000)
    await hass.async_block_till_done()
    state = hass.states.get("media_player.vr_1")
    assert state is not None
    assert (state.state, state.attributes[ATTR_MEDIA_POSITION]) == ("paused", 40.0)
    assert state.attributes[ATTR_MEDIA_POSITION_UPDATED_AT] == NOW + timedelta(
        seconds=30
    )
    # Without a duration Home Assistant shows no progress bar: none is made up.
    assert ATTR_MEDIA_DURATION not in state.attributes


async def test_a_device_gets_a_player_once_it_plays_and_keeps_it(
    hass: HomeAssistant, integration: MockConfigEntry
) -> None:
    status(hass, "VB_1", "idle", type="voice_box")
    status(hass, "BR_1", "idle", type="browser")
    send(hass, "devices/discovery/announce", {"deviceId": "VR_1", "type": "vr"})
    await hass.async_block_till_done()
    assert hass.states.get("media_player.vb_1") is None, "a box that only idles"
    assert hass.states.get("media_player.br_1") is None
    # A headset has one by its type, before any status.
    state = hass.states.get("media_player.vr_1")
    assert state is not None
    assert state.state == STATE_UNKNOWN
    status(hass, "BR_1", "idle", positionMs=0)  # a position: it plays
    status(hass, "VB_1", "paused")
    await hass.async_block_till_done()
    assert hass.states.get("media_player.br_1") is not None
    assert hass.states.get("media_player.vb_1") is not None
    status(hass, "VB_1", "idle")
    await hass.async_block_till_done()
    assert hass.states.get("media_player.vb_1") is not None, "kept once it played"

    # After a restart nothing has spoken yet: the players are restored.
    er.async_get(hass).async_update_entity(
        "media_player.br_1", disabled_by=er.RegistryEntryDisabler.USER
    )
    assert await hass.config_entries.async_reload(integration.entry_id)
    await hass.async_block_till_done()
    for entity_id in ("media_player.vb_1", "media_player.vr_1"):
        state = hass.states.get(entity_id)
        assert state is not None, entity_id
        assert state.state == STATE_UNKNOWN
    assert hass.states.get("media_player.br_1") is None, "disabled: not made"
    entries = er.async_entries_for_config_entry(
        er.async_get(hass), integration.entry_id
    )
    assert len([entry for entry in entries if entry.unique_id.endswith("_player")]) == 3


async def test_a_flood_of_devices_that_begin_to_play_is_paced(
    hass: HomeAssistant,
    integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    # Players arrive as devices do (dispatch/arrivals.py): 50 at once at most.
    for index in range(60):
        status(hass, f"BR_{index:02}", "playing")
    await hass.async_block_till_done()
    assert len(hass.states.async_entity_ids(MEDIA_PLAYER_DOMAIN)) == 50
    assert integration.runtime_data.player_arrivals.waiting == 10
    freezer.tick(1)
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert len(hass.states.async_entity_ids(MEDIA_PLAYER_DOMAIN)) == 60


async def test_a_status_that_changes_nothing_shown_writes_nothing(
    hass: HomeAssistant, headsets: MockConfigEntry
) -> None:
    writes = Writes(hass)
    status(hass, "VR_1", "playing", type="vr", positionMs=61_500)  # replayed
    send(hass, "devices/VR_1/heartbeat", {"status": "playing", "type": "vr"})
    send(
        hass,
        "devices/VR_1/heartbeat",
        {"status": "playing", "type": "vr", "timestamp": "2025-06-01T12:00:15Z"},
    )
    await hass.async_block_till_done()
    assert writes.by_entity == {}
    status(hass, "VR_1", "playing", type="vr", positionMs=62_000)
    await hass.async_block_till_done()
    assert writes.by_entity == {"media_player.vr_1": 1}


async def test_offline_device_or_broker_makes_the_player_unavailable(
    hass: HomeAssistant,
    headsets: MockConfigEntry,
    mqtt_mock: MqttMockHAClient,
    mqtt_client_mock: MqttMockPahoClient,
) -> None:
    send(hass, "devices/VR_2/lwt", {"status": "offline"})
    await hass.async_block_till_done()
    assert hass.states.get("media_player.vr_2").state == STATE_UNAVAILABLE
    assert hass.states.get("media_player.vr_1").state == "playing"
    disconnect(mqtt_mock, mqtt_client_mock)
    await hass.async_block_till_done()
    assert hass.states.get("media_player.vr_1").state == STATE_UNAVAILABLE
    reconnect(mqtt_mock, mqtt_client_mock)
    await hass.async_block_till_done()
    assert hass.states.get("media_player.vr_1").state == "playing"


# Commands ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("service", "data", "topic", "payload"),
    [
        (SERVICE_MEDIA_PLAY, {}, "devices/VR_1/commands/play", {}),
        (SERVICE_MEDIA_PAUSE, {}, "devices/VR_1/commands/pause", {}),
        (SERVICE_MEDIA_STOP, {}, "devices/VR_1/commands/stop", {}),
        # While playing, a seek plays on from there.
        (
            SERVICE_MEDIA_SEEK,
            {ATTR_MEDIA_SEEK_POSITION: 83.27164},
            "devices/VR_1/commands/play",
            {"positionMs": 83_272},
        ),
        (SERVICE_UNJOIN, {}, "devices/VR_1/commands/leave", {}),
    ],
)
@pytest.mark.parametrize("entry_options", [{"qos": 2}])
async def test_each_action_sends_its_command_to_the_device(
    hass: HomeAssistant,
    headsets: MockConfigEntry,
    mqtt_mock: MqttMockHAClient,
    service: str,
    data: dict[str, Any],
    topic: str,
    payload: dict[str, Any],
) -> None:
    await act(hass, service, "media_player.vr_1", **data)
    # At the entry's QoS, never retained, stamped in ISO 8601.
    assert published(mqtt_mock) == [(topic, {**payload, "timestamp": STAMP}, 2, False)]


async def test_a_seek_while_not_playing_pauses_there(
    hass: HomeAssistant, headsets: MockConfigEntry, mqtt_mock: MqttMockHAClient
) -> None:
    status(hass, "VR_1", "paused", type="vr", positionMs=61_500)
    await hass.async_block_till_done()
    await act(
        hass, SERVICE_MEDIA_SEEK, "media_player.vr_1", **{ATTR_MEDIA_SEEK_POSITION: 5}
    )
    assert published(mqtt_mock) == [
        (
            "devices/VR_1/commands/pause",
            {"positionMs": 5000, "timestamp": STAMP},
            1,
            False,
        )
    ]


@pytest.mark.parametrize(
    ("service", "data", "command", "payload"),
    [
        (SERVICE_MEDIA_PLAY, {}, "play", {}),
        (SERVICE_MEDIA_PAUSE, {}, "pause", {}),
        (SERVICE_MEDIA_STOP, {}, "stop", {}),
        # Idle is not playing: the whole session goes to 2 s, paused.
        (
            SERVICE_MEDIA_SEEK,
            {ATTR_MEDIA_SEEK_POSITION: 2},
            "pause",
            {"positionMs": 2000},
        ),
    ],
)
async def test_a_device_in_a_session_is_driven_through_its_session(
    hass: HomeAssistant,
    headsets: MockConfigEntry,
    mqtt_mock: MqttMockHAClient,
    service: str,
    data: dict[str, Any],
    command: str,
    payload: dict[str, Any],
) -> None:
    await act(hass, service, "media_player.vr_2", **data)
    assert published(mqtt_mock) == [
        (f"sessions/S_1/commands/{command}", {**payload, "timestamp": STAMP}, 1, False)
    ]


@pytest.mark.parametrize("seconds", [float("inf"), 2.0**70, 2**70, 9.3e15])
async def test_a_seek_no_position_can_hold_publishes_nothing(
    hass: HomeAssistant,
    headsets: MockConfigEntry,
    mqtt_mock: MqttMockHAClient,
    seconds: float,
) -> None:
    # Home Assistant's own schema lets these through (zero or more).
    with pytest.raises(ServiceValidationError) as err:
        await act(
            hass,
            SERVICE_MEDIA_SEEK,
            "media_player.vr_1",
            **{ATTR_MEDIA_SEEK_POSITION: seconds},
        )
    assert_translated(err.value, "invalid_seek_position")
    assert published(mqtt_mock) == []


def _entity(hass: HomeAssistant, entity_id: str) -> VoiceMqttMediaPlayer:
    for platform in async_get_platforms(hass, DOMAIN):
        if isinstance(entity := platform.entities.get(entity_id), VoiceMqttMediaPlayer):
            return entity
    raise AssertionError(entity_id)


@pytest.mark.parametrize("seconds", [float("nan"), -1.0, -0.001])
async def test_a_seek_refused_before_the_player_publishes_nothing_either(
    hass: HomeAssistant,
    headsets: MockConfigEntry,
    mqtt_mock: MqttMockHAClient,
    seconds: float,
) -> None:
    # Home Assistant's schema refuses these before the player is called; a
    # caller that reaches the player directly is refused by it too.
    with pytest.raises(ServiceValidationError) as err:
        await _entity(hass, "media_player.vr_1").async_media_seek(seconds)
    assert_translated(err.value, "invalid_seek_position")
    assert published(mqtt_mock) == []


# Sessions as groups ----------------------------------------------------------------


def members(hass: HomeAssistant, entity_id: str) -> list[str] | None:
    state = hass.states.get(entity_id)
    assert state is not None, entity_id
    value: list[str] | None = state.attributes[ATTR_GROUP_MEMBERS]
    return value


async def test_a_session_is_a_group_every_member_lists_alike(
    hass: HomeAssistant, headsets: MockConfigEntry
) -> None:
    both = ["media_player.vr_2", "media_player.vr_3"]
    assert members(hass, "media_player.vr_2") == both
    assert members(hass, "media_player.vr_3") == both, "the same order: one leader"
    assert members(hass, "media_player.vr_1") is None

    writes = Writes(hass)
    status(hass, "VR_1", "playing", type="vr", positionMs=61_500, sessionId="S_1")
    await hass.async_block_till_done()
    all_three = ["media_player.vr_1", *both]
    for entity_id in all_three:
        assert members(hass, entity_id) == all_three
    assert writes.by_entity == dict.fromkeys(all_three, 1)

    # VR_3 moves to another session: both groups change, only theirs.
    writes = Writes(hass)
    status(hass, "VR_3", "idle", type="vr", sessionId="S_2")
    await hass.async_block_till_done()
    assert members(hass, "media_player.vr_1") == ["media_player.vr_1", both[0]]
    assert members(hass, "media_player.vr_2") == ["media_player.vr_1", both[0]]
    assert members(hass, "media_player.vr_3") == ["media_player.vr_3"]
    assert writes.by_entity == dict.fromkeys(all_three, 1)

    # A status that keeps the session (a new position) leaves the others be.
    writes = Writes(hass)
    status(hass, "VR_1", "playing", type="vr", positionMs=70_000, sessionId="S_1")
    await hass.async_block_till_done()
    assert writes.by_entity == {"media_player.vr_1": 1}


async def test_a_session_that_fills_at_once_writes_each_member_once(
    hass: HomeAssistant, integration: MockConfigEntry
) -> None:
    devices = [f"VR_{index}" for index in range(8)]
    for device in devices:
        status(hass, device, "idle", type="vr")
    await hass.async_block_till_done()
    writes = Writes(hass)
    # As a broker replays them, or an admin panel joins every headset: one go.
    for device in devices:
        status(hass, device, "playing", type="vr", positionMs=0, sessionId="S_1")
    await hass.async_block_till_done()
    group = sorted(player(device) for device in devices)
    for device in devices:
        assert members(hass, player(device)) == group
    # Its own status, and at most one write of its group (not one per join).
    assert max(writes.by_entity.values()) <= 2
    assert sum(writes.by_entity.values()) <= 2 * len(devices) - 1


async def test_a_removed_device_leaves_its_group(
    hass: HomeAssistant,
    headsets: MockConfigEntry,
    hass_ws_client: WebSocketGenerator,
) -> None:
    device = dr.async_get(hass).async_get_device_by_identifier(
        (DOMAIN, f"{headsets.entry_id}_device_VR_3"), headsets.entry_id
    )
    assert device is not None
    assert await async_setup_component(hass, "config", {})
    client = await hass_ws_client(hass)
    answer = await remove_device_in_ui(client, device.id, headsets.entry_id)
    assert answer["success"]
    await hass.async_block_till_done()
    assert hass.states.get("media_player.vr_3") is None
    assert members(hass, "media_player.vr_2") == ["media_player.vr_2"]


async def test_join_puts_the_members_in_the_targets_session(
    hass: HomeAssistant, headsets: MockConfigEntry, mqtt_mock: MqttMockHAClient
) -> None:
    await act(
        hass,
        SERVICE_JOIN,
        "media_player.vr_2",
        **{ATTR_GROUP_MEMBERS: ["media_player.vr_1", "media_player.vr_3"]},
    )
    # VR_3 is in S_1 already; VR_2 is the target.
    assert published(mqtt_mock) == [
        (
            "devices/VR_1/commands/join",
            {"sessionId": "S_1", "timestamp": STAMP},
            1,
            False,
        )
    ]


async def test_join_makes_a_session_for_a_target_in_none(
    hass: HomeAssistant, headsets: MockConfigEntry, mqtt_mock: MqttMockHAClient
) -> None:
    await act(
        hass,
        SERVICE_JOIN,
        "media_player.vr_1",
        **{ATTR_GROUP_MEMBERS: ["media_player.vr_2", "media_player.vr_1"]},
    )
    sent = published(mqtt_mock)
    assert [topic for topic, *_ in sent] == [
        "devices/VR_1/commands/join",  # the target first: it makes the session
        "devices/VR_2/commands/join",
    ]
    session = sent[0][1]["sessionId"]
    assert session.startswith("S_")
    assert "/" not in session
    assert len(session) == len("S_") + 26  # a ULID
    for _topic, payload, qos, retain in sent:
        assert (payload, qos, retain) == (
            {"sessionId": session, "timestamp": STAMP},
            1,
            False,
        )


async def test_join_of_members_in_the_session_already_sends_nothing(
    hass: HomeAssistant, headsets: MockConfigEntry, mqtt_mock: MqttMockHAClient
) -> None:
    await act(
        hass,
        SERVICE_JOIN,
        "media_player.vr_3",
        **{ATTR_GROUP_MEMBERS: ["media_player.vr_2"]},
    )
    assert published(mqtt_mock) == []


@pytest.fixture
async def other_entry(
    hass: HomeAssistant, headsets: MockConfigEntry
) -> MockConfigEntry:
    """A second entry, on another device prefix, with a headset of its own."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Lab fleet",
        data={**DEFAULT_DATA, "base": "lab", "device_prefix": "lab_devices"},
        unique_id="v1/lab",
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    send(
        hass,
        "lab_devices/LAB_1/status",
        {"status": "idle", "type": "vr"},
        retain=True,
    )
    await hass.async_block_till_done()
    assert hass.states.get("media_player.lab_1") is not None
    return entry


@pytest.mark.parametrize(
    ("member", "key"),
    [
        ("media_player.vr_9", "join_unavailable"),  # offline
        ("media_player.lab_1", "join_other_entry"),
        ("media_player.living_room_tv", "join_not_a_player"),  # another integration
        ("media_player.nowhere", "join_not_a_player"),
    ],
)
async def test_join_refuses_a_member_it_cannot_join_and_sends_nothing(
    hass: HomeAssistant,
    headsets: MockConfigEntry,
    other_entry: MockConfigEntry,
    mqtt_mock: MqttMockHAClient,
    member: str,
    key: str,
) -> None:
    status(hass, "VR_9", "idle", type="vr")
    send(hass, "devices/VR_9/lwt", {"status": "offline"})
    er.async_get(hass).async_get_or_create(
        MEDIA_PLAYER_DOMAIN, "cast", "tv-1", suggested_object_id="living_room_tv"
    )
    await hass.async_block_till_done()
    mqtt_mock.async_publish.reset_mock()
    with pytest.raises(ServiceValidationError) as err:
        await act(
            hass,
            SERVICE_JOIN,
            "media_player.vr_1",
            # A good member first: nothing is sent before every one is checked.
            **{ATTR_GROUP_MEMBERS: ["media_player.vr_2", member]},
        )
    assert_translated(err.value, key)
    assert member in str(err.value)
    assert published(mqtt_mock) == []


async def test_a_disabled_player_cannot_join(
    hass: HomeAssistant, headsets: MockConfigEntry, mqtt_mock: MqttMockHAClient
) -> None:
    er.async_get(hass).async_update_entity(
        "media_player.vr_3", disabled_by=er.RegistryEntryDisabler.USER
    )
    await hass.async_block_till_done()
    with pytest.raises(ServiceValidationError) as err:
        await act(
            hass,
            SERVICE_JOIN,
            "media_player.vr_1",
            **{ATTR_GROUP_MEMBERS: ["media_player.vr_3"]},
        )
    assert_translated(err.value, "join_unavailable")
    assert published(mqtt_mock) == []
