"""What scripts/benchmark --real-broker measured, and its report.

Figures collects the run's records (sends, events, CPU, memory) and sums them up;
report_lines prints them side by side.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
import csv
from dataclasses import dataclass, field
from importlib import metadata
import os
from pathlib import Path
import re
import subprocess
import sys
import time
from typing import Final

from .broker import find_mosquitto
from .latency_gc import Collection, full_collections, read_collections, slowest_waited
from .latency_io import EventWatcher, LoadPublisher
from .latency_plan import Entities, LoadPlan
from .latency_profile import Profile
from .latency_stats import (
    Matched,
    Outcome,
    Send,
    Summary,
    match,
    percentile,
    process_cpu,
    table_header,
)
from .measure import MIB, rss_bytes

GROUPS: Final = {
    "status": "voice_mqtt device status",
    "room": "voice_mqtt room state",
    "handmade": "hand-made MQTT sensors",
}


@dataclass
class Window:
    """The summaries of one stretch of the load."""

    fired: dict[str, Summary]
    received: dict[str, Summary]
    outcomes: dict[str, list[Outcome]]


@dataclass
class Figures:
    """Everything the run measured."""

    args: argparse.Namespace
    plan: LoadPlan
    load_average: float = 0.0
    wall_start: float = 0.0
    cpu: dict[str, list[float]] = field(default_factory=dict)  # name to readings
    moments: list[float] = field(default_factory=list)  # monotonic, per reading
    pids: dict[str, int] = field(default_factory=dict)
    rss_before: int = 0
    rss_after: int = 0
    peak_rss: int = 0
    messages: int = 0
    sent: int = 0
    refused: int = 0
    late: float = 0.0
    ack_delays: list[float] = field(default_factory=list)
    matched: Matched = field(default_factory=Matched)
    windows: list[Window] = field(default_factory=list)
    events: int = 0
    watched_events: int = 0
    watcher_error: str = ""
    broker_version: str = ""
    collections: list[Collection] | None = None  # None: not noted
    profile: Profile | None = None
    profile_error: str = ""
    total_seconds: float = 0.0

    def start(
        self, pid: int, broker: subprocess.Popen[bytes] | None, wall_start: float
    ) -> None:
        """Take the first readings, as the load begins."""
        self.load_average = os.getloadavg()[0]
        self.wall_start = wall_start
        self.pids = {"hass": pid, "self": os.getpid()}
        if broker is not None:
            self.pids["broker"] = broker.pid
        self.rss_before = self.peak_rss = rss_bytes(pid)
        self._read_cpu()

    def _read_cpu(self) -> None:
        self.moments.append(time.monotonic())
        for name, pid in self.pids.items():
            self.cpu.setdefault(name, []).append(process_cpu(pid))

    def end_measured(self, _pid: int) -> None:
        """Read the CPU at the end of the measured stretch."""
        self._read_cpu()

    def end_load(self, _pid: int) -> None:
        """Read the CPU at the end of the load."""
        self._read_cpu()

    def share(self, name: str, stretch: int) -> float:
        """Return the % of one core a process used in stretch 0 or 1."""
        readings = self.cpu.get(name, [])
        if len(readings) <= stretch + 1:
            return float("nan")
        wall = self.moments[stretch + 1] - self.moments[stretch]
        return 100 * (readings[stretch + 1] - readings[stretch]) / wall

    def take(
        self,
        publishers: Sequence[LoadPublisher],
        watcher: EventWatcher,
        entities: Entities,
    ) -> None:
        """Match what was sent with what was seen, and sum it up."""
        sends: list[tuple[Send, bool]] = []  # and whether it was measured
        for publisher in publishers:
            self.messages += len(publisher.messages)
            self.sent += len(publisher.sent)
            self.refused += publisher.refused
            self.late = max(self.late, publisher.late)
            for index, (message, sent) in enumerate(
                zip(publisher.messages, publisher.sent, strict=False)
            ):
                acked = publisher.acked.get(index)
                if acked is not None:
                    self.ack_delays.append(acked - sent)
                if message.kind.changes_state:
                    send = Send(
                        entities.entity_of(message),
                        message.value,
                        sent,
                        message.seq,
                        acked,
                    )
                    sends.append((send, message.at < self.args.seconds))
        self.events, self.watched_events = watcher.events, len(watcher.seen)
        self.watcher_error = watcher.error
        self.matched = match(
            (send for send, _ in sends), watcher.seen, self.args.timeout
        )
        measured = {id(send) for send, inside in sends if inside}
        for inside in (True, False):
            outcomes = [
                outcome
                for outcome in self.matched.outcomes
                if (id(outcome.send) in measured) is inside
            ]
            window = Window({}, {}, {})
            for group in GROUPS:
                mine = [o for o in outcomes if entities.group[o.send.entity] == group]
                window.outcomes[group] = mine
                window.fired[group] = Summary.of(o.fired_latency for o in mine)
                window.received[group] = Summary.of(o.received_latency for o in mine)
            self.windows.append(window)

    def read_gc(self, log: Path) -> None:
        """Read the garbage collections hass noted, if it was asked to."""
        if log.exists():
            self.collections = read_collections(log.read_text(errors="replace"))

    def write_outcomes(self, path: Path, entities: Entities) -> None:
        """Write every send and its event as CSV, for a closer look."""
        with path.open("w", newline="") as output:
            writer = csv.writer(output)
            writer.writerow(
                (
                    "group",
                    "entity",
                    "seq",
                    "value",
                    "sent",
                    "acked",
                    "fired",
                    "received",
                )
            )
            for outcome in self.matched.outcomes:
                send, seen = outcome.send, outcome.seen
                writer.writerow(
                    (
                        entities.group[send.entity],
                        send.entity,
                        send.seq,
                        send.value,
                        f"{send.sent:.6f}",
                        "" if send.acked is None else f"{send.acked:.6f}",
                        "" if seen is None else f"{seen.fired:.6f}",
                        "" if seen is None else f"{seen.received:.6f}",
                    )
                )

    def read_broker(self) -> None:
        """Ask mosquitto its version (its help's first line says it)."""
        if (executable := find_mosquitto()) is None:
            return
        said = subprocess.run(  # noqa: S603 - the broker we ran
            [executable, "-h"], capture_output=True, text=True, timeout=10, check=False
        ).stdout
        if found := re.search(r"mosquitto version (\S+)", said):
            self.broker_version = found[1]


def _versions(figures: Figures) -> str:
    hass = metadata.version("homeassistant")
    python = sys.version.split()[0]
    recorder = "on" if figures.args.recorder else "off"
    options = "; ".join(figures.args.broker_option) or "its defaults"
    return (
        f"  Home Assistant {hass}, mosquitto {figures.broker_version}"
        f" ({options}), Python {python}; {os.cpu_count()} cores,"
        f" load average {figures.load_average:.2f} as the load began;"
        f" recorder {recorder}"
    )


def _load_lines(figures: Figures) -> list[str]:
    args, plan = figures.args, figures.plan
    beats = plan.heartbeat_rate / 2
    delays = sorted(1000 * delay for delay in figures.ack_delays)
    profiled = (
        f" (then {args.profile_seconds:.0f} s more under py-spy)"
        if args.profile_seconds
        else ""
    )
    return [
        (
            f"  load: {plan.devices} devices, {plan.rooms} rooms,"
            f" {plan.rate:,.0f} msg/s for {args.seconds:.0f} s{profiled},"
            f" {args.publishers} paho publisher(s) at QoS 1"
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
            f"  sent {figures.sent:,} of {figures.messages:,} (refused"
            f" {figures.refused}), at most {1000 * figures.late:.1f} ms behind"
            f" schedule; PUBACK {percentile(delays, 50):.1f} ms after the send at"
            f" p50, {percentile(delays, 99):.1f} ms at p99"
        ),
    ]


def _table(window: Window, *, fired: bool) -> list[str]:
    summaries = window.fired if fired else window.received
    rows = [summaries[group].row(name) for group, name in GROUPS.items()]
    return [table_header(), *rows]


def _verdict(window: Window) -> str:
    status, room, handmade = (window.fired[group].p99 for group in GROUPS)
    answer = "yes" if max(status, room) <= handmade else "no"
    return (
        f"voice_mqtt's p99 is no worse than the hand-made sensors' p99: {answer}"
        f" (device status {status:.1f} ms, room state {room:.1f} ms;"
        f" hand-made {handmade:.1f} ms)"
    )


def _latency_lines(figures: Figures) -> list[str]:
    args = figures.args
    lines = [
        (
            "latency from the send (time.time() as paho took the message) to"
            " the state_changed event's time_fired;"
        ),
        (
            f"lost: no event within {args.timeout:g} s ({args.seconds:.0f} s"
            " measured, no profiler attached)"
        ),
        *_table(figures.windows[0], fired=True),
        "",
        "the same, to the websocket client's receipt instead of time_fired:",
        *_table(figures.windows[0], fired=False),
    ]
    if args.profile_seconds > 0 and len(figures.windows) > 1:
        lines += [
            "",
            f"the same load while py-spy sampled ({args.profile_seconds:.0f} s):",
            *_table(figures.windows[1], fired=True),
        ]
    return lines


def _process_lines(figures: Figures) -> list[str]:
    seconds = figures.args.seconds
    profiled = (
        f" ({figures.share('hass', 1):.1f} % under py-spy)"
        if figures.args.profile_seconds
        else ""
    )
    return [
        (
            f"Home Assistant: {figures.share('hass', 0):.1f} % of a core over the"
            f" measured {seconds:.0f} s{profiled};"
            f" RSS {figures.rss_before / MIB:.0f} MiB before,"
            f" {figures.rss_after / MIB:.0f} MiB after,"
            f" peak {figures.peak_rss / MIB:.0f} MiB"
        ),
        (
            f"mosquitto: {figures.share('broker', 0):.1f} % of a core; this"
            " process (publisher and websocket client):"
            f" {figures.share('self', 0):.1f} %"
        ),
        (
            f"state_changed events on the websocket: {figures.events:,}"
            f" ({figures.watched_events:,} of the measured entities, of which"
            f" {figures.matched.unexplained} explained by no send)"
            f"{figures.watcher_error}"
        ),
    ]


def _gc_lines(figures: Figures) -> list[str]:
    if figures.collections is None:
        return []
    began = figures.wall_start
    ended = began + figures.args.seconds
    pauses = full_collections(figures.collections, began, ended)
    young = [
        each
        for each in figures.collections
        if each.generation < 2 and began <= each.began < ended
    ]
    longest = max((each.seconds for each in pauses), default=0.0)
    waited = []
    for group, name in GROUPS.items():
        count, slowest = slowest_waited(figures.windows[0].outcomes[group], pauses)
        waited.append(f"{name} {count} of {slowest}")
    return [
        (
            f"hass's garbage collector over the measured {figures.args.seconds:.0f}"
            f" s: {len(pauses)} full collections, longest {1000 * longest:.0f} ms,"
            f" {1000 * sum(each.seconds for each in pauses):.0f} ms in all;"
            f" {len(young):,} young ones, longest"
            f" {1000 * max((each.seconds for each in young), default=0):.1f} ms"
        ),
        "  of the slowest 1 % of changes, those a full collection held up: "
        + ", ".join(waited),
    ]


def report_lines(figures: Figures) -> list[str]:
    """Return the report, side by side, from one run on one load."""
    lines = ["", "voice_mqtt end to end on a real broker", _versions(figures)]
    lines += [*_load_lines(figures), "", *_latency_lines(figures), ""]
    lines += [*_process_lines(figures), *_gc_lines(figures), ""]
    lines.append(_verdict(figures.windows[0]))
    if figures.profile is not None:
        lines += ["", *figures.profile.lines()]
    elif figures.profile_error:
        lines += ["", f"no profile: {figures.profile_error}"]
    lines += ["", f"the whole run took {figures.total_seconds:.0f} s"]
    return lines
