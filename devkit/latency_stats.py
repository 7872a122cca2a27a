"""What scripts/benchmark --real-broker makes of its records: pure functions.

Sends are matched to the state_changed events they caused, per entity; the
latencies are summed up as percentiles, and two subscribers' p99s compared
with a bootstrap confidence interval; the CPU of a process is read from
/proc/<pid>/stat. Nothing here talks to a broker or to Home Assistant.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
import math
import os
from pathlib import Path
import random
from typing import Literal

PERCENTILES = (50, 90, 99)


def percentile(values: Sequence[float], rank: float) -> float:
    """Return the nearest-rank percentile of sorted values (nan when empty).

    The smallest value that at least rank percent of the values do not exceed:
    p99 of 300 values is the 297th, a value that was measured.
    """
    if not values:
        return math.nan
    index = max(math.ceil(rank / 100 * len(values)) - 1, 0)
    return values[min(index, len(values) - 1)]


@dataclass(frozen=True, slots=True)
class Send:
    """A state-changing message as the publisher handed it over."""

    entity: str  # the entity it should change
    value: str  # the state it should show
    sent: float  # time.time() when handed to paho
    seq: int = -1
    acked: float | None = None  # time.time() of the broker's PUBACK


@dataclass(frozen=True, slots=True)
class Seen:
    """A state_changed event as the websocket delivered it."""

    entity: str
    value: str
    fired: float  # the event's time_fired, as an epoch
    received: float  # time.time() when the websocket message was read


@dataclass(frozen=True, slots=True)
class Outcome:
    """A send and the event it caused, if one came within the timeout."""

    send: Send
    seen: Seen | None

    @property
    def fired_latency(self) -> float | None:
        """Return the seconds from the send to time_fired."""
        return None if self.seen is None else self.seen.fired - self.send.sent

    @property
    def received_latency(self) -> float | None:
        """Return the seconds from the send to the websocket's receipt."""
        return None if self.seen is None else self.seen.received - self.send.sent


@dataclass
class Matched:
    """Every send's outcome, and the events no send explains."""

    outcomes: list[Outcome] = field(default_factory=list)
    unexplained: int = 0  # e.g. a value no send carried, or one that came too late


def match(sends: Iterable[Send], events: Iterable[Seen], timeout: float) -> Matched:
    """Pair each send with the event it caused.

    Neither sensor shows the payload's extra fields, so a change is known by
    its entity and its value. Messages of one entity travel on one connection,
    in order, so the events of an entity come in the order of its sends: each
    event belongs to the earliest unmatched send of the same value that came
    before it and no longer than timeout before it. Sends passed over are
    lost (a lost flip also makes the next one change nothing). This is exact
    while the timeout is shorter than the time before an entity is sent the
    same value again (LoadPlan.recurrence).
    """
    by_entity: dict[str, list[Send]] = defaultdict(list)
    for send in sends:
        by_entity[send.entity].append(send)
    seen_by_entity: dict[str, list[Seen]] = defaultdict(list)
    for seen in events:
        seen_by_entity[seen.entity].append(seen)
    result = Matched()
    for entity, entity_sends in by_entity.items():
        entity_sends.sort(key=lambda send: send.sent)
        seen_list = sorted(seen_by_entity.pop(entity, ()), key=lambda s: s.fired)
        _match_entity(entity_sends, seen_list, timeout, result)
    result.unexplained += sum(len(rest) for rest in seen_by_entity.values())
    result.outcomes.sort(key=lambda outcome: outcome.send.sent)
    return result


def _match_entity(
    sends: list[Send], events: list[Seen], timeout: float, result: Matched
) -> None:
    """Match the events of one entity to its sends, both in time order."""
    first = 0  # the earliest send not yet matched or lost
    for seen in events:
        found = next(
            (
                index
                for index in range(first, len(sends))
                if sends[index].sent > seen.fired - timeout
                and sends[index].value == seen.value
            ),
            None,
        )
        if found is None or sends[found].sent > seen.fired:
            result.unexplained += 1
            continue
        result.outcomes.extend(Outcome(send, None) for send in sends[first:found])
        result.outcomes.append(Outcome(sends[found], seen))
        first = found + 1
    result.outcomes.extend(Outcome(send, None) for send in sends[first:])


@dataclass(frozen=True, slots=True)
class Summary:
    """The latencies of one kind of entity, in milliseconds."""

    count: int
    lost: int
    p50: float
    p90: float
    p99: float
    max: float

    @classmethod
    def of(cls, latencies: Iterable[float | None]) -> Summary:
        """Sum up latencies in seconds; None is a send that got no event."""
        values = list(latencies)
        found = sorted(1000 * value for value in values if value is not None)
        p50, p90, p99 = (percentile(found, rank) for rank in PERCENTILES)
        return cls(
            len(values),
            len(values) - len(found),
            p50,
            p90,
            p99,
            found[-1] if found else math.nan,
        )

    def row(self, name: str) -> str:
        """Return a row of the report's table."""
        figures = "".join(
            f"{value:>8.1f}" for value in (self.p50, self.p90, self.p99, self.max)
        )
        return f"  {name:<26}{self.count:>8,}{figures}{self.lost:>7,}"


@dataclass(frozen=True, slots=True)
class Paired:
    """Two subscribers' latencies for the same change sent at the same moment."""

    pairs: int
    median: float  # of first minus second, ms
    slowest: int  # pairs in the slowest share, by the slower of the two
    first_later: int  # of those, where the first was the later
    mean_slowest: float  # of first minus second there, ms

    @classmethod
    def of(cls, pairs: Iterable[tuple[float, float]], share: float = 0.01) -> Paired:
        """Compare pairs of latencies in seconds, first and second."""
        found = sorted(pairs, key=max, reverse=True)
        differences = sorted(1000 * (first - second) for first, second in found)
        slowest = found[: max(1, round(share * len(found)))] if found else []
        return cls(
            len(found),
            percentile(differences, 50),
            len(slowest),
            sum(first > second for first, second in slowest),
            (
                1000 * sum(first - second for first, second in slowest) / len(slowest)
                if slowest
                else math.nan
            ),
        )


@dataclass(frozen=True, slots=True)
class Interval:
    """The difference of two p99s over the same changes, with its uncertainty.

    difference is the first's p99 minus the second's, in ms, over every pair;
    low and high bound it with the given confidence: a percentile bootstrap
    that draws the pairs (not each side alone) with replacement, so what the
    two latencies of one change share (the broker, hass's pauses) stays
    together. Two p99s of a minute of load differ by a millisecond or two by
    chance alone; the interval says how much.
    """

    pairs: int
    first: float  # p99, ms
    second: float
    difference: float
    low: float
    high: float
    confidence: float
    resamples: int

    @classmethod
    def of(
        cls,
        pairs: Sequence[tuple[float, float]],
        *,
        confidence: float = 0.95,
        resamples: int = 2000,
        seed: int = 0,
    ) -> Interval:
        """Compare the p99s of pairs of latencies in seconds, first and second."""
        firsts = [1000 * first for first, _ in pairs]
        seconds = [1000 * second for _, second in pairs]
        first, second = _p99(firsts), _p99(seconds)
        if not pairs:
            return cls(0, first, second, math.nan, math.nan, math.nan, confidence, 0)
        draw = random.Random(seed).choices  # noqa: S311 - resampling, not secrets
        indexes = range(len(pairs))
        differences = []
        for _ in range(resamples):
            drawn = draw(indexes, k=len(pairs))
            differences.append(
                _p99([firsts[i] for i in drawn]) - _p99([seconds[i] for i in drawn])
            )
        differences.sort()
        tail = 100 * (1 - confidence) / 2
        return cls(
            len(pairs),
            first,
            second,
            first - second,
            percentile(differences, tail),
            percentile(differences, 100 - tail),
            confidence,
            resamples,
        )

    def verdict(self, margin: float) -> Literal["yes", "no", "undecided"]:
        """Tell whether the first's p99 is no worse than the second's.

        yes: the whole interval is below margin ms; no: the whole interval is
        above it; undecided: the interval reaches across it, and a longer run
        would narrow it.
        """
        if self.high <= margin:
            return "yes"
        if self.low > margin:
            return "no"
        return "undecided"


def _p99(values: Iterable[float]) -> float:
    return percentile(sorted(values), 99)


def table_header() -> str:
    """Return the header of the rows Summary.row makes."""
    return (
        f"  {'ms':<26}{'changes':>8}{'p50':>8}{'p90':>8}{'p99':>8}{'max':>8}{'lost':>7}"
    )


def cpu_seconds(stat: str) -> float:
    """Return utime + stime of a /proc/<pid>/stat line, in seconds.

    The command name is in parentheses and may hold spaces and parentheses:
    the fields are counted after the last closing one.
    """
    fields = stat.rpartition(")")[2].split()
    # utime and stime are the 14th and 15th fields; fields[0] is the 3rd.
    ticks = int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def process_cpu(pid: int) -> float:
    """Return the CPU seconds a process used so far, 0 once it is gone."""
    try:
        return cpu_seconds(Path(f"/proc/{pid}/stat").read_text())
    except OSError:
        return 0.0
