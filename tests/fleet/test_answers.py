"""Commands that answer: send_command waits for the device's response."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
import json
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import MqttMockHAClient

from custom_components.voice_mqtt.const import DOMAIN
from tests.common import send

COMMANDS = "devices/VR_12345/commands/"


def commands_sent(mqtt_mock: MqttMockHAClient) -> list[tuple[str, dict[str, Any]]]:
    """Every command published so far: (topic, payload)."""
    return [
        (topic, json.loads(payload))
        for topic, payload, *_ in (
            call.args for call in mqtt_mock.async_publish.call_args_list
        )
        if "/commands/" in topic
    ]


async def sent(mqtt_mock: MqttMockHAClient, count: int) -> list[dict[str, Any]]:
    """Let the calls run until count commands are published; their payloads.

    Only the event loop turns: no wall clock, so nothing here depends on speed.
    """
    for _ in range(1000):
        if len(found := commands_sent(mqtt_mock)) >= count:
            return [payload for _, payload in found]
        await asyncio.sleep(0)
    pytest.fail(f"{count} commands were not published: {commands_sent(mqtt_mock)}")


def ask(
    hass: HomeAssistant, command: str, device: str = "VR_12345", **data: Any
) -> asyncio.Task[Any]:
    """Start a send_command that waits for the answer."""
    call: Awaitable[Any] = hass.services.async_call(
        DOMAIN,
        "send_command",
        {"device": device, "command": command, "wait_for_response": True, **data},
        blocking=True,
        return_response=True,
    )
    return hass.async_create_task(call)


def answer(
    hass: HomeAssistant,
    message_id: str,
    result: dict[str, Any],
    *,
    status: str = "success",
    device: str = "VR_12345",
) -> None:
    """Answer as a device does, on its response topic."""
    send(
        hass,
        f"devices/{device}/response",
        {"messageId": message_id, "status": status, "result": result},
    )


def answers(entry: MockConfigEntry) -> dict[str, Any]:
    """What diagnostics say about answers."""
    counts: dict[str, Any] = entry.runtime_data.answers.as_dict()
    return counts


async def test_the_answer_is_the_response_data(
    hass: HomeAssistant, integration: MockConfigEntry, mqtt_mock: MqttMockHAClient
) -> None:
    call = ask(hass, "get_status")
    (payload,) = await sent(mqtt_mock, 1)
    message_id = payload["messageId"]
    assert isinstance(message_id, str)
    assert message_id
    answer(hass, message_id, {"status": "idle", "uptime": 42, "version": "1.0.0"})
    assert await call == {
        "topic": f"{COMMANDS}get_status",
        "message_id": message_id,
        "status": "success",
        "result": {"status": "idle", "uptime": 42, "version": "1.0.0"},
    }
    assert answers(integration) == {"waiting": 0, "answered": 1, "dropped": {}}
    # An answer is no sign of a device: nothing was added for it.
    assert "VR_12345" not in integration.runtime_data.devices


async def test_no_answer_in_time_is_an_error_and_a_late_one_is_dropped(
    hass: HomeAssistant, integration: MockConfigEntry, mqtt_mock: MqttMockHAClient
) -> None:
    call = ask(hass, "get_status", timeout=0.2)
    (payload,) = await sent(mqtt_mock, 1)
    with pytest.raises(HomeAssistantError) as err:
        await call
    assert err.value.translation_key == "no_answer"
    assert str(err.value) == "VR_12345 did not answer get_status within 0.2 s"
    answer(hass, payload["messageId"], {"status": "idle"})
    answer(hass, "never-asked", {"status": "idle"})
    assert answers(integration) == {
        "waiting": 0,
        "answered": 0,
        "dropped": {"late": 1, "unexpected": 1},
    }


async def test_concurrent_calls_get_their_own_answers_out_of_order(
    hass: HomeAssistant, integration: MockConfigEntry, mqtt_mock: MqttMockHAClient
) -> None:
    first = ask(hass, "get_status")
    second = ask(hass, "get_battery")
    payloads = await sent(mqtt_mock, 2)
    ids = {
        topic: p["messageId"]
        for (topic, _), p in zip(commands_sent(mqtt_mock), payloads, strict=True)
    }
    assert len(set(ids.values())) == 2
    answer(hass, ids[f"{COMMANDS}get_battery"], {"battery": 80})
    answer(hass, ids[f"{COMMANDS}get_status"], {"status": "idle"})
    assert (await first)["result"] == {"status": "idle"}
    assert (await second)["result"] == {"battery": 80}


async def test_only_the_device_asked_can_answer(
    hass: HomeAssistant, integration: MockConfigEntry, mqtt_mock: MqttMockHAClient
) -> None:
    call = ask(hass, "get_status")
    (payload,) = await sent(mqtt_mock, 1)
    answer(hass, payload["messageId"], {"status": "forged"}, device="VR_OTHER")
    await asyncio.sleep(0)
    assert not call.done()
    answer(hass, payload["messageId"], {"status": "idle"})
    answer(hass, payload["messageId"], {"status": "again"})
    assert (await call)["result"] == {"status": "idle"}
    assert answers(integration)["dropped"] == {"wrong_device": 1, "duplicate": 1}


async def test_an_error_answer_is_raised_with_its_reason(
    hass: HomeAssistant, integration: MockConfigEntry, mqtt_mock: MqttMockHAClient
) -> None:
    call = ask(hass, "self_destruct")
    (payload,) = await sent(mqtt_mock, 1)
    answer(
        hass,
        payload["messageId"],
        {"error": "unknown command self_destruct"},
        status="error",
    )
    with pytest.raises(HomeAssistantError) as err:
        await call
    assert err.value.translation_key == "answer_error"
    assert str(err.value) == (
        "VR_12345 answered self_destruct with an error: unknown command self_destruct"
    )


async def test_a_given_message_id_is_kept_and_must_be_free(
    hass: HomeAssistant, integration: MockConfigEntry, mqtt_mock: MqttMockHAClient
) -> None:
    call = ask(hass, "get_status", payload={"messageId": "mine-1"})
    (payload,) = await sent(mqtt_mock, 1)
    assert payload["messageId"] == "mine-1"
    with pytest.raises(ServiceValidationError) as err:
        await ask(hass, "get_status", payload={"messageId": "mine-1"})
    assert err.value.translation_key == "message_id_in_use"
    for bad in (7, "", "x" * 256):
        with pytest.raises(ServiceValidationError) as err:
            await ask(hass, "get_status", payload={"messageId": bad})
        assert err.value.translation_key == "invalid_message_id"
    answer(hass, "mine-1", {})
    assert (await call)["result"] == {}
    assert len(commands_sent(mqtt_mock)) == 1


async def test_waiting_needs_a_device_not_a_session(
    hass: HomeAssistant, integration: MockConfigEntry, mqtt_mock: MqttMockHAClient
) -> None:
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            DOMAIN,
            "send_command",
            {"session": "S_1", "command": "get_status", "wait_for_response": True},
            blocking=True,
            return_response=True,
        )
    assert err.value.translation_key == "answer_needs_device"
    assert commands_sent(mqtt_mock) == []


async def test_unloading_ends_the_wait_with_an_error(
    hass: HomeAssistant, integration: MockConfigEntry, mqtt_mock: MqttMockHAClient
) -> None:
    call = ask(hass, "get_status", timeout=30)
    await sent(mqtt_mock, 1)
    assert await hass.config_entries.async_unload(integration.entry_id)
    with pytest.raises(HomeAssistantError) as err:
        await call
    assert err.value.translation_key == "no_answer_unloaded"


@pytest.mark.parametrize(
    "payload",
    [
        {"status": "success", "result": {}},
        {"messageId": "", "status": "success"},
        {"messageId": 5, "status": "success"},
        {"messageId": "m", "status": "done"},
        {"messageId": "m", "status": "success", "result": [1]},
        {"messageId": "m", "status": "success", "result": {"n": 2**70}},
    ],
)
async def test_a_malformed_answer_is_dropped_and_counted(
    hass: HomeAssistant,
    integration: MockConfigEntry,
    mqtt_mock: MqttMockHAClient,
    payload: dict[str, Any],
) -> None:
    call = ask(hass, "get_status", timeout=0.2, payload={"messageId": "m"})
    await sent(mqtt_mock, 1)
    send(hass, "devices/VR_12345/response", payload)
    with pytest.raises(HomeAssistantError):
        await call
    rejected = integration.runtime_data.intake.as_dict()["rejected"]
    assert sum(rejected.values()) == 1
    assert set(rejected) <= {"invalid_field", "out_of_range"}
    assert answers(integration)["answered"] == 0
