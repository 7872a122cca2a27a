"""Who is told about which change: the entities' side of the hub.

Entities listen to one aspect of one room, device or the bridge; the hub
only says what changed, and only those listeners wake.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from enum import StrEnum

from homeassistant.core import CALLBACK_TYPE, callback

from ..const import Scope

type Listener = Callable[[], None]

# What a listener follows: one aspect of one room, device or the bridge.
type Key = tuple[Scope, str, str]


class BridgeAspect(StrEnum):
    """Parts of the bridge that entities show."""

    CONNECTION = "connection"  # Home Assistant's broker, or the fleet's link
    FLEET_LINK = "fleet_link"  # the broker bridge that carries the fleet
    DEVICES_ONLINE = "devices_online"
    TURNS = "turns"  # the figures of the day


class Listeners:
    """Listeners per (scope, id, aspect); a change wakes only its own."""

    def __init__(self) -> None:
        """Start with nobody listening."""
        self._listeners: dict[Key, list[Listener]] = {}

    @callback
    def listen(self, wanted: Iterable[tuple[Key, Listener]]) -> CALLBACK_TYPE:
        """Call each listener when its (scope, object_id, aspect) changes.

        One registration, and one remover, for everything an entity follows.
        """
        wanted = tuple(wanted)
        for key, listener in wanted:
            self._listeners.setdefault(key, []).append(listener)

        @callback
        def remove() -> None:
            for key, listener in wanted:
                if (listeners := self._listeners.get(key)) is not None:
                    listeners.remove(listener)
                    if not listeners:
                        del self._listeners[key]

        return remove

    @callback
    def notify(self, scope: Scope, object_id: str, aspect: str) -> None:
        """Tell the listeners of one aspect that it changed."""
        for listener in tuple(self._listeners.get((scope, object_id, aspect), ())):
            listener()

    def clear(self) -> None:
        """Forget every listener (the entry is unloading)."""
        self._listeners.clear()
