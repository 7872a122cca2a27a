"""The fleet, the broker and Home Assistant for real: no MQTT mocks at all."""

from __future__ import annotations

from collections.abc import AsyncGenerator
import json
from pathlib import Path
import re
import threading
from typing import Any

from homeassistant.components import mqtt
from homeassistant.const import STATE_OFF, STATE_ON, STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import device_registry as dr
import paho.mqtt.client as paho
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
import yaml

from custom_components.voice_mqtt.const import DOMAIN
from devkit.broker import Broker
from simulator import BrokerAddress, Kind, Simulator, SimulatorOptions

from .conftest import WITHIN, wait_for

MAC = "cc:ba:97:11:0e:84"
BOX = "living_room_voice_box"  # the fleet's first device, a xiaozhi voice box
HEADSET = "kitchen_vr_headset"
BROWSER = "bedroom_browser"


def state(hass: HomeAssistant, entity_id: str) -> str | None:
    current = hass.states.get(entity_id)
    return None if current is None else current.state


def attribute(hass: HomeAssistant, entity_id: str, name: str) -> Any:
    current = hass.states.get(entity_id)
    return None if current is None else current.attributes.get(name)


def driven(broker: Broker, **overrides: Any) -> SimulatorOptions:
    """Simulator options for a test: no background activity, fast conversations."""
    return SimulatorOptions(
        broker=BrokerAddress(port=broker.port),
        heartbeat=0,
        conversation_interval=0,
        event_interval=0,
        phase_pause=0.01,
        chunk_rate=500,
        interim_rate=500,
        quiet=True,
        **overrides,
    )


@pytest.fixture
async def fleet(
    hass: HomeAssistant, broker: Broker, voice: MockConfigEntry
) -> AsyncGenerator[Simulator]:
    """Three devices and one room, doing nothing until told to."""
    simulator = Simulator(driven(broker, rooms=1, seed=1))
    await hass.async_add_executor_job(simulator.start)
    yield simulator
    await hass.async_add_executor_job(simulator.stop)


class Listener:
    """A plain MQTT client that records what it hears, as a UI or a device would."""

    def __init__(self, port: int, topic: str) -> None:
        # Appended to in paho's thread; list.append is atomic, readers copy.
        self.messages: list[tuple[str, bytes]] = []
        self._subscribed = threading.Event()
        self._client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id="ear")
        self._client.on_message = lambda _c, _u, m: self.messages.append(
            (m.topic, m.payload)
        )
        self._client.on_subscribe = lambda *_: self._subscribed.set()
        self._client.connect("127.0.0.1", port)
        self._client.subscribe(topic, qos=1)
        self._client.loop_start()

    def wait_subscribed(self) -> None:
        assert self._subscribed.wait(30), "the listener was not subscribed"

    def heard(self, suffix: str) -> list[bytes]:
        """Return the payloads heard so far on topics ending with suffix."""
        return [
            payload for topic, payload in list(self.messages) if topic.endswith(suffix)
        ]

    def close(self) -> None:
        self._client.loop_stop()
        self._client.disconnect()


async def test_devices_are_discovered_and_go_offline_on_their_will(
    hass: HomeAssistant,
    voice: MockConfigEntry,
    fleet: Simulator,
    device_registry: dr.DeviceRegistry,
) -> None:
    # Announce and status travel on different topics: wait for each state
    # on its own instead of assuming which came first.
    for device in (BOX, HEADSET, BROWSER):
        await wait_for(
            lambda device=device: (
                state(hass, f"binary_sensor.{device}_connectivity") == STATE_ON
            ),
            what=f"{device} online",
        )
        await wait_for(
            lambda device=device: state(hass, f"sensor.{device}_status") == "idle",
            what=f"{device} status idle",
        )
    await wait_for(
        lambda: state(hass, "sensor.voice_assistant_mqtt_devices_online") == "3",
        what="three devices online",
    )

    def box_registered() -> tuple[str | None, str | None] | None:
        box = device_registry.async_get_device_by_identifier(
            (DOMAIN, f"{voice.entry_id}_device_{MAC}"), voice.entry_id
        )
        return None if box is None else (box.name, box.model)

    await wait_for(
        lambda: box_registered() == ("Living room voice box", "voice_box"),
        what=lambda: f"the box registered with its announced name: {box_registered()}",
    )

    # Kill the headset's connection: the broker publishes its Last Will.
    await hass.async_add_executor_job(fleet.drop_device, "VR_0001")
    await wait_for(
        lambda: state(hass, f"binary_sensor.{HEADSET}_connectivity") == STATE_OFF,
        what="the will marked the headset offline",
    )
    await wait_for(
        lambda: state(hass, "sensor.voice_assistant_mqtt_devices_online") == "2",
        what="two devices online",
    )
    await hass.async_add_executor_job(fleet.reconnect_device, "VR_0001")
    await wait_for(
        lambda: state(hass, f"binary_sensor.{HEADSET}_connectivity") == STATE_ON,
        what="the headset came back",
    )


async def test_a_conversation_and_a_streamed_response_reach_the_room(
    hass: HomeAssistant, broker: Broker, voice: MockConfigEntry, fleet: Simulator
) -> None:
    ear = Listener(broker.port, "v1/voice_assistant/room/+/session/+/response/#")
    try:
        await hass.async_add_executor_job(ear.wait_subscribed)
        session = await hass.async_add_executor_job(
            lambda: fleet.run_conversation("living_room", streamed=True, chunks=60)
        )
        # The broker acknowledged every chunk; the ear may still be receiving.
        await wait_for(
            lambda: len(ear.heard("/response/stream/chunk")) == 60,
            what=lambda: f"60 chunks heard: {len(ear.heard('/response/stream/chunk'))}",
        )
    finally:
        ear.close()
    chunks = [json.loads(p)["chunk"] for p in ear.heard("/response/stream/chunk")]
    answer = "".join(chunks)
    room = "living_room_voice_assistant"
    # Chunks and the stream's end come on different topics: wait for both.
    await wait_for(
        lambda: (
            attribute(hass, f"sensor.{room}_response", "streaming") is False
            and attribute(hass, f"sensor.{room}_response", "full_text") == answer
        ),
        what="the whole stream shown, exactly",
    )
    assert attribute(hass, f"sensor.{room}_response", "session_id") == session
    await wait_for(
        lambda: state(hass, f"sensor.{room}_assistant_state") == "idle",
        what="the room back to idle",
    )
    await wait_for(
        lambda: state(hass, f"binary_sensor.{room}_conversation_active") == STATE_OFF,
        what="the conversation over",
    )
    await wait_for(
        lambda: (
            attribute(hass, f"sensor.{room}_transcript", "session_id") == session
            and attribute(hass, f"sensor.{room}_transcript", "stage")
            in ("final", "refined")
        ),
        what="the final transcript shown",
    )
    await wait_for(
        lambda: (
            attribute(hass, f"event.{room}_display_action", "session_id") == session
        ),
        what="the display action fired",
    )
    await wait_for(
        lambda: attribute(hass, f"event.{room}_tool_executed", "session_id") == session,
        what="the tool run fired",
    )
    assert attribute(hass, f"event.{room}_tool_executed", "tool_name")


async def test_service_actions_reach_the_fleet(
    hass: HomeAssistant,
    voice: MockConfigEntry,
    fleet: Simulator,
    device_registry: dr.DeviceRegistry,
) -> None:
    await wait_for(
        lambda: state(hass, f"binary_sensor.{BOX}_connectivity") == STATE_ON,
        what="the box online",
    )
    box = device_registry.async_get_device_by_identifier(
        (DOMAIN, f"{voice.entry_id}_device_{MAC}"), voice.entry_id
    )
    assert box is not None
    # ws_start to the box picked as a device, as the UI or a blueprint would.
    response = await hass.services.async_call(
        DOMAIN,
        "ws_start",
        {"device": box.id, "url": "wss://voice.example/ws"},
        blocking=True,
        return_response=True,
    )
    assert response is not None
    # How many attempts a loaded machine needs is timing; the retries
    # themselves are tested with mocked MQTT (tests/test_services.py).
    assert response["attempts"] >= 1
    received = await hass.async_add_executor_job(
        lambda: fleet.wait_for(lambda r: r.kind is Kind.WS_START, WITHIN)
    )
    assert (received.receiver, received.topic, received.payload) == (
        MAC,
        f"xiaozhi/{MAC}/down",
        {"type": "ws_start", "wss": "wss://voice.example/ws", "version": 3},
    )

    session = await hass.async_add_executor_job(
        lambda: fleet.run_conversation("living_room", streamed=False)
    )
    # display_action goes to the room's current session: wait until Home
    # Assistant has heard this one.
    await wait_for(
        lambda: (
            attribute(
                hass, "sensor.living_room_voice_assistant_assistant_state", "session_id"
            )
            == session
        ),
        what="the room follows the new session",
    )
    await hass.services.async_call(
        DOMAIN,
        "display_action",
        {"room": "living_room", "type": "weather", "data": {"city": "Lyon"}},
        blocking=True,
    )
    shown = await hass.async_add_executor_job(
        lambda: fleet.wait_for(lambda r: r.kind is Kind.DISPLAY_ACTION, WITHIN)
    )
    assert shown.topic == (
        f"v1/voice_assistant/room/living_room/session/{session}/display_action"
    )
    assert shown.payload["type"] == "weather"
    assert shown.payload["data"] == {"city": "Lyon"}
    assert isinstance(shown.payload["timestamp"], int)

    await wait_for(
        lambda: state(hass, f"binary_sensor.{HEADSET}_connectivity") == STATE_ON,
        what="the headset online",
    )
    await hass.services.async_call(
        DOMAIN,
        "send_command",
        {"device": "VR_0001", "command": "play", "payload": {"positionMs": 1200}},
        blocking=True,
    )
    # The headset answers with its retained status, which Home Assistant shows.
    await wait_for(
        lambda: state(hass, f"sensor.{HEADSET}_status") == "playing",
        what="the headset playing",
    )

    # A command that answers: the simulated headset reports its status...
    answer = await hass.services.async_call(
        DOMAIN,
        "send_command",
        {"device": "VR_0001", "command": "get_status", "wait_for_response": True},
        blocking=True,
        return_response=True,
    )
    assert answer is not None
    assert answer["status"] == "success"
    assert set(answer["result"]) >= {"status", "uptime", "firmware"}
    # ...and refuses a command it does not know, which the action raises.
    with pytest.raises(HomeAssistantError, match="unknown command reboot"):
        await hass.services.async_call(
            DOMAIN,
            "send_command",
            {"device": "VR_0001", "command": "reboot", "wait_for_response": True},
            blocking=True,
            return_response=True,
        )


STANDARD_CARDS = {
    "button",
    "entities",
    "glance",
    "heading",
    "history-graph",
    "logbook",
    "markdown",
    "media-control",
    "statistics-graph",
    "tile",
    "vertical-stack",
    # Ours, which the integration serves; tests/e2e/test_card.py opens it.
    "custom:voice-mqtt-conversation-card",
}


def dashboard_entities(node: Any) -> set[str]:
    """Every entity id a dashboard names, checking each card type is standard."""
    if isinstance(node, list):
        return set().union(
            *(
                {item} if isinstance(item, str) else dashboard_entities(item)
                for item in node
            )
        )
    if not isinstance(node, dict):
        return set()
    if "type" in node:
        assert node["type"] in STANDARD_CARDS, node["type"]
    found: set[str] = set()
    for key, value in node.items():
        if key == "entity":
            found.add(value)
        elif key == "stat_types":  # a statistics graph's mean, max…
            continue
        elif key == "content":  # markdown templates
            found.update(re.findall(r"'((?:sensor|binary_sensor|event)\.\w+)'", value))
        else:
            found |= dashboard_entities(value)
    return found


async def test_the_example_dashboard_shows_the_demo_fleet(
    hass: HomeAssistant, broker: Broker, voice: MockConfigEntry
) -> None:
    # The fleet scripts/develop --demo starts: its defaults, two rooms.
    demo = Simulator(driven(broker))
    await hass.async_add_executor_job(demo.start)
    try:
        for room in demo.rooms:
            await hass.async_add_executor_job(demo.run_conversation, room)
    finally:
        await hass.async_add_executor_job(demo.stop)
    dashboard = yaml.safe_load(
        (Path(__file__).parents[2] / "examples" / "dashboard.yaml").read_text()
    )
    wanted = dashboard_entities(dashboard["views"])
    assert len(wanted) > 20
    await wait_for(
        lambda: all(hass.states.get(entity) for entity in wanted),
        what=lambda: f"missing: {[e for e in wanted if not hass.states.get(e)]}",
    )


def publish_retained(port: int, messages: dict[str, dict[str, Any]]) -> None:
    """Publish retained messages from a client that then leaves cleanly."""
    client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id="once")
    client.connect("127.0.0.1", port)
    client.loop_start()
    for topic, payload in messages.items():
        info = client.publish(topic, json.dumps(payload), qos=1, retain=True)
        info.wait_for_publish(30)
        assert info.is_published(), topic
    client.loop_stop()
    client.disconnect()


async def test_a_broker_restart_makes_entities_unavailable_then_restores_them(
    hass: HomeAssistant, broker: Broker, voice: MockConfigEntry, fleet: Simulator
) -> None:
    if not broker.keeps_retained_across_restarts:
        pytest.skip(f"{broker.kind} forgets retained messages when it stops")
    # A device and a room whose publishers are gone: only the broker keeps them.
    await hass.async_add_executor_job(
        publish_retained,
        broker.port,
        {
            "devices/GHOST/status": {"status": "paused", "positionMs": 5},
            "v1/voice_assistant/room/attic/session/S9/state": {"state": "listening"},
        },
    )
    await wait_for(
        lambda: state(hass, "sensor.ghost_status") == "paused", what="ghost paused"
    )
    await wait_for(
        lambda: state(hass, f"binary_sensor.{BOX}_connectivity") == STATE_ON,
        what="the box online",
    )

    await hass.async_add_executor_job(broker.stop)
    await wait_for(lambda: not mqtt.is_connected(hass), what="MQTT disconnected")
    for entity_id in (
        f"binary_sensor.{BOX}_connectivity",
        "sensor.ghost_status",
        "sensor.attic_voice_assistant_assistant_state",
    ):
        await wait_for(
            lambda e=entity_id: state(hass, e) == STATE_UNAVAILABLE,
            what=f"{entity_id} unavailable",
        )
    await wait_for(
        lambda: (
            state(hass, "binary_sensor.voice_assistant_mqtt_mqtt_connection")
            == STATE_OFF
        ),
        what="the bridge shows the broker gone",
    )

    # Home Assistant restarts the integration meanwhile: what it knew is gone.
    assert await hass.config_entries.async_reload(voice.entry_id)
    await hass.async_block_till_done()

    await hass.async_add_executor_job(broker.start)
    await wait_for(lambda: mqtt.is_connected(hass), what="reconnected")
    # The true states come back from the retained messages the broker replays.
    await wait_for(
        lambda: state(hass, "sensor.ghost_status") == "paused", what="ghost replayed"
    )
    await wait_for(
        lambda: (
            state(hass, "sensor.attic_voice_assistant_assistant_state") == "listening"
        ),
        what="the attic replayed",
    )
    await wait_for(
        lambda: state(hass, f"binary_sensor.{BOX}_connectivity") == STATE_ON,
        what="the box online again",
    )
    await wait_for(
        lambda: (
            state(hass, "binary_sensor.voice_assistant_mqtt_mqtt_connection")
            == STATE_ON
        ),
        what="the bridge shows the broker back",
    )
