"""Python's garbage collector in hass, as scripts/benchmark --real-broker sees it.

A full collection stops the event loop for as long as it takes to walk
every object Home Assistant holds, which is what the slowest state changes
waited for. hass is started with a sitecustomize module on its PYTHONPATH
that notes each collection (when it began, its generation, how long it
took) in a file; gc.callbacks cost a function call per collection. It
shadows Debian's own sitecustomize, which only installs apport's hook.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from .latency_stats import Outcome

HOOK: Final = '''\
"""Written by scripts/benchmark --real-broker: notes hass's garbage collections."""
import gc
import time

_log = open({log!r}, "a", buffering=1, encoding="utf-8")
_began = [0.0, 0.0]


def _note(phase, info):
    if phase == "start":
        _began[:] = time.time(), time.perf_counter()
        return
    took = time.perf_counter() - _began[1]
    _log.write(f"{{_began[0]:.6f}} {{info['generation']}} {{took:.6f}}\\n")


gc.callbacks.append(_note)
'''


@dataclass(frozen=True, slots=True)
class Collection:
    """One garbage collection in hass."""

    began: float  # time.time()
    generation: int
    seconds: float

    @property
    def ended(self) -> float:
        """Return when it ended."""
        return self.began + self.seconds


def install_hook(folder: Path, log: Path) -> dict[str, str]:
    """Write the hook into folder; return the environment that loads it."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "sitecustomize.py").write_text(HOOK.format(log=str(log)))
    return {"PYTHONPATH": str(folder)}


def read_collections(text: str) -> list[Collection]:
    """Return the collections a hook's log holds (a torn last line is skipped)."""
    found = []
    for line in text.splitlines():
        fields = line.split()
        if len(fields) == 3:
            try:
                found.append(
                    Collection(float(fields[0]), int(fields[1]), float(fields[2]))
                )
            except ValueError:
                continue
    return found


def full_collections(
    collections: Iterable[Collection], began: float, ended: float
) -> list[Collection]:
    """Return the full (oldest generation) collections between two moments."""
    return [
        each
        for each in collections
        if each.generation == 2 and began <= each.began < ended
    ]


def slowest_waited(
    outcomes: Sequence[Outcome], pauses: Sequence[Collection], share: float = 0.01
) -> tuple[int, int]:
    """Return how many of the slowest share of outcomes waited for a pause.

    A change waited for one when the pause and the time from its send to its
    event overlap (a change sent during a pause waits for the rest of it).
    Returns (waited, slowest).
    """
    timed = sorted(
        (outcome for outcome in outcomes if outcome.seen is not None),
        key=lambda outcome: outcome.fired_latency or 0.0,
        reverse=True,
    )
    slowest = timed[: max(1, round(share * len(timed)))] if timed else []
    waited = sum(
        1
        for outcome in slowest
        if outcome.seen is not None
        and any(
            pause.began <= outcome.seen.fired and outcome.send.sent <= pause.ended
            for pause in pauses
        )
    )
    return waited, len(slowest)
