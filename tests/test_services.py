"""Service actions: exact publishes, retries, errors and validation."""

from __future__ import annotations

from collections.abc import Generator
from datetime import UTC, datetime
import json
import logging
from pathlib import Path
from typing import Any
from unittest.mock import Mock, patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.service import async_get_all_descriptions
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import (
    ClientSessionGenerator,
    MqttMockHAClient,
    MqttMockPahoClient,
)

from custom_components.voice_mqtt import services
from custom_components.voice_mqtt.compat import vol
from custom_components.voice_mqtt.const import DOMAIN

from .common import HA_VERSION, assert_translated, published, send, voice_topic
from .conftest import DEFAULT_DATA

MAC = "cc:ba:97:11:0e:84"
WS_TOPIC = f"xiaozhi/{MAC}/down"
URL = "wss://voice.example/ws"
NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
NOW_MS = 1748779200000


async def call(
    hass: HomeAssistant, name: str, data: dict[str, Any]
) -> dict[str, Any] | None:
    return await hass.services.async_call(
        DOMAIN, name, data, blocking=True, return_response=True
    )


@pytest.fixture
def fast_retries() -> Generator[None]:
    with (
        patch.object(services, "RETRY_DELAY", 0.001),
        patch.object(services, "PUBLISH_TIMEOUT", 0.05),
    ):
        yield


class BrokerTrouble:
    """Make the next publishes fail the way a broker or network can."""

    def __init__(self, mqtt_client_mock: MqttMockPahoClient) -> None:
        self._client = mqtt_client_mock
        self._normal = mqtt_client_mock.publish.side_effect
        self.plan: list[str] = []
        self.attempts = 0
        self._mid = 10_000
        mqtt_client_mock.publish.side_effect = self._publish

    def _publish(self, *args: Any, **kwargs: Any) -> Any:
        self.attempts += 1
        what = self.plan.pop(0) if self.plan else "ok"
        if what == "ok":
            return self._normal(*args, **kwargs)
        self._mid += 1
        # "error": paho refuses (MQTT_ERR_NO_CONN); "silent": no acknowledgement.
        return Mock(mid=self._mid, rc=4 if what == "error" else 0)


# ws_start --------------------------------------------------------------------


@pytest.mark.parametrize(
    "device",
    ["cc:ba:97:11:0e:84", "CC-BA-97-11-0E-84", "ccba97110e84", " ccba.9711.0e84 "],
)
async def test_ws_start_publishes_the_protocol_message(
    hass: HomeAssistant,
    integration: MockConfigEntry,
    mqtt_mock: MqttMockHAClient,
    device: str,
) -> None:
    response = await call(hass, "ws_start", {"device": device, "url": URL})
    assert published(mqtt_mock) == [
        (WS_TOPIC, {"type": "ws_start", "wss": URL, "version": 3}, 1, False)
    ]
    assert mqtt_mock.async_publish.call_args.args[1] == (
        '{"type":"ws_start","wss":"wss://voice.example/ws","version":3}'
    )
    assert response is not None
    assert response["topic"] == WS_TOPIC
    assert response["attempts"] == 1
    assert isinstance(response["elapsed_ms"], int)


async def test_ws_start_to_a_picked_device_uses_its_mac(
    hass: HomeAssistant,
    integration: MockConfigEntry,
    mqtt_mock: MqttMockHAClient,
    device_registry: dr.DeviceRegistry,
) -> None:
    send(hass, "devices/discovery/announce", {"deviceId": MAC, "name": "Kitchen box"})
    await hass.async_block_till_done()
    device = device_registry.async_get_device_by_identifier(
        (DOMAIN, f"{integration.entry_id}_device_{MAC}"), integration.entry_id
    )
    assert device is not None
    # No config entry given: the device tells which entry it belongs to.
    await call(hass, "ws_start", {"device": device.id, "url": URL, "version": 4})
    assert published(mqtt_mock)[-1] == (
        WS_TOPIC,
        {"type": "ws_start", "wss": URL, "version": 4},
        1,
        False,
    )


async def test_ws_start_to_a_device_without_mac(
    hass: HomeAssistant,
    integration: MockConfigEntry,
    mqtt_mock: MqttMockHAClient,
    device_registry: dr.DeviceRegistry,
) -> None:
    send(hass, "devices/VR_1/heartbeat", {})
    send(hass, voice_topic("salon", "S1", "state"), {"state": "idle"})
    await hass.async_block_till_done()
    for identifier, key in (
        ("device_VR_1", "device_without_mac"),
        ("room_salon", "not_a_device"),
    ):
        device = device_registry.async_get_device_by_identifier(
            (DOMAIN, f"{integration.entry_id}_{identifier}"), integration.entry_id
        )
        assert device is not None
        with pytest.raises(ServiceValidationError) as err:
            await call(hass, "ws_start", {"device": device.id, "url": URL})
        assert_translated(err.value, key)
    assert published(mqtt_mock) == []


@pytest.mark.parametrize(
    ("data", "key"),
    [
        ({"device": "cc:ba:97:11:0e", "url": URL}, "invalid_mac"),
        ({"device": "kitchen", "url": URL}, "invalid_mac"),
        ({"device": MAC, "url": "http://voice.example/ws"}, "invalid_url"),
        ({"device": MAC, "url": "wss://"}, "invalid_url"),
        ({"device": MAC, "url": "voice.example/ws"}, "invalid_url"),
        ({"device": MAC, "url": "wss://x/" + "a" * 70_000}, "payload_too_large"),
        # No url, and the entry has no voice server URL either.
        ({"device": MAC}, "ws_start_no_url"),
    ],
)
async def test_ws_start_refuses_bad_input(
    hass: HomeAssistant,
    integration: MockConfigEntry,
    mqtt_mock: MqttMockHAClient,
    data: dict[str, Any],
    key: str,
) -> None:
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "ws_start", data)
    assert_translated(err.value, key)
    assert str(err.value)  # translated, not empty
    assert published(mqtt_mock) == []


@pytest.mark.parametrize(
    "entry_options", [{"ws_url": "ws://10.0.0.2:8000/xiaozhi/v1/"}]
)
async def test_ws_start_takes_the_entrys_voice_server_unless_given_one(
    hass: HomeAssistant, integration: MockConfigEntry, mqtt_mock: MqttMockHAClient
) -> None:
    await call(hass, "ws_start", {"device": MAC})
    await call(hass, "ws_start", {"device": MAC, "url": URL})
    assert [
        payload["wss"] for _topic, payload, _qos, _retain in published(mqtt_mock)
    ] == [
        "ws://10.0.0.2:8000/xiaozhi/v1/",
        URL,
    ]


async def test_ws_start_retries_then_succeeds(
    hass: HomeAssistant,
    integration: MockConfigEntry,
    mqtt_client_mock: MqttMockPahoClient,
    fast_retries: None,
    caplog: pytest.LogCaptureFixture,
) -> None:
    trouble = BrokerTrouble(mqtt_client_mock)
    trouble.plan = ["error", "silent"]
    response = await call(
        hass, "ws_start", {"device": MAC, "url": URL, "timeout": 0.1, "retries": 3}
    )
    assert response is not None
    assert response["attempts"] == 3
    assert trouble.attempts == 3
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("attempt 1 of 4 failed" in message for message in warnings)
    assert any("attempt 2 of 4 failed: timeout" in message for message in warnings), (
        warnings
    )


async def test_ws_start_fails_loudly_when_every_attempt_times_out(
    hass: HomeAssistant,
    integration: MockConfigEntry,
    mqtt_client_mock: MqttMockPahoClient,
    fast_retries: None,
    caplog: pytest.LogCaptureFixture,
) -> None:
    trouble = BrokerTrouble(mqtt_client_mock)
    trouble.plan = ["silent"] * 3
    with pytest.raises(HomeAssistantError) as err:
        await call(
            hass, "ws_start", {"device": MAC, "url": URL, "timeout": 0.1, "retries": 2}
        )
    assert_translated(err.value, "ws_start_timeout")
    assert str(err.value) == (
        f"ws_start to {MAC} was not acknowledged by the broker within 0.1 s"
        " (3 attempts)"
    )
    assert trouble.attempts == 3
    assert f"ws_start to {MAC} failed after 3 attempts" in caplog.text


async def test_ws_start_reports_broker_errors(
    hass: HomeAssistant,
    integration: MockConfigEntry,
    mqtt_client_mock: MqttMockPahoClient,
    fast_retries: None,
) -> None:
    BrokerTrouble(mqtt_client_mock).plan = ["error"]
    with pytest.raises(HomeAssistantError) as err:
        await call(hass, "ws_start", {"device": MAC, "url": URL, "retries": 0})
    assert_translated(err.value, "ws_start_error")
    assert str(err.value).startswith(f"ws_start to {MAC} failed after 1 attempts:")


async def test_ws_start_when_mqtt_is_disconnected(
    hass: HomeAssistant,
    integration: MockConfigEntry,
    mqtt_mock: MqttMockHAClient,
    fast_retries: None,
) -> None:
    mqtt_mock.connected = False
    with pytest.raises(HomeAssistantError) as err:
        await call(hass, "ws_start", {"device": MAC, "url": URL, "retries": 1})
    mqtt_mock.connected = True
    assert_translated(err.value, "ws_start_not_connected")
    assert "2 attempts" in str(err.value)
    assert published(mqtt_mock) == []


async def test_ws_start_through_the_rest_api(
    hass: HomeAssistant,
    integration: MockConfigEntry,
    mqtt_mock: MqttMockHAClient,
    hass_client: ClientSessionGenerator,
) -> None:
    assert await async_setup_component(hass, "api", {})
    client = await hass_client()  # authenticated with an access token
    response = await client.post(
        "/api/services/voice_mqtt/ws_start?return_response",
        json={"device": "CC-BA-97-11-0E-84", "url": URL},
    )
    assert response.status == 200
    body = await response.json()
    assert body["service_response"]["topic"] == WS_TOPIC
    assert body["service_response"]["attempts"] == 1
    assert published(mqtt_mock) == [
        (WS_TOPIC, {"type": "ws_start", "wss": URL, "version": 3}, 1, False)
    ]
    response = await client.post(
        "/api/services/voice_mqtt/ws_start", json={"device": "nope", "url": URL}
    )
    if HA_VERSION >= "2026.10":
        assert response.status == 400
        assert "is not a MAC address" in (await response.json())["message"]
    else:  # Home Assistant's REST API answered a refused call with 500 before
        assert response.status == 500


# Config entries ------------------------------------------------------------------


async def test_entry_selection(
    hass: HomeAssistant,
    integration: MockConfigEntry,
    mqtt_mock: MqttMockHAClient,
) -> None:
    data = {"device": MAC, "url": URL}
    await call(hass, "ws_start", {**data, "config_entry_id": integration.entry_id})
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "ws_start", {**data, "config_entry_id": "nope"})
    assert_translated(err.value, "service_config_entry_not_found")
    other = MockConfigEntry(
        domain=DOMAIN,
        data={**DEFAULT_DATA, "version": "v2", "device_prefix": "other"},
        unique_id="v2/voice_assistant",
    )
    other.add_to_hass(hass)
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "ws_start", {**data, "config_entry_id": other.entry_id})
    assert_translated(err.value, "service_config_entry_not_loaded")
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "ws_start", data)
    assert_translated(err.value, "service_found_multiple_config_entry_for_domain")
    assert len(published(mqtt_mock)) == 1


async def test_a_device_of_another_entry_is_refused(
    hass: HomeAssistant,
    integration: MockConfigEntry,
    mqtt_mock: MqttMockHAClient,
    device_registry: dr.DeviceRegistry,
) -> None:
    other = MockConfigEntry(domain="other")
    other.add_to_hass(hass)
    foreign = device_registry.async_get_or_create(
        config_entry_id=other.entry_id, identifiers={("other", "x")}
    )
    with pytest.raises(ServiceValidationError) as err:
        await call(
            hass,
            "ws_start",
            {"device": foreign.id, "url": URL, "config_entry_id": integration.entry_id},
        )
    assert_translated(err.value, "device_not_in_entry")


# display_action -------------------------------------------------------------------


async def test_display_action_in_the_rooms_current_session(
    hass: HomeAssistant,
    integration: MockConfigEntry,
    mqtt_mock: MqttMockHAClient,
    freezer: FrozenDateTimeFactory,
) -> None:
    freezer.move_to(NOW)
    send(hass, voice_topic("salon", "S1", "state"), {"state": "listening"})
    await hass.async_block_till_done()
    response = await call(
        hass,
        "display_action",
        {"room": "salon", "type": "light_control", "data": {"on": True}},
    )
    topic = "v1/voice_assistant/room/salon/session/S1/display_action"
    assert response == {"topics": [topic], "session": "S1"}
    assert published(mqtt_mock) == [
        (
            topic,
            {"type": "light_control", "data": {"on": True}, "timestamp": NOW_MS},
            1,
            False,
        )
    ]
    await hass.async_block_till_done()
    # What Home Assistant sends shows on the room's event entity too.
    state = hass.states.get("event.salon_voice_assistant_display_action")
    assert state is not None
    assert state.attributes["type"] == "light_control"


@pytest.mark.parametrize("entry_options", [{"qos": 0, "legacy_topics": True}])
async def test_display_action_in_migration_mode(
    hass: HomeAssistant,
    integration: MockConfigEntry,
    mqtt_mock: MqttMockHAClient,
    device_registry: dr.DeviceRegistry,
) -> None:
    send(hass, voice_topic("salon", "S1", "state", version=""), {"state": "idle"})
    await hass.async_block_till_done()
    room = device_registry.async_get_device_by_identifier(
        (DOMAIN, f"{integration.entry_id}_room_salon"), integration.entry_id
    )
    assert room is not None
    await call(
        hass, "display_action", {"room": room.id, "session": "S2", "type": "weather"}
    )
    await hass.async_block_till_done()
    assert [(topic, qos, retain) for topic, _, qos, retain in published(mqtt_mock)] == [
        ("v1/voice_assistant/room/salon/session/S2/display_action", 0, False),
        ("voice_assistant/room/salon/session/S2/display_action", 0, False),
    ]
    # Heard back on both layouts, it fires once.
    assert integration.runtime_data.intake.duplicates == 1


@pytest.mark.parametrize(
    ("data", "key"),
    [
        ({"room": "salon", "type": "x"}, "no_current_session"),
        (
            {"room": "a/b", "session": "S", "type": "x"},
            "invalid_id_forbidden_character",
        ),
        ({"room": "+", "session": "S", "type": "x"}, "invalid_id_forbidden_character"),
        ({"room": "", "session": "S", "type": "x"}, "invalid_id_empty"),
        ({"room": "r" * 129, "session": "S", "type": "x"}, "invalid_id_too_long"),
        (
            {"room": "salon", "session": "#", "type": "x"},
            "invalid_id_forbidden_character",
        ),
        (
            {"room": "salon", "session": "S\0", "type": "x"},
            "invalid_id_forbidden_character",
        ),
        ({"room": "salon", "session": "S", "type": "  "}, "empty_type"),
        (
            {"room": "salon", "session": "S", "type": "x", "data": {"a": "b" * 70_000}},
            "payload_too_large",
        ),
        # What the UIs and voice_mqtt's own event entity could not store.
        ({"room": "salon", "session": "S", "type": "t" * 256}, "type_too_long"),
        (
            {"room": "salon", "session": "S", "type": "x", "data": {"a": "b" * 9000}},
            "data_not_storable",
        ),
        (
            {"room": "salon", "session": "S", "type": "x", "data": {"n": 2**64}},
            "data_not_storable",
        ),
    ],
)
async def test_display_action_refuses_bad_input(
    hass: HomeAssistant,
    integration: MockConfigEntry,
    mqtt_mock: MqttMockHAClient,
    data: dict[str, Any],
    key: str,
) -> None:
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "display_action", data)
    assert_translated(err.value, key)
    assert published(mqtt_mock) == []


async def test_display_action_needs_a_room(
    hass: HomeAssistant,
    integration: MockConfigEntry,
    device_registry: dr.DeviceRegistry,
) -> None:
    send(hass, "devices/VR_1/heartbeat", {})
    await hass.async_block_till_done()
    device = device_registry.async_get_device_by_identifier(
        (DOMAIN, f"{integration.entry_id}_device_VR_1"), integration.entry_id
    )
    assert device is not None
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "display_action", {"room": device.id, "type": "x"})
    assert_translated(err.value, "not_a_room")


# send_command -----------------------------------------------------------------------


async def test_send_command_to_a_device_and_to_a_session(
    hass: HomeAssistant,
    integration: MockConfigEntry,
    mqtt_mock: MqttMockHAClient,
    device_registry: dr.DeviceRegistry,
    freezer: FrozenDateTimeFactory,
) -> None:
    freezer.move_to(NOW)
    assert await call(
        hass,
        "send_command",
        {"device": "VR_1", "command": "play", "payload": {"positionMs": 0}},
    ) == {"topic": "devices/VR_1/commands/play"}
    await call(
        hass,
        "send_command",
        {"session": "S_123", "command": "pause", "payload": {"timestamp": "kept"}},
    )
    send(hass, "devices/VR_2/heartbeat", {})
    await hass.async_block_till_done()
    device = device_registry.async_get_device_by_identifier(
        (DOMAIN, f"{integration.entry_id}_device_VR_2"), integration.entry_id
    )
    assert device is not None
    await call(hass, "send_command", {"device": device.id, "command": "stop"})
    assert published(mqtt_mock) == [
        (
            "devices/VR_1/commands/play",
            {"positionMs": 0, "timestamp": NOW.isoformat()},
            1,
            False,
        ),
        ("sessions/S_123/commands/pause", {"timestamp": "kept"}, 1, False),
        ("devices/VR_2/commands/stop", {"timestamp": NOW.isoformat()}, 1, False),
    ]


NASTY = ["a/b", "+", "#", "../..", "a\0b", "tab\t", "", "x" * 129, "/", "a/+/#"]


@pytest.mark.parametrize("value", NASTY)
@pytest.mark.parametrize("field", ["device", "session", "command"])
async def test_no_field_can_publish_outside_the_namespace(
    hass: HomeAssistant,
    integration: MockConfigEntry,
    mqtt_mock: MqttMockHAClient,
    field: str,
    value: str,
) -> None:
    data = {"device": "VR_1", "command": "play"}
    if field == "session":
        del data["device"]
    data[field] = value
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "send_command", data)
    assert (err.value.translation_key or "").startswith("invalid_id_")
    assert published(mqtt_mock) == []


async def test_send_command_needs_one_target(
    hass: HomeAssistant, integration: MockConfigEntry, mqtt_mock: MqttMockHAClient
) -> None:
    for data in (
        {"command": "play"},
        {"device": "VR_1", "session": "S", "command": "play"},
    ):
        # Schema errors; the UI, the REST API and scripts report them as such.
        with pytest.raises(vol.Invalid):
            await call(hass, "send_command", data)
    assert published(mqtt_mock) == []


async def test_send_command_failures_are_reported(
    hass: HomeAssistant,
    integration: MockConfigEntry,
    mqtt_mock: MqttMockHAClient,
    mqtt_client_mock: MqttMockPahoClient,
    fast_retries: None,
) -> None:
    data = {"device": "VR_1", "command": "play"}
    mqtt_mock.connected = False
    with pytest.raises(HomeAssistantError) as err:
        await call(hass, "send_command", data)
    mqtt_mock.connected = True
    assert_translated(err.value, "mqtt_not_connected")
    trouble = BrokerTrouble(mqtt_client_mock)
    trouble.plan = ["error", "silent"]
    with pytest.raises(HomeAssistantError) as err:
        await call(hass, "send_command", data)
    assert_translated(err.value, "publish_failed")
    with pytest.raises(HomeAssistantError) as err:
        await call(hass, "send_command", data)
    assert_translated(err.value, "publish_not_acknowledged")
    assert "devices/VR_1/commands/play" in str(err.value)


async def test_services_are_described_and_translated(
    hass: HomeAssistant, integration: MockConfigEntry
) -> None:
    descriptions = (await async_get_all_descriptions(hass))[DOMAIN]
    translations = json.loads(
        (Path(services.__file__).parent / "translations" / "en.json").read_text()
    )["services"]
    assert (
        set(descriptions)
        == set(translations)
        == {
            "ws_start",
            "display_action",
            "send_command",
            "get_history",
        }
    )
    for name, description in descriptions.items():
        assert description["response"] == {"optional": True}
        assert set(description["fields"]) == set(translations[name]["fields"])
        assert translations[name]["name"]
        assert translations[name]["description"]
    device_selector = {"device": {"integration": DOMAIN, "multiple": False}}
    assert descriptions["ws_start"]["fields"]["device"]["selector"] == device_selector
    assert (
        descriptions["send_command"]["fields"]["device"]["selector"] == device_selector
    )
    assert descriptions["display_action"]["fields"]["room"]["selector"] == {
        "device": {"integration": DOMAIN, "model": "Voice room", "multiple": False}
    }
