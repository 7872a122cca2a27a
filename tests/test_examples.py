"""The examples scripts/develop loads: the blueprint works as users would use it,
and the dashboard names what it shows as a person would."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
import json
from pathlib import Path
import shutil
from typing import Any, NamedTuple

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.setup import async_setup_component
import homeassistant.util.dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
    async_mock_service,
)
from pytest_homeassistant_custom_component.typing import (
    MqttMockHAClient,
    MqttMockPahoClient,
)
import yaml

from custom_components.voice_mqtt.const import DOMAIN

from .common import disconnect, reconnect, send

EXAMPLES = Path(__file__).parents[1] / "examples"
MAC = "cc:ba:97:11:0e:84"


@pytest.fixture
def config_dir(hass: HomeAssistant, tmp_path: Path) -> Path:
    """A config folder holding the blueprint, as scripts/develop lays it out."""
    target = tmp_path / "blueprints" / "automation" / "voice_mqtt"
    shutil.copytree(EXAMPLES / "blueprints", target)
    hass.config.config_dir = str(tmp_path)
    return tmp_path


@pytest.mark.parametrize("weekday_ok", [True, False])
async def test_the_wake_blueprint_sends_ws_start_on_time(
    hass: HomeAssistant,
    integration: MockConfigEntry,
    mqtt_mock: MqttMockHAClient,
    device_registry: dr.DeviceRegistry,
    freezer: FrozenDateTimeFactory,
    config_dir: Path,
    weekday_ok: bool,
) -> None:
    # A Monday, 06:59:50 local time.
    freezer.move_to(dt_util.as_utc(dt_util.parse_datetime("2025-06-02T06:59:50-07:00")))
    send(hass, "devices/discovery/announce", {"deviceId": MAC, "name": "Bedroom box"})
    await hass.async_block_till_done()
    device = device_registry.async_get_device_by_identifier(
        (DOMAIN, f"{integration.entry_id}_device_{MAC}"), integration.entry_id
    )
    assert device is not None
    assert await async_setup_component(
        hass,
        "automation",
        {
            "automation": {
                "use_blueprint": {
                    "path": "voice_mqtt/wake_voice_device.yaml",
                    "input": {
                        "device": device.id,
                        "url": "wss://voice.example/ws",
                        "at": "07:00:00",
                        "weekdays": ["mon"] if weekday_ok else ["sat", "sun"],
                    },
                }
            }
        },
    )
    await hass.async_block_till_done()
    mqtt_mock.async_publish.reset_mock()
    freezer.tick(timedelta(seconds=15))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    published = [
        (call.args[0], json.loads(call.args[1]))
        for call in mqtt_mock.async_publish.call_args_list
    ]
    expected = [
        (
            f"xiaozhi/{MAC}/down",
            {"type": "ws_start", "wss": "wss://voice.example/ws", "version": 3},
        )
    ]
    assert published == (expected if weekday_ok else [])
    # Turning automations off detaches their time triggers (no lingering timer).
    await hass.services.async_call(
        "automation", "turn_off", {"entity_id": "all"}, blocking=True
    )


@pytest.mark.parametrize("back_after", [2, 10])
async def test_the_broker_blueprint_notifies_after_minutes_away(
    hass: HomeAssistant,
    integration: MockConfigEntry,
    mqtt_mock: MqttMockHAClient,
    mqtt_client_mock: MqttMockPahoClient,
    freezer: FrozenDateTimeFactory,
    config_dir: Path,
    back_after: int,
) -> None:
    sent = async_mock_service(hass, "notify", "send_message")
    assert await async_setup_component(
        hass,
        "automation",
        {
            "automation": {
                "use_blueprint": {
                    "path": "voice_mqtt/broker_unreachable.yaml",
                    "input": {
                        "connection": "binary_sensor.voice_assistant_mqtt_mqtt_connection",
                        "minutes": 5,
                        "notify": ["notify.phone"],
                    },
                }
            }
        },
    )
    await hass.async_block_till_done()

    async def minutes(count: int) -> None:
        freezer.tick(timedelta(minutes=count))
        async_fire_time_changed(hass)
        await hass.async_block_till_done()

    disconnect(mqtt_mock, mqtt_client_mock)
    await hass.async_block_till_done()
    await minutes(min(back_after, 4))
    assert sent == []  # a short outage tells nobody
    if back_after > 5:
        await minutes(back_after - 4)
    reconnect(mqtt_mock, mqtt_client_mock)
    await hass.async_block_till_done()
    messages = [call.data["message"] for call in sent]
    if back_after > 5:
        assert len(messages) == 2
        assert "unreachable for 5 minutes" in messages[0]
        assert messages[1] == "The MQTT broker is reachable again."
        assert sent[0].data["entity_id"] == ["notify.phone"]
    else:
        assert messages == []


# The dashboard -----------------------------------------------------------------
#
# Home Assistant names an entity "<device> <entity>" ("Living room voice box
# Connectivity"). Inside a card whose title, or whose heading card, already
# names the room or device, that repeats it on every row. The rule: every
# entity a titled card shows (a tile, or a row of an entities, glance or
# history-graph card) has an explicit name of at most three words that does
# not repeat the title. A logbook's target cannot be named, so it is left out.

MAX_NAME_WORDS = 3


class NamedRow(NamedTuple):
    """An entity on the dashboard, under the title of its card or heading."""

    title: str | None
    entity_id: str
    name: str | None


def named_rows(card: dict[str, Any], title: str | None = None) -> Iterator[NamedRow]:
    """Yield each entity a card shows with the title it is shown under."""
    title = card.get("title", title)
    if "cards" in card:  # a stack: a heading titles the cards after it
        for child in card["cards"]:
            if child["type"] == "heading":
                title = child["heading"]
            yield from named_rows(child, title)
        return
    if card["type"] == "tile":
        yield NamedRow(title, card["entity"], card.get("name"))
    for row in card.get("entities", []):
        if isinstance(row, str):
            yield NamedRow(title, row, None)
        else:
            yield NamedRow(title, row["entity"], row.get("name"))


def dashboard_rows(dashboard: dict[str, Any]) -> list[NamedRow]:
    """Return every entity the dashboard's cards show, under their titles."""
    return [
        row
        for view in dashboard["views"]
        for card in view["cards"]
        for row in named_rows(card)
    ]


def misnamed(dashboard: dict[str, Any]) -> list[NamedRow]:
    """Return the rows of titled cards without a short name of their own."""
    return [
        row
        for row in dashboard_rows(dashboard)
        if row.title is not None
        and (
            row.name is None
            or len(row.name.split()) > MAX_NAME_WORDS
            or row.title.lower() in row.name.lower()
        )
    ]


def test_dashboard_rows_are_named_within_their_titled_cards() -> None:
    dashboard = yaml.safe_load((EXAMPLES / "dashboard.yaml").read_text())
    rows = dashboard_rows(dashboard)
    assert len(rows) > 20
    # Every card that shows entities is titled, by itself or by its heading.
    assert [row for row in rows if not row.title] == []
    assert misnamed(dashboard) == []


def test_the_naming_rule_catches_repeated_device_names() -> None:
    stack = {
        "type": "vertical-stack",
        "cards": [
            {"type": "heading", "heading": "Living room"},
            {"type": "tile", "entity": "sensor.a", "name": "State"},
            {"type": "tile", "entity": "sensor.b"},
            {"type": "tile", "entity": "sensor.c", "name": "Living room state"},
        ],
    }
    rows = {
        "type": "entities",
        "title": "Kitchen VR headset",
        "entities": [
            "binary_sensor.d",
            {"entity": "sensor.e", "name": "Status"},
            {"entity": "sensor.f", "name": "The headset's current status"},
        ],
    }
    found = misnamed({"views": [{"cards": [stack, rows]}]})
    assert [row.entity_id for row in found] == [
        "sensor.b",
        "sensor.c",
        "binary_sensor.d",
        "sensor.f",
    ]


# Response times as a graph ------------------------------------------------------

GRAPHS = {"history-graph", "statistics-graph"}


def graphed(card: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """Yield (card type, entity id) for each entity a graph card plots."""
    for child in card.get("cards", []):
        yield from graphed(child)
    if card["type"] in GRAPHS:
        for row in card["entities"]:
            yield card["type"], row if isinstance(row, str) else row["entity"]


async def test_the_dashboard_plots_each_rooms_response_times(
    hass: HomeAssistant, integration: MockConfigEntry
) -> None:
    dashboard = yaml.safe_load((EXAMPLES / "dashboard.yaml").read_text())
    plotted = {
        pair
        for view in dashboard["views"]
        for card in view["cards"]
        for pair in graphed(card)
    }
    sensors = {
        f"sensor.{room}_voice_assistant_{key}"
        for room in ("living_room", "kitchen")  # the demo's rooms
        for key in ("response_time", "turn_duration")
    }
    assert {entity for _, entity in plotted} >= sensors
    # Long-term statistics too, beyond the recorder's days of history.
    assert {entity for kind, entity in plotted if kind == "statistics-graph"} >= {
        entity for entity in sensors if entity.endswith("response_time")
    }

    # They are the sensors voice_mqtt makes, and numbers a graph can draw.
    for room in ("living_room", "kitchen"):
        for message_type, payload in (
            ("transcript/final", {"text": "what time is it"}),
            ("response", {"text": "It is noon."}),
            ("state", {"state": "idle"}),
        ):
            send(
                hass,
                f"v1/voice_assistant/room/{room}/session/S1/{message_type}",
                payload,
            )
    await hass.async_block_till_done()
    for entity_id in sensors:
        state = hass.states.get(entity_id)
        assert state is not None, entity_id
        float(state.state)
        assert state.attributes["device_class"] == "duration"
        assert state.attributes["state_class"] == "measurement"
