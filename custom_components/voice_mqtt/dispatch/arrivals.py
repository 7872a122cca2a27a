"""New rooms and devices handed to the platforms, at a bounded pace.

A flood of new ids must not hold Home Assistant's event loop while their
entities are added: the platforms are handed at most ARRIVAL_BATCH new
models in any ARRIVAL_INTERVAL.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from typing import Final

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback

# New rooms or devices handed to the platforms at once, and how often: 200 a
# second at most. A new device costs about 5 ms of entity and registry work.
ARRIVAL_BATCH: Final = 50
ARRIVAL_INTERVAL: Final = 0.25


class Arrivals[ModelT]:
    """Tells the platforms about new rooms or devices, at a bounded pace.

    Up to ARRIVAL_BATCH new models are handed over at once in any
    ARRIVAL_INTERVAL; beyond that (a flood of new ids) they wait and are
    handed over ARRIVAL_BATCH at a time, so adding their entities never holds
    Home Assistant's event loop for long. Waiting models (bounded by the
    entry's caps, see fleet/limits.py) keep taking messages: nothing is lost.
    """

    def __init__(self, hass: HomeAssistant) -> None:
        """Start with no callbacks and nothing waiting."""
        self._hass = hass
        self._callbacks: list[Callable[[list[ModelT]], None]] = []
        self._waiting: list[ModelT] = []
        self._timer: asyncio.TimerHandle | None = None
        self._window_start = -ARRIVAL_INTERVAL
        self._handed = 0  # in the current window

    @property
    def waiting(self) -> int:
        """Return how many models wait for their entities."""
        return len(self._waiting)

    @callback
    def register(
        self, callback_: Callable[[list[ModelT]], None], known: Iterable[ModelT]
    ) -> CALLBACK_TYPE:
        """Add callback_, call it once with what is known, return its remover."""
        self._callbacks.append(callback_)
        waiting = {id(model) for model in self._waiting}
        if known := [model for model in known if id(model) not in waiting]:
            callback_(known)

        @callback
        def remove() -> None:
            if callback_ in self._callbacks:
                self._callbacks.remove(callback_)

        return remove

    @callback
    def announce(self, model: ModelT) -> None:
        """Hand a new model over now, or with the next batch."""
        if self._timer is None:
            now = self._hass.loop.time()
            if now >= self._window_start + ARRIVAL_INTERVAL:
                self._window_start, self._handed = now, 0
            if self._handed < ARRIVAL_BATCH:
                self._handed += 1
                self._hand_over([model])
                return
            self._timer = self._hass.loop.call_at(
                self._window_start + ARRIVAL_INTERVAL, self._next_batch
            )
        self._waiting.append(model)

    @callback
    def _next_batch(self) -> None:
        self._timer = None
        self._window_start = self._hass.loop.time()
        batch = self._waiting[:ARRIVAL_BATCH]
        del self._waiting[:ARRIVAL_BATCH]
        self._handed = len(batch)
        self._hand_over(batch)
        if self._waiting:
            self._timer = self._hass.loop.call_at(
                self._window_start + ARRIVAL_INTERVAL, self._next_batch
            )

    def _hand_over(self, models: list[ModelT]) -> None:
        for callback_ in tuple(self._callbacks):
            callback_(models)

    def forget(self, model: ModelT) -> None:
        """Drop a waiting model that was removed."""
        self._waiting = [waiting for waiting in self._waiting if waiting is not model]

    def cancel(self) -> None:
        """Forget every callback and waiting model (the entry is unloading)."""
        self._callbacks.clear()
        self._waiting.clear()
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
