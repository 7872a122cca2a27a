"""Least privilege: mosquitto enforces docs/mosquitto/acl, and everything works.

Home Assistant, the backend, an admin panel and every device log in as their
own users. mosquitto drops a denied MQTT 3.1.1 publish silently (it still
acknowledges it), so a denial is proven by a later, allowed message from the
same connection: once it arrived, the denied one would have arrived before it.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable, Iterable
from dataclasses import replace
import json
from pathlib import Path
import threading
from typing import Any

from homeassistant.const import STATE_OFF, STATE_ON
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
import paho.mqtt.client as paho
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.voice_mqtt.const import (
    CONF_ADMIN_SNAPSHOT,
    CONF_BROKER_HEALTH,
    DOMAIN,
)
from devkit.broker import Broker, default_kind
from simulator import BrokerAddress, Kind, Simulator

from .conftest import WITHIN, wait_for
from .test_fleet import BOX, BROWSER, HEADSET, MAC, attribute, driven, state

ACL = Path(__file__).parents[2] / "docs" / "mosquitto" / "acl"
# Test-only passwords, one per login; the devices share theirs.
PASSWORDS = {
    "homeassistant": "ha-secret",
    "voice_backend": "backend-secret",
    "admin_panel": "admin-secret",
}
DEVICE_PASSWORD = "device-secret"  # noqa: S105 - a throwaway test broker
# The fleet's devices log in as their ids; the voice box, known by its MAC,
# as the MAC without colons (a mosquitto username cannot hold ":").
DEVICE_USERS = ("ccba97110e84", "VR_0001", "BR_0001")
VOICE = "v1/voice_assistant/room/+/session/+/#"


def acl_grants(text: str) -> dict[str, set[tuple[str, str]]]:
    """Return each user's `topic` lines of an ACL file as (access, topic)."""
    grants: dict[str, set[tuple[str, str]]] = {}
    user = ""
    for line in text.splitlines():
        words = line.split(" ")
        if words[0] == "user":
            user = words[1]
        elif words[0] == "topic":
            grants.setdefault(user, set()).add((words[1], words[2]))
    return grants


class Login:
    """A plain MQTT client (3.1.1, as devices are) logged in as one ACL user."""

    def __init__(
        self, port: int, username: str, client_id: str, topics: Iterable[str] = ()
    ) -> None:
        password = PASSWORDS.get(username, DEVICE_PASSWORD)
        self.messages: list[paho.MQTTMessage] = []
        self._changed = threading.Condition()
        self._acked: set[int] = set()
        self._client = paho.Client(
            paho.CallbackAPIVersion.VERSION2, client_id=client_id
        )
        self._client.username_pw_set(username, password)
        self._client.on_message = self._on_message
        self._client.on_subscribe = self._on_subscribe
        self._client.connect("127.0.0.1", port)
        self._client.loop_start()
        if filters := [(topic, 1) for topic in topics]:
            _, mid = self._client.subscribe(filters)
            self.wait_for(lambda: mid in self._acked, f"{username} subscribed")

    def _on_message(self, _c: paho.Client, _u: object, msg: paho.MQTTMessage) -> None:
        with self._changed:
            self.messages.append(msg)
            self._changed.notify_all()

    def _on_subscribe(self, _c: paho.Client, _u: object, mid: int, *_: Any) -> None:
        with self._changed:
            self._acked.add(mid)
            self._changed.notify_all()

    def wait_for(self, condition: Callable[[], bool], what: str) -> None:
        with self._changed:
            assert self._changed.wait_for(condition, WITHIN), what

    def heard(self, topic: str) -> list[Any]:
        with self._changed:
            return [
                json.loads(m.payload) if m.payload else None
                for m in self.messages
                if m.topic == topic
            ]

    def publish(self, topic: str, payload: Any, retain: bool = False) -> None:
        """Publish at QoS 1; the broker acknowledges denied messages too."""
        info = self._client.publish(topic, json.dumps(payload), qos=1, retain=retain)
        info.wait_for_publish(WITHIN)
        assert info.is_published(), topic

    def close(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()


@pytest.fixture
async def broker(hass: HomeAssistant, tmp_path: Path) -> AsyncGenerator[Broker]:
    """mosquitto with the users and the ACL file of docs/broker-acl.md."""
    if default_kind() != "mosquitto":
        pytest.skip("the ACL run needs mosquitto: amqtt enforces no ACL file")
    users = PASSWORDS | dict.fromkeys(DEVICE_USERS, DEVICE_PASSWORD)
    running = Broker(tmp_path / "broker", users=users, acl_file=ACL)
    await hass.async_add_executor_job(running.start)
    yield running
    await hass.async_add_executor_job(running.stop)


@pytest.fixture
def mqtt_login() -> dict[str, str]:
    """Home Assistant logs in as its own user."""
    return {"username": "homeassistant", "password": PASSWORDS["homeassistant"]}


@pytest.fixture
def voice_options() -> dict[str, Any]:
    """The options that need lines of their own: the snapshot, the broker's health."""
    return {CONF_ADMIN_SNAPSHOT: True, CONF_BROKER_HEALTH: True}


@pytest.fixture
async def fleet(
    hass: HomeAssistant, broker: Broker, voice: MockConfigEntry
) -> AsyncGenerator[Simulator]:
    """The backend on its user, each device on its own, doing nothing unasked."""
    options = replace(
        driven(broker, rooms=1, seed=1),
        broker=BrokerAddress(
            port=broker.port,
            username="voice_backend",
            password=PASSWORDS["voice_backend"],
        ),
        device_password=DEVICE_PASSWORD,
    )
    simulator = Simulator(options)
    assert [spec.username for spec in simulator.devices] == list(DEVICE_USERS)
    await hass.async_add_executor_job(simulator.start)
    await wait_for(
        lambda: state(hass, "sensor.voice_assistant_mqtt_devices_online") == "3",
        what="three devices online, each on its own login",
    )
    yield simulator
    await hass.async_add_executor_job(simulator.stop)


async def call(hass: HomeAssistant, action: str, data: dict[str, Any]) -> Any:
    return await hass.services.async_call(
        DOMAIN, action, data, blocking=True, return_response=True
    )


async def test_every_feature_works_under_the_acl(
    hass: HomeAssistant,
    broker: Broker,
    voice: MockConfigEntry,
    fleet: Simulator,
    device_registry: dr.DeviceRegistry,
) -> None:
    hub = voice.runtime_data
    # Every filter voice_mqtt holds is a read line of Home Assistant's user,
    # as it is: a new subscription cannot be forgotten in the ACL.
    granted = acl_grants(ACL.read_text())["homeassistant"]
    assert {("read", topic) for topic in hub.subscriptions} <= granted
    for device in (BOX, HEADSET, BROWSER):
        await wait_for(
            lambda d=device: state(hass, f"sensor.{d}_status") == "idle",
            what=f"{device} idle",
        )

    # The backend's conversation reaches the room's sensors.
    session = await hass.async_add_executor_job(
        lambda: fleet.run_conversation("living_room", streamed=True, chunks=5)
    )
    room = "living_room_voice_assistant"
    await wait_for(
        lambda: (
            state(hass, f"sensor.{room}_assistant_state") == "idle"
            and attribute(hass, f"sensor.{room}_transcript", "session_id") == session
            and attribute(hass, f"sensor.{room}_response", "session_id") == session
            and attribute(hass, f"sensor.{room}_response", "streaming") is False
        ),
        what="the conversation shown, transcript and answer",
    )

    # ws_start reaches the box on its MAC's down topic.
    box = device_registry.async_get_device_by_identifier(
        (DOMAIN, f"{voice.entry_id}_device_{MAC}"), voice.entry_id
    )
    assert box is not None
    await call(hass, "ws_start", {"device": box.id, "url": "wss://voice.example/ws"})
    woken = await hass.async_add_executor_job(
        lambda: fleet.wait_for(lambda r: r.kind is Kind.WS_START, WITHIN)
    )
    assert (woken.receiver, woken.topic) == (MAC, f"xiaozhi/{MAC}/down")

    # display_action reaches the backend.
    await call(hass, "display_action", {"room": "living_room", "type": "weather"})
    shown = await hass.async_add_executor_job(
        lambda: fleet.wait_for(lambda r: r.kind is Kind.DISPLAY_ACTION, WITHIN)
    )
    assert shown.topic == (
        f"v1/voice_assistant/room/living_room/session/{session}/display_action"
    )

    # A device command, one that answers, and a session command.
    await call(hass, "send_command", {"device": "VR_0001", "command": "play"})
    await wait_for(
        lambda: state(hass, f"sensor.{HEADSET}_status") == "playing",
        what="the headset playing",
    )
    answer = await call(
        hass,
        "send_command",
        {"device": "VR_0001", "command": "get_status", "wait_for_response": True},
    )
    assert answer["status"] == "success"
    assert answer["result"]["status"] == "playing"
    await call(
        hass,
        "send_command",
        {"device": "VR_0001", "command": "join", "payload": {"sessionId": "S_ACL"}},
    )
    # The headset subscribes to the session before its status says it joined.
    await wait_for(
        lambda: hub.devices["VR_0001"].session_id == "S_ACL", what="joined S_ACL"
    )
    await call(hass, "send_command", {"session": "S_ACL", "command": "pause"})
    paused = await hass.async_add_executor_job(
        lambda: fleet.wait_for(lambda r: r.topic.startswith("sessions/"), WITHIN)
    )
    assert (paused.receiver, paused.topic) == (
        "VR_0001",
        "sessions/S_ACL/commands/pause",
    )

    # An admin panel asks for the snapshot; Home Assistant publishes it.
    panel = await hass.async_add_executor_job(
        lambda: Login(broker.port, "admin_panel", "panel", ["admin/devices/snapshot"])
    )
    try:
        await hass.async_add_executor_job(panel.publish, "admin/request/snapshot", {})
        await wait_for(lambda: hub.intake.received["admin"] == 1, what="request heard")
        await hass.async_add_executor_job(
            panel.wait_for,
            lambda: any(
                not m.retain and len(json.loads(m.payload)["devices"]) == 3
                for m in panel.messages
            ),
            "a snapshot of three devices",
        )
    finally:
        await hass.async_add_executor_job(panel.close)

    # mosquitto's $SYS figures (retained: they came with the subscription).
    await wait_for(
        lambda: (
            state(hass, "sensor.voice_assistant_mqtt_broker_version") or ""
        ).startswith("mosquitto version"),
        what="the broker's version shown",
    )

    # The broker publishes the headset's will under the headset's user.
    await hass.async_add_executor_job(fleet.drop_device, "VR_0001")
    await wait_for(
        lambda: state(hass, f"binary_sensor.{HEADSET}_connectivity") == STATE_OFF,
        what="the will marked the headset offline",
    )


async def test_a_device_cannot_speak_for_another_or_for_the_backend(
    hass: HomeAssistant, broker: Broker, voice: MockConfigEntry, fleet: Simulator
) -> None:
    hub = voice.runtime_data
    port = broker.port
    panel = await hass.async_add_executor_job(
        lambda: Login(port, "admin_panel", "panel", ["devices/+/+", VOICE])
    )
    # The headset's user, on a connection of its own, listening to commands.
    rogue = await hass.async_add_executor_job(
        lambda: Login(port, "VR_0001", "rogue", ["devices/+/commands/+"])
    )
    denied = {
        "devices/BR_0001/status": {"status": "hijacked"},
        "devices/BR_0001/lwt": {"status": "offline"},
        "devices/BR_0001/commands/stop": {"rogue": True},
        "v1/voice_assistant/room/attic/session/EVIL/state": {"state": "hijacked"},
        "v1/voice_assistant/room/attic/session/EVIL/display_action": {"type": "x"},
    }
    marker = {"marker": "after the denied messages"}
    try:
        for topic, payload in denied.items():
            await hass.async_add_executor_job(rogue.publish, topic, payload, True)
        await hass.async_add_executor_job(
            rogue.publish, "devices/VR_0001/events", marker
        )
        # Whoever heard the marker would have heard the denied ones first.
        await hass.async_add_executor_job(
            panel.wait_for,
            lambda: panel.heard("devices/VR_0001/events") == [marker],
            "the panel heard the marker",
        )
        for topic, payload in denied.items():
            assert payload not in panel.heard(topic), topic
        await wait_for(
            lambda: (
                (event := hub.devices["VR_0001"].event) is not None
                and event.data == marker
            ),
            what="Home Assistant heard the marker",
        )
        assert hub.rooms == {}
        assert (hub.devices["BR_0001"].status, hub.devices["BR_0001"].online) == (
            "idle",
            True,
        )
        assert state(hass, f"binary_sensor.{BROWSER}_connectivity") == STATE_ON

        # Commands from Home Assistant, the browser's first: the browser gets
        # its own (not the rogue's stop), the rogue only the headset's.
        await call(hass, "send_command", {"device": "BR_0001", "command": "pause"})
        await call(hass, "send_command", {"device": "VR_0001", "command": "pause"})
        await hass.async_add_executor_job(
            rogue.wait_for,
            lambda: len(rogue.heard("devices/VR_0001/commands/pause")) == 1,
            "the rogue heard the headset's command",
        )
        assert rogue.heard("devices/BR_0001/commands/pause") == []
        got = await hass.async_add_executor_job(
            lambda: fleet.wait_for(lambda r: r.receiver == "BR_0001", WITHIN)
        )
        assert got.topic == "devices/BR_0001/commands/pause"

        # Home Assistant's user cannot speak for a device either.
        ha = await hass.async_add_executor_job(
            lambda: Login(port, "homeassistant", "impostor")
        )
        try:
            await hass.async_add_executor_job(
                ha.publish, "devices/BR_0001/status", {"status": "hijacked"}
            )
            done = "v1/voice_assistant/room/attic/session/S1/display_action"
            await hass.async_add_executor_job(ha.publish, done, {"type": "marker"})
        finally:
            await hass.async_add_executor_job(ha.close)
        await hass.async_add_executor_job(
            panel.wait_for, lambda: bool(panel.heard(done)), "the panel heard it"
        )
        assert {"status": "hijacked"} not in panel.heard("devices/BR_0001/status")
    finally:
        await hass.async_add_executor_job(rogue.close)
        await hass.async_add_executor_job(panel.close)
