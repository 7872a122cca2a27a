"""What the simulated fleet and backend share at run time.

The console that prints one line per notable thing, the inbox that records
what the simulator received (for people and for tests), the timer thread that
drives every periodic or scheduled action, and the making of MQTT clients.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
import heapq
import itertools
import logging
import sys
import threading
import time
from typing import Any, Literal

from paho.mqtt.client import Client
from paho.mqtt.enums import CallbackAPIVersion

_LOGGER = logging.getLogger(__name__)
_PAHO_LOGGER = logging.getLogger("simulator.paho")


class Console:
    """Prints one line per notable thing; quiet keeps only what was received."""

    def __init__(self, *, quiet: bool = False) -> None:
        """Print everything, or (quiet) only what was received and warnings."""
        self.quiet = quiet
        # Lines come from many threads; one lock keeps them whole.
        self._lock = threading.Lock()

    def note(self, text: str) -> None:
        """Print something the simulator did, unless quiet."""
        if not self.quiet:
            self._print(text, sys.stdout)

    def received(self, text: str) -> None:
        """Print something the simulator received."""
        self._print(text, sys.stdout)

    def warn(self, text: str) -> None:
        """Print a problem, on stderr."""
        self._print(text, sys.stderr)

    def _print(self, text: str, stream: Any) -> None:
        with self._lock:
            print(f"{time.strftime('%H:%M:%S')} {text}", file=stream, flush=True)


class Kind(StrEnum):
    """What kind of message the simulator received."""

    COMMAND = "command"  # a device or session command, received by a device
    WS_START = "ws_start"  # received on a xiaozhi down topic
    DISPLAY_ACTION = "display_action"  # one the backend did not publish itself


@dataclass(frozen=True, slots=True)
class Received:
    """One received message; payload is {} for an empty one."""

    kind: Kind
    receiver: str  # the device id, or "backend"
    topic: str
    payload: dict[str, Any]


class Inbox:
    """A thread-safe record of what the simulator received, in arrival order."""

    def __init__(self) -> None:
        """Start empty."""
        self._items: list[Received] = []
        self._changed = threading.Condition()

    def add(self, item: Received) -> None:
        """Record one message and wake whoever waits."""
        with self._changed:
            self._items.append(item)
            self._changed.notify_all()

    def items(self, kind: Kind | None = None) -> list[Received]:
        """Return a copy of what was received, of one kind or all."""
        with self._changed:
            return [item for item in self._items if kind is None or item.kind is kind]

    def wait_for(
        self, predicate: Callable[[Received], bool], timeout: float = 5.0
    ) -> Received:
        """Return the first message (received before or later) that matches.

        Raises:
            TimeoutError: nothing matched within timeout seconds.
        """
        checked = 0
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for item in self._items[checked:]:
                    if predicate(item):
                        return item
                checked = len(self._items)
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"nothing matched within {timeout} s")
                self._changed.wait(remaining)


@dataclass(order=True, slots=True)
class _Timer:
    due: float
    sequence: int
    callback: Callable[[], None] = field(compare=False)


class Timers:
    """One thread that runs callbacks at given monotonic times, in order.

    Heartbeats, events, drops and every step of every conversation are timers,
    so the whole simulator needs one thread besides paho's network threads,
    and stop() ends all of it at once instead of waiting out any sleep.
    """

    def __init__(self) -> None:
        """Make the (not yet started) timer thread."""
        self._heap: list[_Timer] = []
        self._sequence = itertools.count()
        self._changed = threading.Condition()
        self._stopped = False
        self._thread = threading.Thread(
            target=self._run, name="voice-sim-timers", daemon=True
        )

    @property
    def running(self) -> bool:
        """Tell whether callbacks are being run."""
        return self._thread.is_alive()

    def start(self) -> None:
        """Start running callbacks."""
        self._thread.start()

    def call_at(self, due: float, callback: Callable[[], None]) -> None:
        """Run callback at monotonic time due (at once if that is past)."""
        with self._changed:
            heapq.heappush(self._heap, _Timer(due, next(self._sequence), callback))
            self._changed.notify()

    def call_later(self, delay: float, callback: Callable[[], None]) -> None:
        """Run callback delay seconds from now."""
        self.call_at(time.monotonic() + delay, callback)

    def stop(self) -> None:
        """Forget every pending callback and end the thread.

        A callback already running is let finish first.
        """
        with self._changed:
            self._stopped = True
            self._heap.clear()
            self._changed.notify()
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join()

    def _run(self) -> None:
        while (callback := self._next()) is not None:
            try:
                callback()
            except Exception:
                # One failing callback must not end heartbeats and conversations.
                _LOGGER.exception("simulator timer failed")

    def _next(self) -> Callable[[], None] | None:
        with self._changed:
            while not self._stopped:
                if not self._heap:
                    self._changed.wait()
                    continue
                delay = self._heap[0].due - time.monotonic()
                if delay <= 0:
                    return heapq.heappop(self._heap).callback
                self._changed.wait(delay)
            return None


@dataclass(frozen=True, slots=True)
class BrokerAddress:
    """Where the broker is, how to reach it and how to log in.

    transport "websockets" is MQTT over WebSocket, as the fleet's browser
    clients connect (ws://broker:9001/mqtt); ws_path is the HTTP path.
    """

    host: str = "127.0.0.1"
    port: int = 1883
    username: str | None = None
    password: str | None = None
    transport: Literal["tcp", "websockets"] = "tcp"
    ws_path: str = "/mqtt"

    def new_client(self, client_id: str) -> Client:
        """Return a paho client for this broker, not yet connected."""
        client = Client(
            CallbackAPIVersion.VERSION2, client_id=client_id, transport=self.transport
        )
        if self.transport == "websockets":
            client.ws_set_options(path=self.ws_path)
        # A bug in a callback must not end the network thread: paho logs it.
        client.suppress_exceptions = True
        client.enable_logger(_PAHO_LOGGER)
        if self.username is not None:
            client.username_pw_set(self.username, self.password)
        # After a broker restart, come back within seconds, not minutes.
        client.reconnect_delay_set(min_delay=1, max_delay=10)
        return client

    def connect(self, client: Client) -> None:
        """Connect in paho's network thread, which retries until it succeeds."""
        client.connect_async(self.host, self.port, keepalive=30)
        client.loop_start()

    def __str__(self) -> str:
        """Return host:port, or the WebSocket URL."""
        if self.transport == "websockets":
            return f"ws://{self.host}:{self.port}{self.ws_path}"
        return f"{self.host}:{self.port}"
