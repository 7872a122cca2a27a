"""Helpers shared by the tests: topics and publishing as the fleet would."""

from __future__ import annotations

import json
from typing import Any

from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import (
    MockMqttReasonCode,
    async_fire_mqtt_message,
)


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
