"""Rooms are areas: a new room goes to the area of its name; actions take areas."""

from __future__ import annotations

import json
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import (
    area_registry as ar,
    device_registry as dr,
    entity_registry as er,
)
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import MqttMockHAClient

from custom_components.voice_mqtt.const import DOMAIN

from .common import send, voice_topic
from .conversations.test_figures import talk
from .test_rooms import Room


def room_device(
    hass: HomeAssistant, entry: MockConfigEntry, room_id: str
) -> dr.DeviceEntry:
    device = dr.async_get(hass).async_get_device_by_identifier(
        (DOMAIN, f"{entry.entry_id}_room_{room_id}"), entry.entry_id
    )
    assert device is not None
    return device


async def start(hass: HomeAssistant, room_id: str, session: str) -> None:
    """A room starts talking in a session (and stays in it)."""
    send(hass, voice_topic(room_id, session, "state"), {"state": "listening"})
    await hass.async_block_till_done()


async def stop(hass: HomeAssistant, room_id: str, session: str) -> None:
    """The room's session ends: no current session any more."""
    send(hass, voice_topic(room_id, session, "state"), {"state": "idle"})
    await hass.async_block_till_done()


def put_in(
    hass: HomeAssistant, entry: MockConfigEntry, area: ar.AreaEntry, *rooms: str
) -> None:
    """Put rooms' devices in an area, as the user does on the device page."""
    for room_id in rooms:
        dr.async_get(hass).async_update_device(
            room_device(hass, entry, room_id).id, area_id=area.id
        )


def display_topics(mqtt_mock: MqttMockHAClient) -> list[tuple[str, str]]:
    return [
        (call.args[0], json.loads(call.args[1])["type"])
        for call in mqtt_mock.async_publish.call_args_list
        if call.args[0].endswith("/display_action")
    ]


async def call(hass: HomeAssistant, name: str, **data: Any) -> Any:
    return await hass.services.async_call(
        DOMAIN, name, data, blocking=True, return_response=True
    )


async def test_a_new_room_goes_to_the_area_of_its_name(
    hass: HomeAssistant,
    integration: MockConfigEntry,
    area_registry: ar.AreaRegistry,
    entity_registry: er.EntityRegistry,
) -> None:
    await start(hass, "living_room", "S1")
    device = room_device(hass, integration, "living_room")
    area = area_registry.async_get_area_by_name("Living room")
    assert area is not None
    assert device.area_id == area.id
    # Its entity ids name the room once, not the area and then the room.
    ids = {
        entry.entity_id
        for entry in er.async_entries_for_device(entity_registry, device.id)
    }
    assert "sensor.living_room_voice_assistant_assistant_state" in ids
    assert "event.living_room_voice_assistant_conversation" in ids
    assert not [
        entity_id for entity_id in ids if "living_room_living_room" in entity_id
    ]
    # The user's choice wins over the name, after a reload too.
    office = area_registry.async_create("Office")
    dr.async_get(hass).async_update_device(device.id, area_id=office.id)
    assert await hass.config_entries.async_reload(integration.entry_id)
    await hass.async_block_till_done()
    assert room_device(hass, integration, "living_room").area_id == office.id


async def test_display_action_to_every_talking_room_of_an_area(
    hass: HomeAssistant,
    integration: MockConfigEntry,
    mqtt_mock: MqttMockHAClient,
    area_registry: ar.AreaRegistry,
) -> None:
    for room_id, session in (("kitchen", "S1"), ("pantry", "S2"), ("cellar", "S3")):
        await start(hass, room_id, session)
    # Idle again, the cellar keeps its last session: the panel goes there too.
    await stop(hass, "cellar", "S3")
    kitchen = area_registry.async_get_or_create("Kitchen")
    put_in(hass, integration, kitchen, "kitchen", "pantry", "cellar")
    mqtt_mock.async_publish.reset_mock()
    response = await call(hass, "display_action", area=kitchen.id, type="timer")
    assert response["rooms"] == ["cellar", "kitchen", "pantry"]
    assert sorted(display_topics(mqtt_mock)) == [
        (f"v1/voice_assistant/room/{room}/session/{session}/display_action", "timer")
        for room, session in (("cellar", "S3"), ("kitchen", "S1"), ("pantry", "S2"))
    ]
    # By name too.
    assert (await call(hass, "display_action", area="Kitchen", type="x"))["rooms"]


@pytest.mark.parametrize(
    ("data", "key"),
    [
        ({"area": "Nowhere"}, "unknown_area"),
        ({"area": "Garage"}, "no_room_in_area"),
        ({"area": "Attic"}, "no_session_in_area"),
        ({"area": "Attic", "session": "S9"}, "session_needs_room"),
    ],
)
async def test_area_mistakes_are_explained(
    hass: HomeAssistant,
    integration: MockConfigEntry,
    mqtt_mock: MqttMockHAClient,
    area_registry: ar.AreaRegistry,
    data: dict[str, str],
    key: str,
) -> None:
    area_registry.async_create("Garage")
    await start(hass, "attic", "S1")
    put_in(hass, integration, area_registry.async_get_or_create("Attic"), "attic")
    # Restored after a restart, a room has no current session until it talks.
    assert await hass.config_entries.async_reload(integration.entry_id)
    await hass.async_block_till_done()
    mqtt_mock.async_publish.reset_mock()
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "display_action", type="timer", **data)
    assert err.value.translation_key == key
    assert display_topics(mqtt_mock) == []


async def test_the_history_of_an_area(
    hass: HomeAssistant, integration: MockConfigEntry, area_registry: ar.AreaRegistry
) -> None:
    talk(Room(hass), "S1")
    await hass.async_block_till_done()
    put_in(
        hass,
        integration,
        area_registry.async_get_or_create("Living room"),
        "living_room",
    )
    found = await call(hass, "get_history", area="Living room")
    assert list(found["rooms"]) == ["living_room"]
    assert found["rooms"]["living_room"][0]["heard"] == "what time is it"
