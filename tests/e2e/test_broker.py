"""The local broker scripts/develop and these tests start: both kinds work."""

from __future__ import annotations

from pathlib import Path
import threading

import paho.mqtt.client as paho
import pytest

from devkit.broker import Broker, find_mosquitto

KINDS = ["amqtt"] + (["mosquitto"] if find_mosquitto() else [])


@pytest.mark.parametrize("kind", KINDS)
def test_broker_carries_retained_messages_and_wills(tmp_path: Path, kind: str) -> None:
    with Broker(tmp_path, kind=kind) as broker:
        received: dict[str, bytes] = {}
        arrived = threading.Event()

        def on_message(
            _client: paho.Client, _data: object, message: paho.MQTTMessage
        ) -> None:
            received[message.topic] = message.payload
            if {"a/retained", "a/will"} <= received.keys():
                arrived.set()

        dying = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id="dying")
        dying.will_set("a/will", b"gone", qos=1, retain=True)
        dying.connect("127.0.0.1", broker.port)
        dying.loop_start()
        dying.publish("a/retained", b"kept", qos=1, retain=True).wait_for_publish(30)
        dying.loop_stop()
        dying.socket().close()  # dies without a DISCONNECT: the broker sends the will

        listener = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id="listener")
        listener.on_message = on_message
        listener.connect("127.0.0.1", broker.port)
        listener.subscribe("a/#", qos=1)
        listener.loop_start()
        try:
            assert arrived.wait(30), received
        finally:
            listener.loop_stop()
            listener.disconnect()
        assert received == {"a/retained": b"kept", "a/will": b"gone"}


@pytest.mark.parametrize("kind", KINDS)
def test_broker_speaks_mqtt_over_websocket(tmp_path: Path, kind: str) -> None:
    with Broker(tmp_path, kind=kind, ws_port=0) as broker:
        assert broker.ws_port is not None
        echoed = threading.Event()
        client = paho.Client(
            paho.CallbackAPIVersion.VERSION2,
            client_id="browser",
            transport="websockets",
        )
        client.ws_set_options(path="/mqtt")
        client.on_message = lambda *_: echoed.set()
        client.on_connect = lambda c, *_: (
            c.subscribe("b/echo", qos=1),
            c.publish("b/echo", b"hi", qos=1),
        )
        client.connect("127.0.0.1", broker.ws_port)
        client.loop_start()
        try:
            assert echoed.wait(30), "nothing came back over the WebSocket"
        finally:
            client.loop_stop()
            client.disconnect()
