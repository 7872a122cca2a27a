"""The device page's controls for real: media players and the voice box's button.

A real broker, Home Assistant's own MQTT client and the simulator's devices,
each on its own connection: every action goes out through Home Assistant's
media_player and button services, reaches a simulated device as MQTT, and
comes back as the device's status. The record (each action, the command the
device received, its console line and the state that came back) is printed
at the end: run with -s to read it.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
import sys
from typing import Any

from homeassistant.components.button import DOMAIN as BUTTON_DOMAIN, SERVICE_PRESS
from homeassistant.components.media_player import (
    ATTR_GROUP_MEMBERS,
    ATTR_MEDIA_DURATION,
    ATTR_MEDIA_POSITION,
    ATTR_MEDIA_SEEK_POSITION,
    DOMAIN as MEDIA_PLAYER_DOMAIN,
    SERVICE_JOIN,
    SERVICE_UNJOIN,
)
from homeassistant.const import (
    ATTR_ENTITY_ID,
    SERVICE_MEDIA_PAUSE,
    SERVICE_MEDIA_PLAY,
    SERVICE_MEDIA_SEEK,
    SERVICE_MEDIA_STOP,
)
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from devkit.broker import Broker
from simulator import Kind, Received, Simulator

from .conftest import wait_for
from .test_fleet import MAC, attribute, driven, state

URL = "wss://voice.example/ws"
KITCHEN = "media_player.kitchen_vr_headset"  # VR_0001
BATHROOM = "media_player.bathroom_vr_headset"  # VR_0002
BOX_BUTTON = "button.living_room_voice_box_start_voice_channel"


@pytest.fixture
def voice_options() -> dict[str, Any]:
    """An entry with a voice server, so the voice box has its button."""
    return {"ws_url": URL}


@pytest.fixture
async def five(
    hass: HomeAssistant, broker: Broker, voice: MockConfigEntry
) -> AsyncGenerator[Simulator]:
    """Five devices: two voice boxes (one with a MAC), two headsets, a browser."""
    simulator = Simulator(driven(broker, devices=5, rooms=0, seed=1))
    await hass.async_add_executor_job(simulator.start)
    yield simulator
    await hass.async_add_executor_job(simulator.stop)


class Record:
    """What each action did: the commands the devices got, and what came back."""

    def __init__(self, hass: HomeAssistant, fleet: Simulator) -> None:
        self.hass = hass
        self.fleet = fleet
        self.lines: list[str] = []
        self._seen = 0

    async def act(self, domain: str, service: str, entity_id: str, **data: Any) -> None:
        await self.hass.services.async_call(
            domain, service, {ATTR_ENTITY_ID: entity_id, **data}, blocking=True
        )
        shown = ", ".join(f"{key}={value}" for key, value in data.items())
        self.lines.append(f"{domain}.{service} {entity_id} {shown}".rstrip())

    async def received(self, count: int) -> list[Received]:
        """Wait for the next count messages the devices receive; note them."""
        await wait_for(
            lambda: len(self.fleet.received()) >= self._seen + count,
            what=lambda: f"{count} received: {self.fleet.received()[self._seen :]}",
        )
        new = self.fleet.received()[self._seen : self._seen + count]
        self._seen += count
        for item in new:
            self.lines.append(f"  -> {item.receiver} got {item.topic} {item.payload}")
        return new

    async def shows(self, entity_id: str, wanted: str, **attributes: Any) -> None:
        """Wait until entity_id shows wanted (and those attributes); note it."""

        def holds() -> bool:
            current = self.hass.states.get(entity_id)
            return (
                current is not None
                and current.state == wanted
                and all(
                    current.attributes.get(key) == value
                    for key, value in attributes.items()
                )
            )

        await wait_for(
            holds, what=lambda: f"{entity_id}: {self.hass.states.get(entity_id)}"
        )
        current = self.hass.states.get(entity_id)
        assert current is not None
        shown = {
            key: current.attributes.get(key)
            for key in (ATTR_MEDIA_POSITION, ATTR_MEDIA_DURATION, ATTR_GROUP_MEMBERS)
            if current.attributes.get(key) is not None
        }
        self.lines.append(f"  <- {entity_id}: {current.state} {shown}")


async def test_a_headset_is_driven_and_grouped_and_the_box_woken_from_its_page(
    hass: HomeAssistant,
    voice: MockConfigEntry,
    five: Simulator,
    capsys: pytest.CaptureFixture[str],
) -> None:
    record = Record(hass, five)
    for player in (KITCHEN, BATHROOM):
        await record.shows(player, "idle")
    assert attribute(hass, KITCHEN, ATTR_MEDIA_DURATION) == 5400  # the film
    # The second voice box has no MAC: no button; the browser never played.
    assert state(hass, "button.office_voice_box_start_voice_channel") is None
    assert state(hass, "media_player.bedroom_browser") is None

    await record.act(MEDIA_PLAYER_DOMAIN, SERVICE_MEDIA_PLAY, KITCHEN)
    (play,) = await record.received(1)
    assert (play.receiver, play.topic) == ("VR_0001", "devices/VR_0001/commands/play")
    assert set(play.payload) == {"timestamp"}
    await record.shows(KITCHEN, "playing")

    await record.act(MEDIA_PLAYER_DOMAIN, SERVICE_MEDIA_PAUSE, KITCHEN)
    (pause,) = await record.received(1)
    assert pause.topic == "devices/VR_0001/commands/pause"
    await record.shows(KITCHEN, "paused")

    # Paused: a seek pauses at the new place.
    await record.act(
        MEDIA_PLAYER_DOMAIN,
        SERVICE_MEDIA_SEEK,
        KITCHEN,
        **{ATTR_MEDIA_SEEK_POSITION: 600},
    )
    (seek,) = await record.received(1)
    assert (seek.topic, seek.payload["positionMs"]) == (
        "devices/VR_0001/commands/pause",
        600_000,
    )
    await record.shows(KITCHEN, "paused", **{ATTR_MEDIA_POSITION: 600.0})

    # Grouped: the kitchen headset is in no session, so a new one is made.
    await record.act(
        MEDIA_PLAYER_DOMAIN, SERVICE_JOIN, KITCHEN, **{ATTR_GROUP_MEMBERS: [BATHROOM]}
    )
    # Two devices on two connections: in whichever order the broker delivers.
    joins = sorted(await record.received(2), key=lambda item: item.topic)
    assert [item.topic for item in joins] == [
        "devices/VR_0001/commands/join",
        "devices/VR_0002/commands/join",
    ]
    session = joins[0].payload["sessionId"]
    assert joins[1].payload["sessionId"] == session
    group = [BATHROOM, KITCHEN]
    await record.shows(KITCHEN, "paused", **{ATTR_GROUP_MEMBERS: group})
    await record.shows(BATHROOM, "idle", **{ATTR_GROUP_MEMBERS: group})

    # Driven through the session: both headsets play, then stop.
    await record.act(MEDIA_PLAYER_DOMAIN, SERVICE_MEDIA_PLAY, KITCHEN)
    plays = await record.received(2)
    assert {(item.receiver, item.topic) for item in plays} == {
        ("VR_0001", f"sessions/{session}/commands/play"),
        ("VR_0002", f"sessions/{session}/commands/play"),
    }
    await record.shows(KITCHEN, "playing")
    await record.shows(BATHROOM, "playing")
    await record.act(MEDIA_PLAYER_DOMAIN, SERVICE_MEDIA_STOP, KITCHEN)
    stops = await record.received(2)
    assert {item.topic for item in stops} == {f"sessions/{session}/commands/stop"}
    await record.shows(KITCHEN, "idle", **{ATTR_MEDIA_POSITION: 0.0})
    await record.shows(BATHROOM, "idle", **{ATTR_MEDIA_POSITION: 0.0})

    await record.act(MEDIA_PLAYER_DOMAIN, SERVICE_UNJOIN, BATHROOM)
    (leave,) = await record.received(1)
    assert leave.topic == "devices/VR_0002/commands/leave"
    await record.shows(BATHROOM, "idle", **{ATTR_GROUP_MEMBERS: None})
    await record.shows(KITCHEN, "idle", **{ATTR_GROUP_MEMBERS: [KITCHEN]})

    # The voice box's button: ws_start with the entry's voice server.
    await record.act(BUTTON_DOMAIN, SERVICE_PRESS, BOX_BUTTON)
    (woken,) = await record.received(1)
    assert (woken.kind, woken.receiver, woken.topic, woken.payload) == (
        Kind.WS_START,
        MAC,
        f"xiaozhi/{MAC}/down",
        {"type": "ws_start", "wss": URL, "version": 3},
    )

    # The devices printed what they got, each a line; the record besides.
    console = capsys.readouterr().out
    assert console.count(" got ") == 10
    assert "ws_start for cc:ba:97:11:0e:84" in console
    with capsys.disabled():
        sys.stdout.write(
            "\n== what each action did ==\n"
            + "\n".join(record.lines)
            + "\n== the simulated devices' console ==\n"
            + console
        )
