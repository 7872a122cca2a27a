"""Set-up, subscriptions, unload, the bridge sensor and garbage input."""

from __future__ import annotations

from collections.abc import Callable, Generator
import logging
from typing import Any
from unittest.mock import patch

from homeassistant.components import mqtt
from homeassistant.components.mqtt import MQTT_CONNECTION_STATE
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import STATE_OFF, STATE_ON
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.helpers.dispatcher import async_dispatcher_send
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_mqtt_message,
)
from pytest_homeassistant_custom_component.typing import MqttMockHAClient

from custom_components.voice_mqtt.const import DOMAIN

BRIDGE_SENSOR = "binary_sensor.voice_assistant_mqtt_mqtt_connection"
V1_FILTER = "v1/voice_assistant/room/+/session/+/#"
V0_FILTER = "voice_assistant/room/+/session/+/#"
DEVICE_FILTER = "devices/+/+"
# Other versions' state messages only, for the version-mismatch repair.
ANY_VERSION_STATES = "+/voice_assistant/room/+/session/+/state"
V0_STATES = "voice_assistant/room/+/session/+/state"


class SubscriptionSpy:
    """Records what voice_mqtt subscribes through MQTT's public API, and undoes."""

    def __init__(self) -> None:
        self.active: dict[str, tuple[int, str | None]] = {}
        self.removed: list[str] = []
        self._real = mqtt.async_subscribe

    async def __call__(
        self,
        hass: HomeAssistant,
        topic: str,
        callback: Any,
        qos: int,
        encoding: str | None,
    ) -> Callable[[], None]:
        unsubscribe = await self._real(hass, topic, callback, qos, encoding)
        self.active[topic] = (qos, encoding)

        def remove() -> None:
            unsubscribe()
            del self.active[topic]
            self.removed.append(topic)

        return remove


@pytest.fixture
def subscriptions() -> Generator[SubscriptionSpy]:
    spy = SubscriptionSpy()
    with patch("custom_components.voice_mqtt.hub.mqtt.async_subscribe", spy):
        yield spy


@pytest.mark.parametrize(
    ("entry_data", "entry_options", "expected"),
    [
        ({}, {}, [V1_FILTER, DEVICE_FILTER, ANY_VERSION_STATES, V0_STATES]),
        ({"version": ""}, {}, [V0_FILTER, DEVICE_FILTER, ANY_VERSION_STATES]),
        (
            {},
            {"legacy_topics": True},
            [V1_FILTER, V0_FILTER, DEVICE_FILTER, ANY_VERSION_STATES],
        ),
        # Migration mode means nothing when the entry is already on v0.
        (
            {"version": ""},
            {"legacy_topics": True},
            [V0_FILTER, DEVICE_FILTER, ANY_VERSION_STATES],
        ),
        (
            {"version": "v2", "base": "home/voice", "device_prefix": "fleet"},
            {"legacy_topics": True},
            [
                "v2/home/voice/room/+/session/+/#",
                "home/voice/room/+/session/+/#",
                "fleet/+/+",
                "+/home/voice/room/+/session/+/state",
            ],
        ),
    ],
    indirect=["entry_data", "entry_options"],
)
async def test_subscriptions_per_layout_and_none_after_unload(
    hass: HomeAssistant,
    mqtt_mock: MqttMockHAClient,
    subscriptions: SubscriptionSpy,
    config_entry: MockConfigEntry,
    expected: list[str],
) -> None:
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    assert config_entry.state is ConfigEntryState.LOADED
    assert config_entry.runtime_data.subscriptions == expected
    # QoS 1 as the protocol asks; raw bytes so bad UTF-8 is ours to count.
    assert subscriptions.active == dict.fromkeys(expected, (1, None))
    stats = config_entry.runtime_data.intake

    assert await hass.config_entries.async_unload(config_entry.entry_id)
    await hass.async_block_till_done()
    assert config_entry.state is ConfigEntryState.NOT_LOADED
    assert subscriptions.active == {}
    assert sorted(subscriptions.removed) == sorted(expected)
    # Messages after the unload reach nothing: no counter moves.
    async_fire_mqtt_message(hass, "devices/VR_1/heartbeat", "{}")
    async_fire_mqtt_message(
        hass, expected[0].replace("+", "x").rstrip("#") + "state", "{}"
    )
    await hass.async_block_till_done()
    assert sum(stats.received.values()) == 0
    assert hass.states.get(BRIDGE_SENSOR).state == "unavailable"


@pytest.fixture
def entry_data(request: pytest.FixtureRequest) -> dict[str, str]:
    from .conftest import DEFAULT_DATA

    return {**DEFAULT_DATA, **getattr(request, "param", {})}


@pytest.fixture
def entry_options(request: pytest.FixtureRequest) -> dict[str, Any]:
    return dict(getattr(request, "param", {}))


async def test_not_ready_until_mqtt_is(
    hass: HomeAssistant, mqtt_mock: MqttMockHAClient, config_entry: MockConfigEntry
) -> None:
    config_entry.add_to_hass(hass)
    with patch(
        "custom_components.voice_mqtt.mqtt.async_wait_for_mqtt_client",
        return_value=False,
    ):
        await hass.config_entries.async_setup(config_entry.entry_id)
    assert config_entry.state is ConfigEntryState.SETUP_RETRY
    assert config_entry.reason == (
        "The MQTT integration is not ready yet; Voice Assistant MQTT will retry"
    )


async def test_not_ready_when_subscribing_fails(
    hass: HomeAssistant, mqtt_mock: MqttMockHAClient, config_entry: MockConfigEntry
) -> None:
    config_entry.add_to_hass(hass)
    with patch(
        "custom_components.voice_mqtt.hub.mqtt.async_subscribe",
        side_effect=HomeAssistantError("MQTT is not enabled"),
    ):
        await hass.config_entries.async_setup(config_entry.entry_id)
    assert config_entry.state is ConfigEntryState.SETUP_RETRY


async def test_bridge_device_and_connection_sensor(
    hass: HomeAssistant,
    integration: MockConfigEntry,
    mqtt_mock: MqttMockHAClient,
    device_registry: dr.DeviceRegistry,
    entity_registry: er.EntityRegistry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    bridge = device_registry.async_get_device_by_identifier(
        (DOMAIN, integration.entry_id), integration.entry_id
    )
    assert bridge is not None
    assert bridge.name == "Voice Assistant MQTT"
    assert bridge.entry_type is dr.DeviceEntryType.SERVICE
    entry = entity_registry.async_get(BRIDGE_SENSOR)
    assert entry is not None
    assert entry.unique_id == f"{integration.entry_id}_bridge_mqtt_connection"
    assert entry.entity_category == "diagnostic"
    assert entry.original_device_class == "connectivity"
    assert entry.translation_key == "mqtt_connection"
    assert entry.device_id == bridge.id
    assert hass.states.get(BRIDGE_SENSOR).state == STATE_ON

    caplog.set_level(logging.INFO, logger="custom_components.voice_mqtt")
    for _ in range(3):  # repeated notifications log and write once
        mqtt_mock.connected = False
        async_dispatcher_send(hass, MQTT_CONNECTION_STATE, False)
    await hass.async_block_till_done()
    state = hass.states.get(BRIDGE_SENSOR)
    assert state.state == STATE_OFF, "readable while the broker is away"
    assert caplog.text.count("MQTT broker connection lost") == 1

    mqtt_mock.connected = True
    async_dispatcher_send(hass, MQTT_CONNECTION_STATE, True)
    async_dispatcher_send(hass, MQTT_CONNECTION_STATE, True)
    await hass.async_block_till_done()
    assert hass.states.get(BRIDGE_SENSOR).state == STATE_ON
    assert caplog.text.count("MQTT broker connection restored") == 1


async def test_starts_disconnected_when_the_broker_is_away(
    hass: HomeAssistant, mqtt_mock: MqttMockHAClient, config_entry: MockConfigEntry
) -> None:
    mqtt_mock.connected = False
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    assert hass.states.get(BRIDGE_SENSOR).state == STATE_OFF
    mqtt_mock.connected = True


GARBAGE: list[tuple[str, bytes, str]] = [
    ("v1/voice_assistant/room/salon/session/S1/state", b"{not json", "invalid_json"),
    ("v1/voice_assistant/room/salon/session/S1/state", b"\xff\xfe\xfd", "not_utf8"),
    ("v1/voice_assistant/room/salon/session/S1/state", b"[1]", "not_an_object"),
    (
        "v1/voice_assistant/room/salon/session/S1/state",
        b'{"state": 5}',
        "invalid_field",
    ),
    ("v1/voice_assistant/room/salon/session/S1/weather", b"{}", "unknown_type"),
    # "#" also matches the parent level: a session topic without a type.
    ("v1/voice_assistant/room/salon/session/S1", b"{}", "invalid_topic"),
    ("v1/voice_assistant/room/sa\x01lon/session/S1/state", b"{}", "invalid_id"),
    ("v1/voice_assistant/room/salon/session/S1/state", b"x" * 70000, "oversize"),
    ("devices/VR_1/status", b'{"status": []}', "invalid_field"),
    ("devices/VR_1/battery", b"{}", "unknown_type"),
    ("devices/discovery/announce", b'{"deviceId": "a/b"}', "invalid_id"),
]


async def test_garbage_is_counted_logged_once_and_raises_nothing(
    hass: HomeAssistant,
    integration: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    states_before = {state.entity_id for state in hass.states.async_all()}
    for _ in range(2):
        for topic, payload, _reason in GARBAGE:
            async_fire_mqtt_message(hass, topic, payload)
    await hass.async_block_till_done()

    stats = integration.runtime_data.intake
    expected: dict[str, int] = {}
    for _topic, _payload, reason in GARBAGE:
        expected[reason] = expected.get(reason, 0) + 2
    assert dict(stats.rejected) == expected
    assert stats.received == {"voice_current": 16, "device": 6}
    # Nothing was created from garbage.
    assert {state.entity_id for state in hass.states.async_all()} == states_before
    warnings = [
        record
        for record in caplog.records
        if record.levelno == logging.WARNING and record.name.startswith("custom_")
    ]
    assert len(warnings) == len(expected), "once per reason"
    assert all("Dropped message on" in record.getMessage() for record in warnings)


async def test_empty_payloads_clear_and_are_not_errors(
    hass: HomeAssistant, integration: MockConfigEntry
) -> None:
    async_fire_mqtt_message(hass, "devices/VR_1/lwt", b"", retain=True)
    async_fire_mqtt_message(
        hass, "v1/voice_assistant/room/salon/session/S1/state", b"", retain=True
    )
    await hass.async_block_till_done()
    stats = integration.runtime_data.intake
    assert stats.cleared == 2
    assert not stats.rejected
