"""The soak's fuzzer on the wire: one paho client publishing a plan, paced.

Its own client id, QoS 1 (so that "sent" means the broker acknowledged it),
at most rate messages a second, and never more than a window of messages
waiting for their acknowledgement.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
import threading
import time
from typing import Any, Final

from paho.mqtt.client import Client, MQTTMessageInfo
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode

from .fuzz import FuzzMessage, Kind

CLIENT_ID: Final = "voice_mqtt-soak-fuzzer"
WINDOW: Final = 1_000  # published, not yet acknowledged


class Publisher:
    """Publishes messages in a thread of its own; counts what went out."""

    def __init__(self, port: int, messages: Iterable[FuzzMessage], rate: float) -> None:
        """Publish messages to the broker on 127.0.0.1:port, rate a second."""
        self.port = port
        self.rate = rate
        self._messages = messages
        self.client = Client(CallbackAPIVersion.VERSION2, client_id=CLIENT_ID)
        self.client.max_inflight_messages_set(100)
        self.client.on_publish = self._on_publish
        self.published: Counter[Kind] = Counter()  # handed to paho
        self.acknowledged = 0
        self.refused = 0  # by paho itself (should stay 0)
        self.payload_bytes = 0
        self.names: dict[str, set[str]] = {"room": set(), "device": set()}
        self.done = False  # every message was published
        self.seconds = 0.0  # from the first to the last publish
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name="soak-fuzzer", daemon=True
        )

    @property
    def total(self) -> int:
        """Return how many messages were handed to paho."""
        return self.published.total()

    def start(self) -> None:
        """Connect, then publish in the background."""
        self.client.connect("127.0.0.1", self.port, keepalive=30)
        self.client.loop_start()
        self._thread.start()

    def stop(self) -> None:
        """Stop publishing (what was published is still acknowledged)."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def close(self) -> None:
        """Disconnect."""
        self.stop()
        self.client.disconnect()
        self.client.loop_stop()

    def wait_acknowledged(self, timeout: float) -> bool:
        """Wait until the broker acknowledged everything published."""
        deadline = time.monotonic() + timeout
        while self.acknowledged < self.total and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.acknowledged >= self.total

    def _on_publish(
        self, _client: Client, _userdata: Any, _mid: int, *_rest: Any
    ) -> None:
        with self._lock:
            self.acknowledged += 1

    def _run(self) -> None:
        began = time.monotonic()
        for count, message in enumerate(self._messages):
            # Pace the whole run, not each message: sleep when ahead of rate.
            if (ahead := count / self.rate - (time.monotonic() - began)) > 0.002:
                self._stop.wait(ahead)
            while self.total - self.acknowledged > WINDOW and not self._stop.is_set():
                time.sleep(0.002)
            if self._stop.is_set():
                break
            self._publish(message)
        else:
            self.done = True
        self.seconds = time.monotonic() - began

    def _publish(self, message: FuzzMessage) -> None:
        try:
            info: MQTTMessageInfo = self.client.publish(
                message.topic, message.payload, qos=1, retain=message.retain
            )
        except ValueError:
            self.refused += 1
            return
        if info.rc not in (
            MQTTErrorCode.MQTT_ERR_SUCCESS,
            MQTTErrorCode.MQTT_ERR_NO_CONN,
        ):
            self.refused += 1
            return
        self.published[message.kind] += 1
        self.payload_bytes += len(message.payload)
        if message.names is not None:
            scope, name = message.names
            self.names[scope].add(name)
