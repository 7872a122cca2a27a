"""One simulated device: its own MQTT connection, so its Last Will is real."""

from __future__ import annotations

from contextlib import suppress
import socket
import threading
import time
from typing import Any

from paho.mqtt.client import (
    Client,
    ConnectFlags,
    DisconnectFlags,
    MQTTMessage,
    MQTTMessageInfo,
)
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from .answers import answer_payload
from .options import SimulatorOptions
from .runtime import Console, Inbox, Kind, Received
from .script import (
    DeviceSpec,
    DeviceState,
    announce_payload,
    apply_command,
    duration_of,
    heartbeat_payload,
    status_payload,
    will_payload,
)
from .wire import command_filter, iso_now, protocol

DeviceTopicType = protocol.DeviceTopicType


class Device:
    """One simulated device and its own connection to the broker.

    Connecting registers a retained Last Will; on every (re)connection the
    device clears a stale will, subscribes to its commands (and its session's,
    and its xiaozhi down topic), announces itself and publishes its status.
    paho reconnects by itself after a broker restart; drop() kills the
    connection without a DISCONNECT, so the broker publishes the will, and
    leaves reconnecting to connect().
    """

    def __init__(
        self,
        spec: DeviceSpec,
        options: SimulatorOptions,
        console: Console,
        inbox: Inbox,
    ) -> None:
        """Prepare; nothing is connected before connect()."""
        self.spec = spec
        self._options = options
        self._scheme = options.scheme
        self._console = console
        self._inbox = inbox
        self._lock = threading.Lock()
        self._state = DeviceState()
        # The live client; None while dropped or stopped. Callbacks of a client
        # that is no longer this one are ignored.
        self._client: Client | None = None
        self._online = False
        self._connected_at = time.monotonic()
        self._ever_online = False
        self._stopping = False
        self.ready = threading.Event()
        self.last_error = ""
        # Message ids of the subscription and status of the current connection:
        # once the broker acknowledged both, the device is ready.
        self._unacknowledged: set[int] = set()
        device_id = spec.device_id
        self._device_commands = command_filter(
            self._scheme.device_command_topic(device_id, "any")
        )
        self._ws_start_topic = (
            None if spec.mac is None else self._scheme.ws_start_topic(spec.mac)
        )

    @property
    def device_id(self) -> str:
        """Return the device's id."""
        return self.spec.device_id

    @property
    def state(self) -> DeviceState:
        """Return what the device reports in its status."""
        with self._lock:
            return self._state

    @property
    def online(self) -> bool:
        """Tell whether the device's connection is up."""
        return self._online

    def _topic(self, topic_type: protocol.DeviceTopicType) -> str:
        return self._scheme.device_topic(self.spec.device_id, topic_type)

    def _session_commands(self, session_id: str) -> str:
        return command_filter(self._scheme.session_command_topic(session_id, "any"))

    # Connection ---------------------------------------------------------------

    def connect(self) -> None:
        """Open a new connection (paho retries until the broker answers)."""
        broker = self._options.device_broker(self.spec)
        client = broker.new_client(f"voice-sim-{self.device_id}")
        self._set_will(client)
        client.on_connect = self._on_connect
        client.on_connect_fail = self._on_connect_fail
        client.on_disconnect = self._on_disconnect
        client.on_subscribe = self._on_subscribe
        client.on_publish = self._on_publish
        client.on_message = self._on_message
        with self._lock:
            if self._client is not None:
                raise RuntimeError(f"{self.device_id} is connected already")
            self._client = client
            self._stopping = False
        self.ready.clear()
        broker.connect(client)

    def _set_will(self, client: Client) -> None:
        # The broker gets the will with CONNECT and cannot be told a new one,
        # so its timestamp is the time of connecting, not of dying.
        client.will_set(
            self._topic(DeviceTopicType.LWT),
            protocol.encode(will_payload(self.spec, iso_now())),
            qos=1,
            retain=True,
        )

    def drop(self) -> None:
        """Kill the connection without a DISCONNECT: the broker sends the will.

        Raises:
            RuntimeError: the device is not online.
        """
        with self._lock:
            client = self._client
            if client is None or not self._online:
                raise RuntimeError(f"{self.device_id} is not online")
            self._client = None
            self._online = False
        sock = client.socket()
        # shutdown() sends the broker a FIN at once and wakes paho's thread,
        # which sees a lost connection and ends (see _on_disconnect).
        if isinstance(sock, socket.socket):
            with suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        client.loop_stop()
        if sock is not None:
            sock.close()
        self._console.note(
            f"{self.device_id} dropped: connection killed, the broker sends its will"
        )

    def disconnect(self) -> None:
        """Start a clean disconnect: the broker sends no will. See finish()."""
        with self._lock:
            self._stopping = True
            client = self._client
        if client is not None:
            client.disconnect()

    def finish(self) -> None:
        """Wait for paho's thread to end after disconnect()."""
        with self._lock:
            client, self._client = self._client, None
            self._online = False
        if client is not None:
            client.loop_stop()

    def _current(self, client: Client) -> bool:
        with self._lock:
            return client is self._client

    def _on_connect(
        self,
        client: Client,
        _userdata: object,
        _flags: ConnectFlags,
        reason: ReasonCode,
        _properties: Properties | None,
    ) -> None:
        if not self._current(client):
            return
        if reason.is_failure:
            self.last_error = f"the broker refused the connection: {reason}"
            self._console.warn(f"{self.device_id}: {self.last_error}")
            return
        with self._lock:
            state = self._state
        subscriptions = [(self._device_commands, 1)]
        if state.session_id:
            subscriptions.append((self._session_commands(state.session_id), 1))
        if self._ws_start_topic is not None:
            subscriptions.append((self._ws_start_topic, 1))
        # Subscribe before announcing, so a command sent in answer to the
        # announce finds the device listening.
        _, subscribe_mid = client.subscribe(subscriptions)
        client.publish(self._topic(DeviceTopicType.LWT), b"", qos=1, retain=True)
        client.publish(
            self._scheme.announce_topic,
            protocol.encode(announce_payload(self.spec, iso_now())),
            qos=1,
        )
        status = self._publish_status(client, state)
        # Both callbacks run in this thread, so no acknowledgement can be missed.
        self._unacknowledged = {
            mid for mid in (subscribe_mid, status.mid) if mid is not None
        }
        self._online = True
        self._connected_at = time.monotonic()
        again = " again" if self._ever_online else ""
        self._ever_online = True
        self._console.note(
            f"{self.device_id} online{again} ({self.spec.device_type}, "
            f"{self.spec.name!r}, status {state.status})"
        )

    def _on_connect_fail(self, client: Client, _userdata: object) -> None:
        if self._current(client):
            self.last_error = "the broker is unreachable"

    def _on_disconnect(
        self,
        client: Client,
        _userdata: object,
        _flags: DisconnectFlags,
        reason: ReasonCode,
        _properties: Properties | None,
    ) -> None:
        if not self._current(client):
            # A dropped connection (already reported) must not come back: in
            # paho's own thread loop_stop() only tells the loop to end, which
            # it then does at once instead of waiting to reconnect.
            client.loop_stop()
            return
        was_online, self._online = self._online, False
        self._set_will(client)  # for paho's reconnection
        if was_online and not self._stopping:
            self._console.warn(
                f"{self.device_id} lost its connection ({reason}); retrying"
            )

    def _on_subscribe(
        self,
        client: Client,
        _userdata: object,
        mid: int,
        _reasons: list[ReasonCode],
        _properties: Properties | None,
    ) -> None:
        self._acknowledged(client, mid)

    def _on_publish(
        self,
        client: Client,
        _userdata: object,
        mid: int,
        _reason: ReasonCode,
        _properties: Properties | None,
    ) -> None:
        self._acknowledged(client, mid)

    def _acknowledged(self, client: Client, mid: int) -> None:
        if self._unacknowledged and self._current(client):
            self._unacknowledged.discard(mid)
            if not self._unacknowledged:
                self.ready.set()

    # What the device publishes ---------------------------------------------------

    def _publish_status(self, client: Client, state: DeviceState) -> MQTTMessageInfo:
        # Where it has got to now: a playing device's position moves on its own.
        payload = status_payload(self.spec, state, iso_now(), time.monotonic())
        return client.publish(
            self._topic(DeviceTopicType.STATUS),
            protocol.encode(payload),
            qos=1,
            retain=True,
        )

    def _live_client(self) -> Client | None:
        with self._lock:
            return self._client if self._online else None

    def heartbeat(self) -> bool:
        """Publish a heartbeat; return False (sending nothing) while offline."""
        if (client := self._live_client()) is None:
            return False
        payload = heartbeat_payload(self.spec, self.state.status, iso_now())
        client.publish(
            self._topic(DeviceTopicType.HEARTBEAT), protocol.encode(payload), qos=0
        )
        return True

    def send_event(self, event: dict[str, Any]) -> bool:
        """Publish a device event; return False (sending nothing) while offline."""
        if (client := self._live_client()) is None:
            return False
        client.publish(
            self._topic(DeviceTopicType.EVENTS), protocol.encode(event), qos=1
        )
        self._console.note(f"{self.device_id} event {protocol.encode(event)}")
        return True

    # What the device receives ----------------------------------------------------

    def _on_message(
        self, client: Client, _userdata: object, message: MQTTMessage
    ) -> None:
        if not self._current(client):
            return
        topic = message.topic
        try:
            data = protocol.decode_object(message.payload) or {}
        except protocol.ProtocolError as err:
            self._console.received(f"{self.device_id} ignored {topic}: {err}")
            return
        if topic == self._ws_start_topic:
            self._ws_start(topic, data)
        else:
            self._command(client, topic, data)

    def _ws_start(self, topic: str, data: dict[str, Any]) -> None:
        if data.get("type") != "ws_start":
            self._console.received(
                f"{self.device_id} ignored {topic}: {protocol.encode(data)}"
            )
            return
        self._inbox.add(Received(Kind.WS_START, self.device_id, topic, data))
        self._console.received(
            f"ws_start for {self.spec.mac} ({self.device_id}): "
            f"wss={data.get('wss')} version={data.get('version')}"
        )

    def _command(self, client: Client, topic: str, data: dict[str, Any]) -> None:
        # A command is one topic level (protocol.md section 4): the last one.
        command = topic.rpartition("/")[2]
        source = "" if topic.startswith(self._device_commands[:-1]) else " (session)"
        duration = duration_of(self.spec)
        with self._lock:
            before = self._state
            refusal = None
            now = time.monotonic()
            try:
                after = apply_command(
                    before, command, data, now=now, duration_ms=duration
                )
            except ValueError as err:
                refusal = str(err)
                after, outcome = before, f"refused: {err}"
            else:
                changed = after != before
                outcome = f"{'now' if changed else 'still'} {after.status}"
                if after.status != "idle":
                    outcome += f" at {after.position_at(now, duration) / 1000:.1f} s"
            self._state = after
        if after.session_id != before.session_id:
            if before.session_id:
                client.unsubscribe(self._session_commands(before.session_id))
            if after.session_id:
                client.subscribe(self._session_commands(after.session_id), qos=1)
            outcome += f", session {after.session_id or '(none)'}"
        if after != before:
            self._publish_status(client, after)
        uptime = round(time.monotonic() - self._connected_at)
        if (
            reply := answer_payload(
                command,
                data,
                after,
                uptime=uptime,
                refusal=refusal,
                position_ms=after.position_at(time.monotonic(), duration),
            )
        ) is not None:
            client.publish(
                self._topic(DeviceTopicType.RESPONSE), protocol.encode(reply), qos=1
            )
            outcome += f", answered {reply['status']}"
        self._inbox.add(Received(Kind.COMMAND, self.device_id, topic, data))
        self._console.received(
            f"{self.device_id} got {command}{source} {protocol.encode(data)}: {outcome}"
        )
