"""What scripts/benchmark --real-broker measured: the records of one run, summed up.

Figures collects the run's records (sends, events, CPU, memory, garbage
collections) and sums them up per kind of entity; devkit/latency_report.py
prints them.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable, Sequence
import csv
from dataclasses import dataclass, field
import os
from pathlib import Path
import re
import subprocess
import time
from typing import Final

from .broker import find_mosquitto
from .latency_gc import Collection, read_collections
from .latency_io import EventWatcher, LoadPublisher
from .latency_plan import Entities, Kind, LoadPlan
from .latency_profile import Profile
from .latency_stats import (
    Interval,
    Matched,
    Outcome,
    Paired,
    Send,
    Summary,
    match,
    process_cpu,
)
from .processes import rss_bytes

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
    paired: Paired = field(default_factory=lambda: Paired.of(()))
    interval: Interval = field(default_factory=lambda: Interval.of(()))
    # Of the changes sent to both: lost by voice_mqtt, by the hand-made sensors.
    pair_lost: tuple[int, int] = (0, 0)
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
        # The voice_mqtt and hand-made sends of each status change.
        twins: dict[tuple[int, float], dict[Kind, Send]] = {}
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
                    if message.kind is not Kind.ROOM_STATE and sends[-1][1]:
                        key = (message.target, message.at)
                        twins.setdefault(key, {})[message.kind] = send
        self.events, self.watched_events = watcher.events, len(watcher.seen)
        self.watcher_error = watcher.error
        self.matched = match(
            (send for send, _ in sends), watcher.seen, self.args.timeout
        )
        self._pair(twins.values())
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

    def _pair(self, twins: Iterable[dict[Kind, Send]]) -> None:
        """Compare voice_mqtt's and the hand-made latency of the same changes."""
        latency = {
            id(outcome.send): outcome.fired_latency for outcome in self.matched.outcomes
        }
        pairs = []
        lost = [0, 0]
        for twin in twins:
            voice = latency.get(id(twin.get(Kind.VOICE_STATUS)))
            handmade = latency.get(id(twin.get(Kind.HANDMADE_STATUS)))
            if voice is not None and handmade is not None:
                pairs.append((voice, handmade))
            else:
                lost[0] += voice is None
                lost[1] += handmade is None
        self.paired = Paired.of(pairs)
        self.interval = Interval.of(pairs)
        self.pair_lost = (lost[0], lost[1])

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
