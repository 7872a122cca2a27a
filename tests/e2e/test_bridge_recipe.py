"""The bridge recipe on two real mosquittos: docs/mosquitto/bridge.conf as shipped.

Home Assistant's broker runs the recipe with two lines replaced (its address
and its CA file) and bridges over TLS to the fleet's broker, which enforces
the fleet's ACL (docs/mosquitto/acl): the bridge logs in as the recipe's
remote_username, Home Assistant's login there. The test's own clients log in
on the fleet as `tester`, allowed everything, so that they can publish and
read on either side of every line.

No Home Assistant here: plain MQTT clients on both sides.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
import json
import os
from pathlib import Path
import re
import signal
import socket
import threading
import time
from typing import Any

import paho.mqtt.client as paho
import pytest

from devkit.bridge import RECIPE, BridgedBrokers, recipe_lines, recipe_value
from devkit.broker import Broker, find_mosquitto
from devkit.tls import make_server_certificate

from .conftest import WITHIN

pytestmark = pytest.mark.skipif(
    find_mosquitto() is None, reason="bridges are mosquitto's: it is not installed"
)

ACL = Path(__file__).parents[2] / "docs" / "mosquitto" / "acl"
TESTER = ("tester", "tester-secret")
# After the last awaited message, how long an unwanted copy (a loop, a line
# in the wrong direction) would have had to show up. Loopback round trips
# through both brokers take milliseconds; a loop would not stop at one copy.
GRACE = 1.5


@dataclass(frozen=True, slots=True)
class Line:
    """One active `topic` line of the recipe."""

    pattern: str
    direction: str  # in, out or both
    qos: int

    @property
    def sample(self) -> str:
        """Return a topic the pattern matches, each + a level of its own."""
        levels = self.pattern.split("/")
        return "/".join(
            f"x{index}" if level == "+" else level for index, level in enumerate(levels)
        )


def recipe_topics(recipe: Path = RECIPE) -> list[Line]:
    """Return the recipe's active topic lines."""
    found = []
    for line in recipe.read_text().splitlines():
        if line.startswith("topic "):
            _, pattern, direction, qos = line.split(" ")
            found.append(Line(pattern, direction, int(qos)))
    return found


class Client:
    """A plain MQTT client that records what it receives (topic, payload, qos, retain)."""

    def __init__(
        self,
        port: int,
        client_id: str,
        topics: tuple[str, ...] = (),
        login: tuple[str, str] | None = None,
        will: tuple[str, bytes] | None = None,
    ) -> None:
        self.messages: list[paho.MQTTMessage] = []
        self._changed = threading.Condition()
        self._acked: set[int] = set()
        self._client = paho.Client(
            paho.CallbackAPIVersion.VERSION2, client_id=client_id
        )
        if login is not None:
            self._client.username_pw_set(*login)
        if will is not None:
            self._client.will_set(will[0], will[1], qos=1, retain=True)
        self._client.on_message = self._on_message
        self._client.on_subscribe = self._on_subscribe
        self._client.connect("127.0.0.1", port)
        self._client.loop_start()
        if topics:
            _, mid = self._client.subscribe([(topic, 2) for topic in topics])
            self.wait_for(lambda: mid in self._acked, f"{client_id} subscribed")

    def _on_message(self, _c: paho.Client, _u: object, msg: paho.MQTTMessage) -> None:
        with self._changed:
            self.messages.append(msg)
            self._changed.notify_all()

    def _on_subscribe(self, _c: paho.Client, _u: object, mid: int, *_: Any) -> None:
        with self._changed:
            self._acked.add(mid)
            self._changed.notify_all()

    def wait_for(
        self, condition: Callable[[], bool], what: str, within: float = WITHIN
    ) -> None:
        with self._changed:
            assert self._changed.wait_for(condition, within), what

    def got(self, topic: str, payload: bytes | None = None) -> list[paho.MQTTMessage]:
        with self._changed:
            return [
                m
                for m in self.messages
                if m.topic == topic and (payload is None or m.payload == payload)
            ]

    def wait_got(
        self, topic: str, payload: bytes | None = None, within: float = WITHIN
    ) -> paho.MQTTMessage:
        self.wait_for(
            lambda: bool(self.got(topic, payload)), f"{topic} {payload!r}", within
        )
        return self.got(topic, payload)[0]

    def publish(
        self, topic: str, payload: bytes, qos: int = 1, retain: bool = False
    ) -> None:
        info = self._client.publish(topic, payload, qos=qos, retain=retain)
        info.wait_for_publish(WITHIN)
        assert info.is_published(), topic

    def crash(self) -> None:
        """Close the connection without a DISCONNECT: the broker sends the will."""
        sock = self._client.socket()
        if isinstance(sock, socket.socket):
            sock.shutdown(socket.SHUT_RDWR)
        self._client.loop_stop()

    def close(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()


@pytest.fixture
def bridged(tmp_path: Path) -> Iterator[BridgedBrokers]:
    """The fleet's broker under its ACL, and Home Assistant's running the recipe."""
    acl = tmp_path / "acl"
    # The fleet's ACL as shipped, and an all-seeing login for the test's probes.
    acl.write_text(f"{ACL.read_text()}\nuser {TESTER[0]}\ntopic readwrite #\n")
    brokers = BridgedBrokers(
        tmp_path / "brokers",
        fleet_users={
            recipe_value("remote_username"): recipe_value("remote_password"),
            TESTER[0]: TESTER[1],
        },
        fleet_acl=acl,
    )
    brokers.start()
    yield brokers
    brokers.stop()


def fleet_client(
    brokers: BridgedBrokers, client_id: str, *topics: str, **kwargs: Any
) -> Client:
    return Client(brokers.fleet.port, client_id, topics, login=TESTER, **kwargs)


def home_client(brokers: BridgedBrokers, client_id: str, *topics: str) -> Client:
    return Client(brokers.home.port, client_id, topics)


def linked(brokers: BridgedBrokers, home: Client | None = None) -> None:
    """Wait until the bridge's latest state on Home Assistant's broker is 1.

    As home heard it (subscribed to the state), or a client of its own.
    """
    watch = home or Client(brokers.home.port, "link", (brokers.state_topic,))
    try:
        watch.wait_for(
            lambda: [m.payload for m in watch.got(brokers.state_topic)][-1:] == [b"1"],
            "the bridge connected",
        )
    finally:
        if home is None:
            watch.close()


def test_the_recipe_is_one_directive_a_line() -> None:
    text = RECIPE.read_text()
    for line in text.splitlines():
        if line and not line.startswith("#"):
            assert re.fullmatch(r"[a-z_0-9]+( \S+)+", line), line
    # The lines users adapt are there once each, with their placeholders.
    assert recipe_value("address") == "fleet.example.com:8883"
    assert recipe_value("bridge_cafile") == "/ssl/fleet-ca.crt"
    assert "CHANGE-ME" in recipe_value("remote_clientid")
    # One line a voice message type, none of them overlapping another.
    patterns = [line.pattern for line in recipe_topics()]
    assert len(patterns) == len(set(patterns))
    assert all("#" not in pattern for pattern in patterns)


def test_the_bridge_connects_over_tls_and_says_so(bridged: BridgedBrokers) -> None:
    home = home_client(bridged, "watch", bridged.state_topic)
    try:
        linked(bridged, home)
    finally:
        home.close()
    # A late subscriber gets the state retained, as voice_mqtt after a restart.
    late = home_client(bridged, "late", "$SYS/broker/connection/+/state")
    try:
        state = late.wait_got(bridged.state_topic)
        assert (state.payload, state.retain) == (b"1", True)
    finally:
        late.close()
    # notifications_local_only: nothing about the bridge on the fleet's broker.
    fleet = fleet_client(bridged, "fleet-watch", "$SYS/broker/connection/#")
    try:
        time.sleep(GRACE)
        assert fleet.messages == []
    finally:
        fleet.close()


def test_a_fleet_whose_certificate_another_ca_signed_is_refused(
    tmp_path: Path,
) -> None:
    fleet = Broker(
        tmp_path / "fleet",
        kind="mosquitto",
        tls=make_server_certificate(tmp_path / "tls"),
    )
    stranger = make_server_certificate(tmp_path / "other").cafile
    with fleet:
        lines = recipe_lines(f"127.0.0.1:{fleet.tls_port}", stranger)
        with Broker(tmp_path / "home", kind="mosquitto", extra_config=tuple(lines)):
            log = tmp_path / "home" / "mosquitto.out"
            deadline = time.monotonic() + WITHIN
            while "certificate verify failed" not in log.read_text():
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.1)


def test_every_line_carries_its_own_way_at_its_qos(bridged: BridgedBrokers) -> None:
    lines = recipe_topics()
    assert {line.direction for line in lines} == {"in", "out", "both"}
    fleet_ear = fleet_client(bridged, "fleet-ear", "#")
    home_ear = home_client(bridged, "home-ear", "#")
    fleet_mouth = fleet_client(bridged, "fleet-mouth")
    home_mouth = home_client(bridged, "home-mouth")
    try:
        linked(bridged)
        # Every line both ways, at QoS 1; each message names where it began.
        for line in lines:
            fleet_mouth.publish(line.sample, b"from the fleet")
            home_mouth.publish(line.sample, b"from home")
        for line in lines:
            if line.direction in ("in", "both"):
                message = home_ear.wait_got(line.sample, b"from the fleet")
                assert message.qos == min(1, line.qos), line
            if line.direction in ("out", "both"):
                message = fleet_ear.wait_got(line.sample, b"from home")
                assert message.qos == min(1, line.qos), line
        time.sleep(GRACE)
        for line in lines:
            # What came across came once; what goes the other way did not come.
            crossed_in = home_ear.got(line.sample, b"from the fleet")
            crossed_out = fleet_ear.got(line.sample, b"from home")
            assert len(crossed_in) == (line.direction != "out"), line
            assert len(crossed_out) == (line.direction != "in"), line
            # Each side hears its own publisher once: nothing came back.
            assert len(home_ear.got(line.sample, b"from home")) == 1, line
            assert len(fleet_ear.got(line.sample, b"from the fleet")) == 1, line
    finally:
        for client in (fleet_ear, home_ear, fleet_mouth, home_mouth):
            client.close()


def test_ws_start_keeps_qos_1_end_to_end(bridged: BridgedBrokers) -> None:
    topic = "xiaozhi/cc:ba:97:11:0e:84/down"
    box = fleet_client(bridged, "box", topic)
    home = home_client(bridged, "home")
    try:
        linked(bridged)
        payload = json.dumps({"type": "ws_start", "wss": "wss://x/ws", "version": 3})
        home.publish(topic, payload.encode(), qos=1)
        message = box.wait_got(topic)
        assert (message.payload, message.qos, message.retain) == (
            payload.encode(),
            1,
            False,
        )
    finally:
        box.close()
        home.close()


def test_retained_statuses_and_real_wills_reach_home(bridged: BridgedBrokers) -> None:
    status = json.dumps({"deviceId": "VR_1", "status": "idle"}).encode()
    will = json.dumps({"deviceId": "VR_1", "status": "offline"}).encode()
    home = home_client(bridged, "home", "devices/+/+")
    device = fleet_client(bridged, "VR_1", will=("devices/VR_1/lwt", will))
    try:
        linked(bridged)
        device.publish("devices/VR_1/status", status, retain=True)
        # A subscriber already there gets what crosses live, retain flag 0,
        device.crash()
        for topic, payload in (
            ("devices/VR_1/status", status),
            ("devices/VR_1/lwt", will),
        ):
            assert not home.wait_got(topic, payload).retain
        # and Home Assistant's broker keeps both retained: the status, and the
        # Last Will the fleet's broker sent when the device's connection died.
        late = home_client(bridged, "late", "devices/+/+")
        try:
            for topic, payload in (
                ("devices/VR_1/status", status),
                ("devices/VR_1/lwt", will),
            ):
                assert late.wait_got(topic, payload).retain
        finally:
            late.close()
    finally:
        device.close()
        home.close()


@pytest.mark.timeout(180)
def test_a_killed_fleet_broker_is_seen_and_the_link_comes_back(
    bridged: BridgedBrokers,
) -> None:
    fresh = json.dumps({"status": "playing", "timestamp": "2030-01-01T00:00:02Z"})
    stale = json.dumps({"status": "idle", "timestamp": "2030-01-01T00:00:01Z"})
    topic = "devices/VR_9/status"
    fleet = fleet_client(bridged, "fleet")
    home = home_client(bridged, "home", bridged.state_topic, "devices/+/+")
    try:
        linked(bridged, home)
        fleet.publish(topic, fresh.encode(), retain=True)
        home.wait_got(topic, fresh.encode())
        fleet.close()
        # A stale copy on Home Assistant's broker, as an older bridge or a
        # mistake can leave: the status line is "in", so it stays local.
        home.publish(topic, stale.encode(), retain=True)

        before = len(home.messages)
        killed = time.monotonic()
        bridged.kill_fleet()
        home.wait_for(
            lambda: any(m.payload == b"0" for m in home.messages[before:]),
            "the bridge's state 0",
            10,
        )
        seen_down = time.monotonic() - killed
        # A command while the link is down: acknowledged by Home Assistant's
        # broker, queued nowhere (cleansession true), lost.
        home.publish("devices/VR_9/commands/play", b'{"lost": true}')

        started = time.monotonic()
        bridged.restart_fleet()
        after = len(home.messages)
        home.wait_for(
            lambda: any(m.payload == b"1" for m in home.messages[after:]),
            "the bridge's state 1 again",
            40,
        )
        seen_up = time.monotonic() - started
        # The fleet's retained status comes again, to a subscriber that was
        # there all along: as a live message, retain flag 0.
        home.wait_for(
            lambda: any(
                m.topic == topic and m.payload == fresh.encode()
                for m in home.messages[after:]
            ),
            "the fleet's status replayed",
        )
        replayed = next(m for m in home.messages[after:] if m.payload == fresh.encode())
        assert not replayed.retain
        print(  # noqa: T201 - the figures of docs/bridge.md, shown with -s
            f"\nbridge down seen after {seen_down:.2f} s (SIGKILL of the fleet's "
            f"broker); up again {seen_up:.2f} s after its restart"
        )
        assert seen_down < 5

        again = fleet_client(bridged, "again", topic, "devices/VR_9/commands/+")
        try:
            # The fleet's copy is still the fresh one: the local one stayed home.
            assert again.wait_got(topic).payload == fresh.encode()
            home.publish("devices/VR_9/commands/play", b'{"after": true}')
            again.wait_got("devices/VR_9/commands/play", b'{"after": true}')
            assert again.got("devices/VR_9/commands/play", b'{"lost": true}') == []
        finally:
            again.close()
    finally:
        home.close()


@pytest.mark.timeout(180)
def test_a_silent_fleet_broker_is_found_by_the_keepalive(
    bridged: BridgedBrokers,
) -> None:
    # A frozen broker (SIGSTOP) keeps its TCP connections open and answers
    # nothing, as a link that died without a word: only the bridge's MQTT
    # keepalive finds it, one interval to send a PINGREQ after the last
    # packet heard and one more to give up on its answer.
    keepalive = int(recipe_value("keepalive_interval"))
    home = home_client(bridged, "home", bridged.state_topic)
    process = bridged.fleet.process
    assert process is not None
    try:
        linked(bridged, home)
        before = len(home.messages)
        frozen = time.monotonic()
        os.kill(process.pid, signal.SIGSTOP)
        try:
            home.wait_for(
                lambda: any(m.payload == b"0" for m in home.messages[before:]),
                "the bridge's state 0",
                2 * keepalive + 5,
            )
            found = time.monotonic() - frozen
        finally:
            os.kill(process.pid, signal.SIGCONT)
        print(  # noqa: T201 - the figure of docs/bridge.md, shown with -s
            f"\na silent fleet broker found after {found:.1f} s "
            f"(keepalive_interval {keepalive})"
        )
        assert keepalive - 1 <= found <= 2 * keepalive + 2
        linked(bridged, home)
    finally:
        home.close()


def test_a_both_line_would_push_stale_retained_copies_to_the_fleet(
    tmp_path: Path,
) -> None:
    # Why retained topics go one way: the same recipe with the status line
    # made "both" overwrites the fleet's fresh status with the stale copy on
    # Home Assistant's broker as soon as the bridge connects.
    recipe = tmp_path / "bridge.conf"
    recipe.write_text(
        RECIPE.read_text().replace(
            "topic devices/+/status in 1", "topic devices/+/status both 1"
        )
    )
    brokers = BridgedBrokers(tmp_path / "brokers", recipe=recipe)
    topic = "devices/VR_9/status"
    # Each broker on its own first, the bridge not yet configured: a fresh
    # status on the fleet's, a stale copy on Home Assistant's.
    for broker, payload in ((brokers.fleet, b"fresh"), (brokers.home, b"stale")):
        with broker:
            client = Client(broker.port, "publisher")
            client.publish(topic, payload, retain=True)
            client.close()
    with brokers:
        linked(brokers)
        fleet = Client(brokers.fleet.port, "fleet", (topic,))
        try:
            fleet.wait_got(topic, b"stale")
            time.sleep(GRACE)
            late = Client(brokers.fleet.port, "late", (topic,))
            assert late.wait_got(topic).payload == b"stale"
            late.close()
        finally:
            fleet.close()
