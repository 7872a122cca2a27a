"""scripts/develop's options and plumbing, --bridge above all, without Home Assistant."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
import threading
from typing import Any

import paho.mqtt.client as paho
import pytest
import pytest_socket

from devkit import develop
from devkit.bridge import state_topic
from devkit.broker import find_mosquitto
from devkit.hass.api import HomeAssistantApi


def test_bridge_is_the_demo_on_two_brokers(capsys: pytest.CaptureFixture[str]) -> None:
    plain = develop.parse_args([])
    assert (plain.bridge, plain.demo) == (False, False)
    bridged = develop.parse_args(["--bridge", "--devices", "2"])
    assert (bridged.bridge, bridged.demo, bridged.devices) == (True, True, 2)
    with pytest.raises(SystemExit) as refused:
        develop.parse_args(["--bridge", "--broker", "192.168.1.5:1883"])
    assert refused.value.code == 2
    assert "--bridge starts both brokers" in capsys.readouterr().err


class FakeApi(HomeAssistantApi):
    """Home Assistant's REST API as scripts/develop meets it: one entry each."""

    def __init__(self) -> None:
        super().__init__("http://127.0.0.1:1")
        self.calls: list[tuple[str, str, Any]] = []

    def call(
        self,
        method: str,
        path: str,
        data: Any = None,
        *,
        form: bool = False,
        timeout: float = 30,
    ) -> Any:
        self.calls.append((method, path, data))
        if path == "/api/config/config_entries/entry":
            return [
                {"domain": "mqtt", "entry_id": "m1"},
                {"domain": "voice_mqtt", "entry_id": "v1"},
            ]
        if path == "/api/config/config_entries/options/flow":
            return {"type": "form", "flow_id": "f1"}
        if path == "/api/config/config_entries/options/flow/f1":
            return {"type": "create_entry"}
        raise AssertionError(path)


def test_the_bridge_demo_turns_the_broker_health_on() -> None:
    api = FakeApi()
    state = {"broker": ["127.0.0.1", 1883]}
    develop.configure_entries(
        api,
        state,
        ("127.0.0.1", 1883),
        save=lambda _: None,
        options={"broker_health": True},
    )
    assert api.calls[1:] == [
        ("POST", "/api/config/config_entries/options/flow", {"handler": "v1"}),
        ("POST", "/api/config/config_entries/options/flow/f1", {"broker_health": True}),
    ]
    untouched = FakeApi()
    develop.configure_entries(
        untouched, state, ("127.0.0.1", 1883), save=lambda _: None
    )
    assert [path for _, path, _ in untouched.calls] == [
        "/api/config/config_entries/entry"
    ]


def test_the_welcome_names_both_brokers(capsys: pytest.CaptureFixture[str]) -> None:
    develop.print_welcome(
        8123,
        "secret",
        ("127.0.0.1", 1883),
        "ws://127.0.0.1:9001/mqtt",
        ("127.0.0.1", 1884),
    )
    said = capsys.readouterr().out
    assert "Home Assistant's broker: 127.0.0.1:1883, bridged over TLS" in said
    assert "the fleet's broker: 127.0.0.1:1884, WebSocket ws://127.0.0.1:9001" in said
    assert "binary_sensor.voice_assistant_mqtt_fleet_link" in said


@pytest.fixture
def loopback() -> Iterator[None]:
    """Real brokers on 127.0.0.1, despite Home Assistant's test plugin."""
    if find_mosquitto() is None:
        pytest.skip("the bridge needs mosquitto")
    pytest_socket.enable_socket()
    pytest_socket.socket_allow_hosts(["127.0.0.1"], allow_unix_socket=True)
    yield
    pytest_socket.disable_socket(allow_unix_socket=True)


@pytest.mark.usefixtures("loopback")
def test_start_bridge_runs_both_brokers_bridged(tmp_path: Path) -> None:
    # Free ports, not scripts/develop's usual ones, which may be taken here.
    ports = [develop.free_port() for _ in range(4)]
    state: dict[str, Any] = dict(
        zip(("broker_port", "fleet_port", "fleet_tls_port"), ports, strict=False)
    )
    with ExitStack() as stack:
        home, fleet, ws_url = develop.start_bridge(stack, state, ports[3], tmp_path)
        # Each broker where it was asked to be, remembered for the next run.
        assert (home, fleet) == (("127.0.0.1", ports[0]), ("127.0.0.1", ports[1]))
        assert ws_url == f"ws://127.0.0.1:{ports[3]}/mqtt"
        assert state == dict(
            zip(("broker_port", "fleet_port", "fleet_tls_port"), ports, strict=False)
        )
        # Home Assistant's broker says the bridge is up.
        linked = threading.Event()
        client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id="watch")
        client.on_message = lambda _c, _u, m: (
            linked.set() if m.payload == b"1" else None
        )
        client.connect(*home)
        client.subscribe(state_topic())
        client.loop_start()
        try:
            assert linked.wait(30), "the bridge did not connect"
        finally:
            client.loop_stop()
            client.disconnect()
    # Stopped with the stack: nothing listens any more.
    assert develop.free_port(home[1]) == home[1]
