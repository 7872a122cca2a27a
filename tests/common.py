"""Helpers shared by the tests: topics and publishing as the fleet would."""

from __future__ import annotations

import json
from typing import Any

from awesomeversion import AwesomeVersion
from homeassistant import const as ha_const
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import device_registry as dr, entity_registry as er
from pytest_homeassistant_custom_component.common import (
    MockMqttReasonCode,
    async_fire_mqtt_message,
)
from syrupy.assertion import SnapshotAssertion

# The Home Assistant the suite runs on: the newest, or the oldest voice_mqtt
# supports (scripts/test --ha oldest). Where the two differ in what the test
# harness or Home Assistant itself does, a test asks this, not voice_mqtt.
HA_VERSION = AwesomeVersion(ha_const.__version__)


async def remove_device_in_ui(
    client: Any, device_id: str, config_entry_id: str
) -> dict[str, Any]:
    """Delete a device as its page's Delete does; return the websocket answer.

    2026.9 brought config/device_registry/remove, which the harness's
    remove_device sends; 2026.8 knows only remove_config_entry, which names
    the config entry too.
    """
    if HA_VERSION >= "2026.9":
        answer: dict[str, Any] = await client.remove_device(device_id)
    else:
        answer = await client.remove_device(device_id, config_entry_id)
    return answer


def voice_topic(room: str, session: str, message_type: str, version: str = "v1") -> str:
    """A voice session topic of the default base."""
    root = f"{version}/voice_assistant" if version else "voice_assistant"
    return f"{root}/room/{room}/session/{session}/{message_type}"


def send(
    hass: HomeAssistant,
    topic: str,
    payload: dict[str, Any] | bytes | str,
    *,
    retain: bool = False,
) -> None:
    """Deliver a message as the broker would, as raw bytes."""
    if isinstance(payload, dict):
        payload = json.dumps(payload)
    if isinstance(payload, str):
        payload = payload.encode()
    async_fire_mqtt_message(hass, topic, payload, retain=retain)


def published(mqtt_mock: Any) -> list[tuple[str, Any, int, bool]]:
    """Every (topic, payload, qos, retain) published on mocked MQTT, decoded."""
    return [
        (topic, json.loads(payload), qos, retain)
        for topic, payload, qos, retain in (
            call.args for call in mqtt_mock.async_publish.call_args_list
        )
    ]


def assert_translated(error: HomeAssistantError, key: str) -> None:
    """The error has this key and a translated message with every placeholder."""
    assert error.translation_key == key
    message = str(error)
    assert message
    assert message != key
    assert "{" not in message, message


def disconnect(mqtt_mock: Any, mqtt_client_mock: Any) -> None:
    """Lose the broker as paho reports it (and as MQTT's is_connected says)."""
    mqtt_mock.connected = False
    mqtt_client_mock.on_disconnect(
        None, None, None, MockMqttReasonCode(7, True, "Unspecified error")
    )


def reconnect(mqtt_mock: Any, mqtt_client_mock: Any) -> None:
    """Get the broker back: MQTT resubscribes, so retained messages replay."""
    mqtt_mock.connected = True
    mqtt_client_mock.on_connect(mqtt_client_mock, None, 0, MockMqttReasonCode())


async def snapshot_platform_entities(
    hass: HomeAssistant, config_entry_id: str, snapshot: SnapshotAssertion
) -> None:
    """Snapshot every entity of one platform: registry entry, state, device.

    As core's elgato and wled test their platforms; the entry must have loaded
    that platform alone, with every entity enabled.
    """
    entity_registry = er.async_get(hass)
    device_registry = dr.async_get(hass)
    entries = sorted(
        er.async_entries_for_config_entry(entity_registry, config_entry_id),
        key=lambda entry: entry.entity_id,
    )
    assert entries
    assert len({entry.domain for entry in entries}) == 1, "load one platform only"
    for entry in entries:
        assert entry.disabled_by is None, "enable every entity"
        assert entry == snapshot(name=f"{entry.entity_id}-entry")
        assert hass.states.get(entry.entity_id) == snapshot(
            name=f"{entry.entity_id}-state"
        )
        assert entry.device_id is not None
        assert device_registry.async_get(entry.device_id) == snapshot(
            name=f"{entry.entity_id}-device"
        )


def form_values(schema: Any) -> dict[str, Any]:
    """What a form shows in each field: its default, or its suggested value."""
    return {
        str(key): key.default()
        if callable(key.default)
        else (key.description or {}).get("suggested_value")
        for key in schema.schema
    }
