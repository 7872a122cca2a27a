"""The local broker scripts/develop and these tests start: both kinds work."""

from __future__ import annotations

from pathlib import Path
import threading

import paho.mqtt.client as paho
import pytest

from devkit.broker import Broker, find_mosquitto
from devkit.tls import make_server_certificate

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


def connack(port: int, login: tuple[str, str] | None) -> str:
    """Return the broker's answer to a CONNECT, as paho names it."""
    answered: list[str] = []
    done = threading.Event()
    client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id="probe")
    if login is not None:
        client.username_pw_set(*login)

    def on_connect(*args: object) -> None:
        answered.append(str(args[3]))
        done.set()

    client.on_connect = on_connect
    client.connect("127.0.0.1", port)
    client.loop_start()
    try:
        assert done.wait(30), "no CONNACK"
    finally:
        client.loop_stop()
        client.disconnect()
    return answered[0]


@pytest.mark.skipif(find_mosquitto() is None, reason="mosquitto is not installed")
def test_mosquitto_with_users_lets_only_them_in(tmp_path: Path) -> None:
    acl = tmp_path / "acl"
    acl.write_text("user someone\ntopic readwrite a/#\n")
    acl.chmod(0o644)
    workdir = tmp_path / "broker"
    with Broker(workdir, kind="mosquitto", users={"someone": "s3"}, acl_file=acl) as b:
        assert connack(b.port, ("someone", "s3")) == "Success"
        assert connack(b.port, ("someone", "wrong")) == "Not authorized"
        assert connack(b.port, None) == "Not authorized"
    # mosquitto warns about files others can read: it reads private copies.
    for private in (workdir / "acl", workdir / "passwd"):
        assert private.stat().st_mode & 0o077 == 0, private
    assert (workdir / "acl").read_text() == acl.read_text()
    assert "world readable" not in (workdir / "mosquitto.out").read_text()


def test_users_and_an_acl_need_mosquitto(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="need mosquitto"):
        Broker(tmp_path, kind="amqtt", users={"someone": "s3"}).start()
    with pytest.raises(RuntimeError, match="need mosquitto"):
        Broker(tmp_path, kind="amqtt", acl_file=tmp_path / "acl").start()


@pytest.mark.skipif(find_mosquitto() is None, reason="mosquitto is not installed")
def test_a_username_with_a_colon_is_refused_clearly(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match=r"mosquitto_passwd refused 'cc:ba'.*':'"):
        Broker(tmp_path, kind="mosquitto", users={"cc:ba": "s3"}).start()


@pytest.mark.skipif(find_mosquitto() is None, reason="mosquitto is not installed")
def test_mosquitto_over_tls_keeps_retained_messages_through_a_kill(
    tmp_path: Path,
) -> None:
    certificate = make_server_certificate(tmp_path / "tls")
    broker = Broker(
        tmp_path / "broker", kind="mosquitto", tls=certificate, save_on_change=True
    )
    with broker:
        assert broker.tls_port
        client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id="tls")
        # Checked as a bridge checks it: our CA, and the address dialled.
        client.tls_set(ca_certs=str(certificate.cafile))
        client.connect("127.0.0.1", broker.tls_port)
        client.loop_start()
        try:
            info = client.publish("a/kept", b"through a kill", qos=1, retain=True)
            info.wait_for_publish(30)
            assert info.is_published()
        finally:
            client.loop_stop()
            client.disconnect()
        broker.kill()  # SIGKILL: nothing saved at the end
        broker.start()
        kept: list[bytes] = []
        arrived = threading.Event()

        def on_message(_c: paho.Client, _u: object, message: paho.MQTTMessage) -> None:
            kept.append(message.payload)
            arrived.set()

        listener = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id="after")
        listener.on_message = on_message
        listener.connect("127.0.0.1", broker.port)
        listener.subscribe("a/kept", qos=1)
        listener.loop_start()
        try:
            assert arrived.wait(30), "the retained message did not survive"
        finally:
            listener.loop_stop()
            listener.disconnect()
        assert kept == [b"through a kill"]


def test_tls_and_saving_on_change_need_mosquitto(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="need mosquitto"):
        Broker(tmp_path, kind="amqtt", save_on_change=True).start()
