"""The broker's health from $SYS: an option, four diagnostic sensors, never stale."""

from __future__ import annotations

from contextlib import suppress
from datetime import UTC, datetime, timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from hypothesis import given, strategies as st
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)

from custom_components.voice_mqtt.diagnostics import (
    async_get_config_entry_diagnostics,
)
from custom_components.voice_mqtt.protocol import (
    SYS_TOPICS,
    BrokerFigure,
    ProtocolError,
    Rejection,
    parse_sys_message,
)
from tests.common import send

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
STARTED = "sensor.voice_assistant_mqtt_broker_started"
VERSION = "sensor.voice_assistant_mqtt_broker_version"
CLIENTS = "sensor.voice_assistant_mqtt_broker_clients"
RECEIVED = "sensor.voice_assistant_mqtt_broker_messages_received"
BROKER_ENTITIES = (STARTED, VERSION, CLIENTS, RECEIVED)
ON = [{"broker_health": True}]


def states(hass: HomeAssistant) -> dict[str, str | None]:
    found = {entity_id: hass.states.get(entity_id) for entity_id in BROKER_ENTITIES}
    return {key: None if state is None else state.state for key, state in found.items()}


def sys_round(hass: HomeAssistant, uptime: int, clients: int = 3) -> None:
    """One sys_interval of mosquitto's figures."""
    send(hass, "$SYS/broker/uptime", f"{uptime} seconds")
    send(hass, "$SYS/broker/clients/connected", str(clients))
    send(hass, "$SYS/broker/load/messages/received/1min", "12.50")


async def test_off_by_default_nothing_is_subscribed_or_shown(
    hass: HomeAssistant, integration: MockConfigEntry
) -> None:
    hub = integration.runtime_data
    assert not [topic for topic in hub.subscriptions if topic.startswith("$SYS")]
    send(hass, "$SYS/broker/uptime", "100 seconds")
    await hass.async_block_till_done()
    assert states(hass) == dict.fromkeys(BROKER_ENTITIES)
    assert hub.intake.received["broker"] == 0


@pytest.mark.parametrize("entry_options", ON)
async def test_the_broker_figures_are_shown(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    entry_options: dict[str, Any],
    mqtt_mock: Any,
    config_entry: MockConfigEntry,
    entity_registry: er.EntityRegistry,
) -> None:
    freezer.move_to(NOW)
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    hub = config_entry.runtime_data
    assert set(SYS_TOPICS) <= set(hub.subscriptions)
    # A broker that publishes no $SYS leaves them unavailable, not unknown.
    assert states(hass) == dict.fromkeys(BROKER_ENTITIES, STATE_UNAVAILABLE)
    send(hass, "$SYS/broker/version", "mosquitto version 2.1.2", retain=True)
    sys_round(hass, 100)
    await hass.async_block_till_done()
    assert states(hass) == {
        STARTED: (NOW - timedelta(seconds=100)).isoformat(),
        VERSION: "mosquitto version 2.1.2",
        CLIENTS: "3",
        RECEIVED: "12.5",
    }
    for entity_id in BROKER_ENTITIES:
        entry = entity_registry.async_get(entity_id)
        assert entry is not None
        assert entry.entity_category == "diagnostic"
    assert hass.states.get(CLIENTS).attributes["unit_of_measurement"] == "clients"
    assert hass.states.get(RECEIVED).attributes["unit_of_measurement"] == (
        "messages/min"
    )

    # Ten seconds on, one second of delivery wobble: the start time stays.
    started = hass.states.get(STARTED)
    freezer.tick(timedelta(seconds=10))
    sys_round(hass, 109, clients=4)
    await hass.async_block_till_done()
    assert hass.states.get(STARTED) == started
    assert states(hass)[CLIENTS] == "4"
    assert hub.broker_health.interval == 9

    # A restart: the uptime starts again, so does the start time.
    freezer.tick(timedelta(seconds=10))
    sys_round(hass, 2)
    await hass.async_block_till_done()
    assert states(hass)[STARTED] == (NOW + timedelta(seconds=18)).isoformat()
    broker = (await async_get_config_entry_diagnostics(hass, config_entry))["broker"]
    assert broker["fresh"] is True
    assert broker["version"] == "mosquitto version 2.1.2"


@pytest.mark.parametrize("entry_options", ON)
async def test_silent_broker_figures_go_unavailable_and_come_back(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    entry_options: dict[str, Any],
    integration: MockConfigEntry,
) -> None:
    sys_round(hass, 100)
    freezer.tick(timedelta(seconds=10))
    sys_round(hass, 110)
    await hass.async_block_till_done()
    assert states(hass)[CLIENTS] == "3"
    # Two missed intervals are not yet stale...
    freezer.tick(timedelta(seconds=25))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert states(hass)[CLIENTS] == "3"
    # ...three are.
    freezer.tick(timedelta(seconds=15))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert states(hass) == dict.fromkeys(BROKER_ENTITIES, STATE_UNAVAILABLE)
    sys_round(hass, 150, clients=5)
    await hass.async_block_till_done()
    assert states(hass)[CLIENTS] == "5"


@pytest.mark.parametrize("entry_options", ON)
@pytest.mark.parametrize(
    ("topic", "payload", "reason"),
    [
        ("$SYS/broker/uptime", "soon", "invalid_field"),
        ("$SYS/broker/uptime", "12 hours", "invalid_field"),
        ("$SYS/broker/clients/connected", "-1", "invalid_field"),
        ("$SYS/broker/clients/connected", "9" * 30, "out_of_range"),
        ("$SYS/broker/load/messages/received/1min", "inf", "out_of_range"),
        ("$SYS/broker/load/messages/received/1min", "lots", "invalid_field"),
        ("$SYS/broker/version", b"\xff\xfe", "not_utf8"),
        ("$SYS/broker/version", "\x00\x01", "invalid_field"),
        ("$SYS/broker/version", "v" * 300, "oversize"),
    ],
)
async def test_bad_figures_are_dropped_and_counted(
    hass: HomeAssistant,
    entry_options: dict[str, Any],
    integration: MockConfigEntry,
    topic: str,
    payload: str | bytes,
    reason: str,
) -> None:
    send(hass, topic, payload)
    await hass.async_block_till_done()
    hub = integration.runtime_data
    assert hub.intake.rejected == {reason: 1}
    assert states(hass) == dict.fromkeys(BROKER_ENTITIES, STATE_UNAVAILABLE)


@pytest.mark.parametrize("entry_options", ON)
async def test_turning_it_off_removes_the_sensors(
    hass: HomeAssistant,
    entry_options: dict[str, Any],
    integration: MockConfigEntry,
    entity_registry: er.EntityRegistry,
) -> None:
    assert entity_registry.async_get(CLIENTS) is not None
    hass.config_entries.async_update_entry(integration, options={})
    assert await hass.config_entries.async_reload(integration.entry_id)
    await hass.async_block_till_done()
    for entity_id in BROKER_ENTITIES:
        assert entity_registry.async_get(entity_id) is None
    assert hass.states.get(CLIENTS) is None


def test_figures_parse_as_mosquitto_writes_them() -> None:
    assert parse_sys_message("$SYS/broker/uptime", b"1234 seconds") == (
        BrokerFigure.UPTIME,
        1234,
    )
    assert parse_sys_message("$SYS/broker/uptime", "7") == (BrokerFigure.UPTIME, 7)
    assert parse_sys_message("$SYS/broker/load/messages/received/1min", "0.91") == (
        BrokerFigure.RECEIVED,
        0.91,
    )
    with pytest.raises(ProtocolError) as err:
        parse_sys_message("$SYS/broker/heap/current", "1")
    assert err.value.reason is Rejection.UNKNOWN_TYPE


@given(topic=st.sampled_from(sorted(SYS_TOPICS)), raw=st.binary(max_size=300))
def test_no_figure_raises_anything_but_a_protocol_error(topic: str, raw: bytes) -> None:
    with suppress(ProtocolError):
        parse_sys_message(topic, raw)
