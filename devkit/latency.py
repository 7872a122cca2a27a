"""scripts/benchmark --real-broker: end-to-end latency on a real broker.

In a fresh temporary folder: mosquitto, and Home Assistant set up as a user
would (onboarding, the MQTT and voice_mqtt config flows) with, beside
voice_mqtt, the hand-made alternative: one MQTT-discovered sensor per device.
Then one load for both: heartbeats, and state changes sent to both on the
same schedule. The latency of each change is measured from its send to the
time_fired of its state_changed event on the websocket.

It prints a side-by-side report and exits 0: it measures, it asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import datetime
from importlib import metadata
import json
import math
import os
from pathlib import Path
import re
import subprocess
import sys
import threading
import time
from typing import Any, Final

from paho.mqtt.client import Client
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode

from .broker import Broker, find_mosquitto
from .cli import note, parser_from_doc, run_in_scratch_folder
from .hass.api import HomeAssistantApi
from .hass.start import set_up_voice_mqtt, start_scratch_hass
from .latency_stats import (
    Entities,
    Interval,
    Kind,
    LoadPlan,
    Planned,
    Seen,
    Send,
    Summary,
    initial_messages,
    match,
    process_cpu,
    render,
    schedule,
    table_header,
)
from .processes import MIB, rss_bytes, stop_process

# The wire ------------------------------------------------------------------------
#
# A publisher is one paho client in a thread of its own, without paho's
# network thread: publish() then writes to the socket before it returns, so
# the send time noted just before it is when the message left. The watcher is
# a websocket client of Home Assistant, subscribed to state_changed, in a
# thread with its own event loop.

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
        self._unacked: set[int] = set()  # message ids of changes not yet acked
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

    def _on_publish(self, _client: Client, _userdata: Any, mid: int, *_: Any) -> None:
        self._unacked.discard(mid)

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
                self._unacked.add(info.mid)
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


def parse_event(message: dict[str, Any]) -> Seen | None:
    """Return a state_changed event of the websocket as a Seen, None otherwise."""
    event = message.get("event")
    if message.get("type") != "event" or not isinstance(event, dict):
        return None
    data = event.get("data") or {}
    new_state = data.get("new_state")
    if new_state is None:  # an entity removed
        return None
    fired = datetime.fromisoformat(event["time_fired"]).timestamp()
    return Seen(data["entity_id"], new_state["state"], fired)


class EventWatcher:
    """Keeps the state_changed events of the entities it is told to watch."""

    def __init__(self, api: HomeAssistantApi, wanted: Callable[[str], bool]) -> None:
        """Watch the Home Assistant api talks to, as api's user."""
        self.api = api
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
        import aiohttp  # noqa: PLC0415 - Home Assistant's, as devkit.hass.api's

        async with self.api.connected_websocket() as socket:
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
                if message.type is not aiohttp.WSMsgType.TEXT:
                    raise RuntimeError(f"websocket closed: {message.type.name}")
                self._take(json.loads(message.data))

    def _take(self, message: dict[str, Any]) -> None:
        seen = parse_event(message)
        if seen is None:
            return
        self.events += 1
        if self.wanted(seen.entity):
            self.seen.append(seen)


# The run -------------------------------------------------------------------------

# (flag, type, default, help)
OPTIONS: tuple[tuple[str, type, object, str], ...] = (
    ("--devices", int, 200, "voice devices, each with a hand-made sensor too"),
    ("--rooms", int, 5, "rooms"),
    ("--rate", float, 1_000.0, "messages a second, everything included"),
    ("--seconds", float, 60.0, "measured load, in seconds"),
    ("--status-rate", float, 40.0, "device status changes a second (each sent twice)"),
    ("--room-rate", float, 5.0, "room state changes a second"),
    ("--handmade-qos", int, 0, "QoS of the hand-made sensors' subscriptions"),
    ("--publishers", int, 1, "paho clients sharing the load (by device and room)"),
    ("--timeout", float, 3.0, "a change with no event within this is lost, s"),
    (
        "--margin",
        float,
        5.0,
        "no worse: the p99 difference stays within this %% of the hand-made p99",
    ),
)
GROUPS: Final = {
    "status": "voice_mqtt device status",
    "room": "voice_mqtt room state",
    "handmade": "hand-made MQTT sensors",
}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Read the command line."""
    parser = parser_from_doc("scripts/benchmark --real-broker", __doc__)
    for flag, kind, default, text in OPTIONS:
        parser.add_argument(
            flag, type=kind, default=default, help=f"{text} (default: %(default)s)"
        )
    parser.add_argument(
        "--recorder", action="store_true", help="set up the recorder (SQLite) too"
    )
    parser.add_argument(
        "--broker-option",
        action="append",
        default=[],
        metavar="LINE",
        help="a line for mosquitto.conf, e.g. 'set_tcp_nodelay true' (repeatable)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the folder")
    args = parser.parse_args(argv)
    plan = load_plan(args)
    try:
        plan.check()
    except ValueError as err:
        parser.error(str(err))
    if not 0 < args.timeout < plan.recurrence():
        parser.error(
            f"--timeout must be under {plan.recurrence():.1f} s, the time before"
            " an entity is sent the same value again"
        )
    if args.handmade_qos not in (0, 1, 2):
        parser.error("--handmade-qos is 0, 1 or 2")
    if args.publishers < 1:
        parser.error("--publishers must be 1 or more")
    return args


def load_plan(args: argparse.Namespace) -> LoadPlan:
    """Return the load the command line asks for."""
    return LoadPlan(
        args.devices,
        args.rooms,
        args.rate,
        args.seconds,
        args.status_rate,
        args.room_rate,
    )


@dataclass
class Results:
    """What one run measured."""

    load_average: float = 0.0  # as the load began
    broker_version: str = ""
    messages: int = 0
    sent: int = 0
    refused: int = 0
    late: float = 0.0  # the furthest behind schedule a message went, seconds
    summaries: dict[str, Summary] = field(default_factory=dict)  # by group
    interval: Interval = field(default_factory=lambda: Interval.of(()))
    # Of the changes sent to both: lost by voice_mqtt, by the hand-made sensors.
    pair_lost: tuple[int, int] = (0, 0)
    events: int = 0  # every state_changed event on the websocket
    watched_events: int = 0
    unexplained: int = 0
    watcher_error: str = ""
    cpu: dict[str, float] = field(default_factory=dict)  # % of a core, by process
    rss_before: int = 0
    rss_after: int = 0
    peak_rss: int = 0
    total_seconds: float = 0.0

    def take(
        self,
        publishers: Sequence[LoadPublisher],
        watcher: EventWatcher,
        entities: Entities,
        timeout: float,
    ) -> None:
        """Match what was sent with what was seen, and sum it up."""
        sends: list[Send] = []
        # The voice_mqtt and hand-made sends of each status change.
        twins: dict[tuple[int, float], dict[Kind, Send]] = {}
        for publisher in publishers:
            self.messages += len(publisher.messages)
            self.sent += len(publisher.sent)
            self.refused += publisher.refused
            self.late = max(self.late, publisher.late)
            for message, sent in zip(publisher.messages, publisher.sent, strict=False):
                if not message.kind.changes_state:
                    continue
                send = Send(entities.entity_of(message), message.value, sent)
                sends.append(send)
                if message.kind is not Kind.ROOM_STATE:
                    twins.setdefault((message.target, message.at), {})[message.kind] = (
                        send
                    )
        self.events, self.watched_events = watcher.events, len(watcher.seen)
        self.watcher_error = watcher.error
        matched = match(sends, watcher.seen, timeout)
        self.unexplained = matched.unexplained
        for group in GROUPS:
            self.summaries[group] = Summary.of(
                outcome.latency
                for outcome in matched.outcomes
                if entities.group[outcome.send.entity] == group
            )
        latency = {id(outcome.send): outcome.latency for outcome in matched.outcomes}
        pairs = []
        lost = [0, 0]
        for twin in twins.values():
            voice = latency.get(id(twin.get(Kind.VOICE_STATUS)))
            handmade = latency.get(id(twin.get(Kind.HANDMADE_STATUS)))
            if voice is not None and handmade is not None:
                pairs.append((voice, handmade))
            else:
                lost[0] += voice is None
                lost[1] += handmade is None
        self.interval = Interval.of(pairs)
        self.pair_lost = (lost[0], lost[1])


class LatencyRun:
    """One run: what it started and what it measured."""

    def __init__(self, args: argparse.Namespace, workdir: Path) -> None:
        """Plan a run in workdir."""
        self.args = args
        self.workdir = workdir
        self.plan = load_plan(args)
        # A subscriber that falls behind loses nothing: this measures Home
        # Assistant, not mosquitto's queue limit (1000 by default).
        extra = ("max_queued_messages 0", *args.broker_option)
        self.broker = Broker(workdir / "broker", extra_config=extra)
        self.owner: dict[str, Any] = {}
        self.results = Results()

    def run(self, stack: ExitStack) -> Results:
        """Start everything (stopped by stack), load, measure."""
        began = time.monotonic()
        self.broker.start()
        stack.callback(self.broker.stop)
        note(f"{self.broker.kind} on 127.0.0.1:{self.broker.port}; starting hass")
        api, hass = start_scratch_hass(
            stack,
            self.workdir,
            tool="scripts/benchmark --real-broker",
            name="latency",
            extra_yaml="\nrecorder:\n" if self.args.recorder else "",
        )
        entry_id = set_up_voice_mqtt(api, self.owner, self.broker.port, "latency")
        entities = self.create_entities(api, entry_id)
        time.sleep(3)  # let the entities' creation settle before measuring
        self.load(api, hass.pid, entities)
        note("stopping Home Assistant ...")
        stop_process(hass, 60)
        self.results.broker_version = broker_version()
        self.results.total_seconds = time.monotonic() - began
        return self.results

    def create_entities(self, api: HomeAssistantApi, entry_id: str) -> Entities:
        """Make every device, room and hand-made sensor exist, in its first state."""
        plan = self.plan
        note(
            f"creating {plan.devices} devices, {plan.rooms} rooms and"
            f" {plan.devices} hand-made sensors ..."
        )
        publish_once(
            self.broker.port,
            list(initial_messages(plan, time.time(), self.args.handmade_qos)),
        )
        deadline = time.monotonic() + 180
        while True:
            registry = api.websocket({"type": "config/entity_registry/list"})
            entities = Entities.find(registry, entry_id, plan)
            if entities.missing == 0 and entities.all_initial(
                api.call("GET", "/api/states")
            ):
                return entities
            if time.monotonic() > deadline:
                raise TimeoutError(f"{entities.missing} entities never appeared")
            time.sleep(1)

    def load(self, api: HomeAssistantApi, pid: int, entities: Entities) -> None:
        """Run the load, watch the events, sample the processes."""
        args, results = self.args, self.results
        messages = schedule(self.plan)
        publishers = [
            LoadPublisher(
                self.broker.port,
                f"voice_mqtt-latency-{index}",
                [m for m in messages if m.target % args.publishers == index],
            )
            for index in range(args.publishers)
        ]
        for publisher in publishers:
            publisher.connect()
        watcher = EventWatcher(api, entities.watched)
        watcher.start()
        note(f"loading: {len(messages):,} messages in {self.plan.seconds:.0f} s")
        pids = {"hass": pid, "self": os.getpid()}
        if self.broker.process is not None:
            pids["broker"] = self.broker.process.pid
        results.load_average = os.getloadavg()[0]
        results.rss_before = results.peak_rss = rss_bytes(pid)
        cpu = {name: process_cpu(each) for name, each in pids.items()}
        began = time.monotonic() + 1
        for publisher in publishers:
            publisher.start(began)
        try:
            self._sample_until(began + self.plan.seconds, pid)
            for publisher in publishers:
                publisher.join()
            wall = time.monotonic() - began
            results.cpu = {
                name: 100 * (process_cpu(each) - cpu[name]) / wall
                for name, each in pids.items()
            }
            # Whatever comes later than the timeout counts as lost anyway.
            self._sample_until(time.monotonic() + args.timeout + 0.5, pid)
        finally:
            for publisher in publishers:
                publisher.stop()
                publisher.join(15)
                publisher.close()
            watcher.stop()
        results.rss_after = rss_bytes(pid)
        results.take(publishers, watcher, entities, args.timeout)

    def _sample_until(self, until: float, pid: int) -> None:
        while (left := until - time.monotonic()) > 0:
            time.sleep(min(left, 0.5))
            self.results.peak_rss = max(self.results.peak_rss, rss_bytes(pid))


def broker_version() -> str:
    """Return mosquitto's version (its help's first line says it), if it has one."""
    if (executable := find_mosquitto()) is None:
        return ""
    said = subprocess.run(  # noqa: S603 - the broker we ran
        [executable, "-h"], capture_output=True, text=True, timeout=10, check=False
    ).stdout
    found = re.search(r"mosquitto version (\S+)", said)
    return found[1] if found else ""


def report_lines(args: argparse.Namespace, results: Results) -> list[str]:
    """Return the report, side by side, from one run on one load."""
    plan = load_plan(args)
    beats = plan.heartbeat_rate / 2
    options = "; ".join(args.broker_option) or "its defaults"
    return [
        "",
        "voice_mqtt end to end on a real broker",
        (
            f"  Home Assistant {metadata.version('homeassistant')}, mosquitto"
            f" {results.broker_version} ({options}), Python"
            f" {sys.version.split()[0]}; {os.cpu_count()} cores, load average"
            f" {results.load_average:.2f} as the load began; recorder"
            f" {'on' if args.recorder else 'off'}"
        ),
        (
            f"  load: {plan.devices} devices, {plan.rooms} rooms, {plan.rate:,.0f}"
            f" msg/s for {plan.seconds:.0f} s, {args.publishers} paho publisher(s):"
            " heartbeats at QoS 0, changes at QoS 1"
        ),
        (
            "    Home Assistant subscribes at QoS 1 for voice_mqtt, at QoS"
            f" {args.handmade_qos} for the hand-made sensors"
        ),
        (
            f"    a second: {beats:,.1f} heartbeats on devices/<id>/heartbeat,"
            f" {beats:,.1f} unchanged statuses on handmade/<id>/status;"
        ),
        (
            f"    {plan.status_rate:g} status changes, each to devices/<id>/status"
            f" and handmade/<id>/status (retained); {plan.room_rate:g} room"
            " state changes"
        ),
        (
            f"  sent {results.sent:,} of {results.messages:,} (refused"
            f" {results.refused}), at most {1000 * results.late:.1f} ms behind"
            " schedule"
        ),
        "",
        (
            "latency from the send (time.time() as paho took the message) to"
            " the state_changed event's time_fired;"
        ),
        f"lost: no event within {args.timeout:g} s",
        table_header(),
        *(results.summaries[group].row(name) for group, name in GROUPS.items()),
        "",
        (
            f"Home Assistant: {results.cpu.get('hass', math.nan):.1f} % of a core;"
            f" RSS {results.rss_before / MIB:.0f} MiB before,"
            f" {results.rss_after / MIB:.0f} MiB after,"
            f" peak {results.peak_rss / MIB:.0f} MiB"
        ),
        (
            f"mosquitto: {results.cpu.get('broker', math.nan):.1f} % of a core;"
            " this process (publisher and websocket client):"
            f" {results.cpu.get('self', math.nan):.1f} %"
        ),
        (
            f"state_changed events on the websocket: {results.events:,}"
            f" ({results.watched_events:,} of the measured entities, of which"
            f" {results.unexplained} explained by no send){results.watcher_error}"
        ),
        "",
        *verdict_lines(args.margin, results.interval, results.pair_lost),
        "",
        f"the whole run took {results.total_seconds:.0f} s",
    ]


def verdict_lines(
    margin_percent: float, interval: Interval, pair_lost: tuple[int, int]
) -> list[str]:
    """Say whether voice_mqtt's p99 is no worse, as far as the run can tell.

    On the same status changes, sent to both at the same moment: the p99
    difference and its bootstrap interval, against a margin (a share of the
    hand-made p99) that two equal subscribers stay within. Room changes have
    no hand-made twin; they are in the table. Losing more changes than the
    hand-made sensors is worse, whatever the latencies.
    """
    voice_lost, handmade_lost = pair_lost
    margin = margin_percent / 100 * interval.second
    verdict = interval.verdict(margin)
    answer = "no" if voice_lost > handmade_lost else verdict
    said = {
        "yes": f"the whole interval is within the margin of {margin:+.1f} ms",
        "no": f"the whole interval is beyond the margin of {margin:+.1f} ms",
        "undecided": (
            f"the interval reaches across the margin of {margin:+.1f} ms; a longer"
            " run (--seconds) narrows it"
        ),
    }[verdict]
    return [
        f"voice_mqtt's p99 is no worse than the hand-made sensors': {answer}",
        (
            f"  the same {interval.pairs:,} status changes sent to both: p99"
            f" {interval.first:.1f} ms against {interval.second:.1f} ms, a"
            f" difference of {interval.difference:+.1f} ms; its"
            f" {100 * interval.confidence:.0f} % interval is {interval.low:+.1f} to"
            f" {interval.high:+.1f} ms ({interval.resamples:,} bootstrap resamples"
            " of the pairs)"
        ),
        (
            f"  {said} ({margin_percent:g} % of theirs); lost: voice_mqtt"
            f" {voice_lost}, hand-made {handmade_lost}"
        ),
    ]


def main(argv: list[str] | None = None) -> int:
    """Measure, print the report; 0 unless the run itself failed."""
    args = parse_args(argv)

    def measure(stack: ExitStack, workdir: Path) -> tuple[list[str], int]:
        return report_lines(args, LatencyRun(args, workdir).run(stack)), 0

    return run_in_scratch_folder(
        "scripts/benchmark --real-broker", "latency", keep=args.keep, run=measure
    )


if __name__ == "__main__":
    sys.exit(main())
