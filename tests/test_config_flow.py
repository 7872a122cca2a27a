"""Every path of the config, discovery, reconfigure and options flows."""

from __future__ import annotations

from typing import Any
from unittest.mock import patch

from homeassistant.config_entries import SOURCE_MQTT, SOURCE_USER
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers.service_info.mqtt import MqttServiceInfo
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_mqtt_message,
)
from pytest_homeassistant_custom_component.typing import MqttMockHAClient

from custom_components.voice_mqtt.const import DOMAIN

from .common import form_values
from .conftest import DEFAULT_DATA


def discovery(subscribed: str = "devices/discovery/announce") -> MqttServiceInfo:
    return MqttServiceInfo(
        topic="devices/discovery/announce",
        payload='{"deviceId": "VR_1", "type": "vr", "name": "Headset"}',
        qos=1,
        retain=False,
        subscribed_topic=subscribed,
        timestamp=0,
    )


@pytest.mark.usefixtures("mqtt_mock")
async def test_user_flow_creates_the_default_namespace(hass: HomeAssistant) -> None:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "user"
    assert result["errors"] == {}

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], dict(DEFAULT_DATA)
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Voice Assistant MQTT"
    assert result["data"] == DEFAULT_DATA
    assert result["result"].unique_id == "v1/voice_assistant"


@pytest.mark.usefixtures("mqtt_mock")
async def test_user_flow_empty_version_selects_legacy_v0(hass: HomeAssistant) -> None:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    user_input = {key: value for key, value in DEFAULT_DATA.items() if key != "version"}
    user_input["base"] = " home/voice "
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], user_input
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"]["version"] == ""
    assert result["data"]["base"] == "home/voice"
    assert result["title"] == "Voice Assistant MQTT (home/voice)"
    assert result["result"].unique_id == "home/voice"


async def test_user_flow_aborts_without_mqtt(hass: HomeAssistant) -> None:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "mqtt_not_configured"


@pytest.mark.usefixtures("mqtt_mock")
@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("version", "v/1", "invalid_version"),
        ("version", "v+", "invalid_version"),
        ("base", "voice/#", "invalid_prefix"),
        ("base", "", "invalid_prefix"),
        ("device_prefix", "/devices", "invalid_prefix"),
        ("session_prefix", "a//b", "invalid_prefix"),
        ("admin_prefix", "$SYS", "invalid_prefix"),
        ("xiaozhi_prefix", "x" * 129, "invalid_prefix"),
    ],
)
async def test_user_flow_field_errors(
    hass: HomeAssistant, field: str, value: str, error: str
) -> None:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**DEFAULT_DATA, field: value}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {field: error}
    # The user can fix the field and finish.
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], dict(DEFAULT_DATA)
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY


@pytest.mark.usefixtures("mqtt_mock")
async def test_user_flow_refuses_a_duplicate_namespace(
    hass: HomeAssistant, config_entry: MockConfigEntry
) -> None:
    config_entry.add_to_hass(hass)
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**DEFAULT_DATA, "device_prefix": "other"}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


@pytest.mark.usefixtures("mqtt_mock")
async def test_user_flow_refuses_a_device_prefix_in_use(
    hass: HomeAssistant, config_entry: MockConfigEntry
) -> None:
    config_entry.add_to_hass(hass)
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**DEFAULT_DATA, "version": "v2"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"device_prefix": "device_prefix_in_use"}


@pytest.mark.usefixtures("mqtt_mock")
async def test_discovery_confirm(hass: HomeAssistant) -> None:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_MQTT}, data=discovery()
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "discovery_confirm"
    assert result["description_placeholders"] == {"topic": "v1/voice_assistant"}
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"] == DEFAULT_DATA
    assert result["result"].unique_id == "v1/voice_assistant"


@pytest.mark.usefixtures("mqtt_mock")
async def test_discovery_aborts_when_configured(
    hass: HomeAssistant, config_entry: MockConfigEntry
) -> None:
    config_entry.add_to_hass(hass)
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_MQTT}, data=discovery()
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


@pytest.mark.usefixtures("mqtt_mock")
@pytest.mark.parametrize("subscribed", ["tasmota/discovery/#", "v1/voice_assistant/#"])
async def test_discovery_aborts_on_foreign_topics(
    hass: HomeAssistant, subscribed: str
) -> None:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_MQTT}, data=discovery(subscribed)
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "invalid_discovery_info"


async def test_voice_traffic_starts_no_discovery_flows(
    hass: HomeAssistant, integration: MockConfigEntry
) -> None:
    # Home Assistant would start a config flow per message on a discovery
    # topic, configured or not: streamed chunks must not be on one.
    with patch(
        "homeassistant.components.mqtt.discovery.discovery_flow.async_create_flow"
    ) as create_flow:
        for index in range(20):
            async_fire_mqtt_message(
                hass,
                "v1/voice_assistant/room/salon/session/S1/response/stream/chunk",
                f'{{"chunk": " w{index}"}}',
            )
        async_fire_mqtt_message(hass, "devices/discovery/announce", '{"deviceId": "A"}')
        await hass.async_block_till_done()
    assert [call.args[3].topic for call in create_flow.call_args_list] == [
        "devices/discovery/announce"
    ]


async def test_reconfigure_changes_the_namespace_and_reloads(
    hass: HomeAssistant, integration: MockConfigEntry
) -> None:
    hub = integration.runtime_data
    assert "v1/voice_assistant/room/+/session/+/#" in hub.subscriptions
    result = await integration.start_reconfigure_flow(hass)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reconfigure"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**DEFAULT_DATA, "version": "v2", "device_prefix": "fleet"}
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert integration.unique_id == "v2/voice_assistant"
    assert integration.title == "Voice Assistant MQTT (v2/voice_assistant)"
    assert integration.data["device_prefix"] == "fleet"
    # The reload subscribed to the new topics with a new hub.
    assert integration.runtime_data is not hub
    assert integration.runtime_data.subscriptions[:2] == [
        "v2/voice_assistant/room/+/session/+/#",
        "fleet/+/+",
    ]


async def test_reconfigure_keeping_the_namespace_is_allowed(
    hass: HomeAssistant, integration: MockConfigEntry
) -> None:
    result = await integration.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**DEFAULT_DATA, "admin_prefix": "ops"}
    )
    await hass.async_block_till_done()
    assert result["reason"] == "reconfigure_successful"
    assert integration.data["admin_prefix"] == "ops"


async def test_reconfigure_refuses_another_entrys_namespace_and_bad_fields(
    hass: HomeAssistant, integration: MockConfigEntry
) -> None:
    other = MockConfigEntry(
        domain=DOMAIN,
        data={**DEFAULT_DATA, "version": "v2", "device_prefix": "other"},
        unique_id="v2/voice_assistant",
    )
    other.add_to_hass(hass)
    result = await integration.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**DEFAULT_DATA, "device_prefix": "other"}
    )
    assert result["errors"] == {"device_prefix": "device_prefix_in_use"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**DEFAULT_DATA, "version": "v2"}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    assert integration.unique_id == "v1/voice_assistant"


async def test_options_flow_stores_options_and_reloads(
    hass: HomeAssistant, integration: MockConfigEntry
) -> None:
    hub = integration.runtime_data
    result = await hass.config_entries.options.async_init(integration.entry_id)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "init"
    options: dict[str, Any] = {
        "legacy_topics": True,
        "heartbeat_timeout": 30,
        "qos": "2",
        "admin_snapshot": True,
        "stale_device_days": 7.0,
        "max_devices": 1100.0,
        "max_rooms": 50.0,
        "backend_silent_minutes": 15.0,
        "broker_health": True,
        "history_turns": 20.0,
    }
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], options
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert integration.options == {
        "legacy_topics": True,
        "heartbeat_timeout": 30,
        "qos": 2,
        "admin_snapshot": True,
        "stale_device_days": 7,
        "max_devices": 1100,
        "max_rooms": 50,
        "backend_silent_minutes": 15,
        "broker_health": True,
        "history_turns": 20,
        "fleet_link": "",
    }
    new_hub = integration.runtime_data
    assert new_hub is not hub
    assert new_hub.settings.qos == 2
    assert new_hub.settings.heartbeat_timeout == 30
    assert new_hub.settings.stale_device_days == 7
    assert (new_hub.settings.max_devices, new_hub.settings.max_rooms) == (1100, 50)
    assert "voice_assistant/room/+/session/+/#" in new_hub.subscriptions
    assert "admin/request/snapshot" in new_hub.subscriptions
    assert "$SYS/broker/uptime" in new_hub.subscriptions
    assert "$SYS/broker/connection/+/state" in new_hub.subscriptions


async def test_options_form_shows_current_values(
    hass: HomeAssistant, mqtt_mock: MqttMockHAClient, config_entry: MockConfigEntry
) -> None:
    config_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(
        config_entry, options={"legacy_topics": True, "heartbeat_timeout": 60, "qos": 0}
    )
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    result = await hass.config_entries.options.async_init(config_entry.entry_id)
    defaults = form_values(result["data_schema"])
    assert defaults == {
        "legacy_topics": True,
        "heartbeat_timeout": 60,
        "qos": "0",
        "admin_snapshot": False,
        "stale_device_days": 30,
        "max_devices": 1000,
        "max_rooms": 200,
        "backend_silent_minutes": 30,
        "broker_health": False,
        "history_turns": 50,
        "fleet_link": "",
        # Suggested, not a default: cleared, the voice server is unset.
        "ws_url": "",
    }


@pytest.mark.parametrize(
    ("given", "stored", "error"),
    [
        (" ha-home-1 ", "ha-home-1", None),
        ("", "", None),
        ("ha/home", None, "invalid_fleet_link"),
        ("x" * 129, None, "invalid_fleet_link"),
    ],
)
async def test_the_fleet_link_option_names_one_bridge(
    hass: HomeAssistant,
    integration: MockConfigEntry,
    given: str,
    stored: str | None,
    error: str | None,
) -> None:
    result = await hass.config_entries.options.async_init(integration.entry_id)
    options = {**form_values(result["data_schema"]), "fleet_link": given}
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], options
    )
    await hass.async_block_till_done()
    if error is not None:
        assert result["type"] is FlowResultType.FORM
        assert result["errors"] == {"fleet_link": error}
        assert "fleet_link" not in integration.options
        # The form keeps what was typed, to be corrected.
        assert form_values(result["data_schema"])["fleet_link"] == given
        return
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert integration.options["fleet_link"] == stored
    assert integration.runtime_data.settings.fleet_link == stored


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        (" wss://voice.example/ws ", "wss://voice.example/ws"),
        ("ws://192.168.1.10:8000/xiaozhi/v1/", "ws://192.168.1.10:8000/xiaozhi/v1/"),
        ("", None),  # cleared: no voice server, no buttons
        (None, None),  # left out by the form
    ],
)
async def test_options_flow_takes_a_voice_server_url(
    hass: HomeAssistant,
    integration: MockConfigEntry,
    given: str | None,
    stored: str | None,
) -> None:
    hass.config_entries.async_update_entry(
        integration, options={"ws_url": "wss://old.example/ws"}
    )
    result = await hass.config_entries.options.async_init(integration.entry_id)
    options = form_values(result["data_schema"])
    assert options["ws_url"] == "wss://old.example/ws", "the form shows it"
    if given is None:
        del options["ws_url"]
    else:
        options["ws_url"] = given
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], options
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert integration.options.get("ws_url") == stored
    assert integration.runtime_data.settings.ws_url == stored


@pytest.mark.parametrize(
    "given", ["https://voice.example/ws", "wss://", "voice.example", "wss://a b/"]
)
async def test_options_flow_refuses_a_url_that_is_no_websocket(
    hass: HomeAssistant, integration: MockConfigEntry, given: str
) -> None:
    result = await hass.config_entries.options.async_init(integration.entry_id)
    options = form_values(result["data_schema"])
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {**options, "ws_url": given, "max_rooms": 50.0}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"ws_url": "invalid_ws_url"}
    # The form comes back with what was typed, to correct it.
    shown = form_values(result["data_schema"])
    assert (shown["ws_url"], shown["max_rooms"]) == (given, 50)
    assert integration.options == {}


async def test_options_form_offers_most_devices_within_the_largest_cap(
    hass: HomeAssistant, mqtt_mock: MqttMockHAClient, config_entry: MockConfigEntry
) -> None:
    # Stored when the cap was 1,500: the form offers what can be saved.
    config_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(config_entry, options={"max_devices": 1500})
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    assert config_entry.runtime_data.settings.max_devices == 1100
    result = await hass.config_entries.options.async_init(config_entry.entry_id)
    shown = form_values(result["data_schema"])
    assert shown["max_devices"] == 1100
    result = await hass.config_entries.options.async_configure(result["flow_id"], shown)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert config_entry.options["max_devices"] == 1100
