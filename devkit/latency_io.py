"""The wire side of scripts/benchmark --real-broker: publishers and the event watcher.

A publisher is one paho client in a thread of its own, without paho's
network thread: publish() then writes to the socket before it returns, so the
send time noted just before it is when the message left. The watcher is a
websocket client of Home Assistant, subscribed to state_changed, in a thread
with its own event loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from datetime import datetime
import json
import threading
import time
from typing import Any, Final

from paho.mqtt.client import Client
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode

from .latency_plan import Planned, render
from .latency_stats import Seen

# How long the publisher waits in select() at most while ahead of time: a
# message is never held back by more than this.
IDLE_WAIT: Final = 0.002


class LoadPublisher:
    """Publishes its share of the schedule on time, and notes when.

    Heartbeats go at QoS 0 and changes at QoS 1, as the fleet sends them.
    """

    def __init__(self, port: int, name: str, messages: Sequence[Planned]) -> None:
        """Publish messages to the broker on 127.0.0.1:port as client name."""
        self.port = port
        self.messages = messages
        self.sent: list[float] = []  # time.time() of each message handed over
        self.acked: dict[int, float] = {}  # index to time.time() of its PUBACK
        # Message ids wrap at 65,535: each is mapped to its message until acked.
        self._unacked: dict[int, int] = {}
        self.refused = 0
        self.late = 0.0  # the furthest behind schedule a message went, seconds
        self.client = Client(CallbackAPIVersion.VERSION2, client_id=name)
        # Unlimited: paho would hold back messages beyond 20 unacknowledged,
        # and then the send time would not be when they left.
        self.client.max_inflight_messages_set(0)
        self.client.on_publish = self._on_publish
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._began = 0.0

    def connect(self) -> None:
        """Connect and wait for the broker's CONNACK."""
        self.client.connect("127.0.0.1", self.port, keepalive=60)
        deadline = time.monotonic() + 10
        while not self.client.is_connected():
            if time.monotonic() > deadline:
                raise TimeoutError(f"publisher on port {self.port} not connected")
            self.client.loop(timeout=0.05)

    def start(self, began: float) -> None:
        """Begin publishing; began is the monotonic time the schedule counts from."""
        self._began = began
        self._thread.start()

    def stop(self) -> None:
        """Stop publishing at once."""
        self._stop.set()

    def join(self, timeout: float | None = None) -> None:
        """Wait until every message went out and was acknowledged (or timeout)."""
        self._thread.join(timeout)

    def close(self) -> None:
        """Disconnect (after join)."""
        self.stop()
        if not self._thread.is_alive():
            self.client.disconnect()

    def published_all(self) -> bool:
        """Tell whether every message was handed over."""
        return len(self.sent) == len(self.messages)

    def _on_publish(self, _client: Client, _userdata: Any, mid: int, *_: Any) -> None:
        if (index := self._unacked.pop(mid, None)) is not None:
            self.acked[index] = time.time()

    def _run(self) -> None:
        client = self.client
        for message in self.messages:
            due = self._began + message.at
            while (ahead := due - time.monotonic()) > 0 and not self._stop.is_set():
                client.loop(timeout=min(ahead, IDLE_WAIT))
            if self._stop.is_set():
                return
            self.late = max(self.late, -ahead)
            sent = time.time()
            topic, payload, retain = render(message, sent)
            # As the fleet does: heartbeats at QoS 0, changes at QoS 1.
            qos = 1 if message.kind.changes_state else 0
            info = client.publish(topic, payload, qos=qos, retain=retain)
            if info.rc is not MQTTErrorCode.MQTT_ERR_SUCCESS:
                self.refused += 1
            if qos:
                # Noted before the PUBACK can be read: only loop() reads it.
                # QoS 0 has no PUBACK (and its ids wrap around).
                self._unacked[info.mid] = len(self.sent)
            self.sent.append(sent)
        deadline = time.monotonic() + 10
        while self._unacked and time.monotonic() < deadline:
            client.loop(timeout=0.05)


def publish_once(port: int, messages: Sequence[tuple[str, bytes, bool]]) -> None:
    """Publish set-up messages at QoS 1 and wait until all are acknowledged."""
    client = Client(CallbackAPIVersion.VERSION2, client_id="voice_mqtt-latency-setup")
    client.max_inflight_messages_set(100)
    acked = 0

    def on_publish(*_: Any) -> None:
        nonlocal acked
        acked += 1

    client.on_publish = on_publish
    client.connect("127.0.0.1", port, keepalive=60)
    client.loop_start()
    try:
        for topic, payload, retain in messages:
            client.publish(topic, payload, qos=1, retain=retain)
        deadline = time.monotonic() + 60
        while acked < len(messages) and time.monotonic() < deadline:
            time.sleep(0.05)
        if acked < len(messages):
            raise TimeoutError(
                f"{len(messages) - acked} set-up messages not acknowledged"
            )
    finally:
        client.disconnect()
        client.loop_stop()


def parse_event(message: dict[str, Any], received: float) -> Seen | None:
    """Return a state_changed event of the websocket as a Seen, None otherwise."""
    event = message.get("event")
    if message.get("type") != "event" or not isinstance(event, dict):
        return None
    data = event.get("data") or {}
    new_state = data.get("new_state")
    if new_state is None:  # an entity removed
        return None
    fired = datetime.fromisoformat(event["time_fired"]).timestamp()
    return Seen(data["entity_id"], new_state["state"], fired, received)


class EventWatcher:
    """Keeps the state_changed events of the entities it is told to watch."""

    def __init__(
        self, base_url: str, token: str, wanted: Callable[[str], bool]
    ) -> None:
        """Watch Home Assistant at base_url, as the owner of token."""
        self.url = base_url.replace("http", "ws", 1) + "/api/websocket"
        self.token = token
        self.wanted = wanted
        self.seen: list[Seen] = []
        self.events = 0  # every state_changed event, watched or not
        self.error = ""
        self.ready = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="watcher", daemon=True)

    def start(self, timeout: float = 30) -> None:
        """Connect and subscribe; return once the subscription is confirmed."""
        self._thread.start()
        if not self.ready.wait(timeout):
            raise TimeoutError(f"the websocket did not subscribe: {self.error}")

    def stop(self) -> None:
        """Close the websocket; what was seen stays."""
        self._stop.set()
        self._thread.join(10)

    def _run(self) -> None:
        try:
            asyncio.run(self._watch())
        except Exception as err:  # noqa: BLE001 - reported, the run goes on
            self.error = f"{type(err).__name__}: {err}"
            self.ready.set()

    async def _watch(self) -> None:
        import aiohttp  # noqa: PLC0415 - Home Assistant's, as devkit.hass does

        async with (
            aiohttp.ClientSession() as session,
            session.ws_connect(self.url, max_msg_size=0) as socket,
        ):
            await socket.receive_json()  # auth_required
            await socket.send_json({"type": "auth", "access_token": self.token})
            if (answer := await socket.receive_json())["type"] != "auth_ok":
                raise RuntimeError(f"websocket: {answer}")
            await socket.send_json(
                {"id": 1, "type": "subscribe_events", "event_type": "state_changed"}
            )
            if not (answer := await socket.receive_json()).get("success"):
                raise RuntimeError(f"subscribe_events: {answer}")
            self.ready.set()
            while not self._stop.is_set():
                try:
                    message = await socket.receive(timeout=0.2)
                except TimeoutError:
                    continue
                received = time.time()  # before decoding: the decoding is ours
                if message.type is not aiohttp.WSMsgType.TEXT:
                    raise RuntimeError(f"websocket closed: {message.type.name}")
                self._take(json.loads(message.data), received)

    def _take(self, message: dict[str, Any], received: float) -> None:
        seen = parse_event(message, received)
        if seen is None:
            return
        self.events += 1
        if self.wanted(seen.entity):
            self.seen.append(seen)
