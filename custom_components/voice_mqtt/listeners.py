"""Who is told about which change: the entities' side of the hub.

Entities listen to one aspect of one room, device or the bridge; platforms
listen for new rooms and devices. The hub only says what changed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from enum import StrEnum

from homeassistant.core import CALLBACK_TYPE, callback

type Listener = Callable[[], None]


class Scope(StrEnum):
    """What an entity belongs to; part of its unique id."""

    BRIDGE = "bridge"
    ROOM = "room"
    DEVICE = "device"


class BridgeAspect(StrEnum):
    """Parts of the bridge that entities show."""

    CONNECTION = "connection"
    DEVICES_ONLINE = "devices_online"


class Listeners:
    """Listeners per (scope, id, aspect); a change wakes only its own."""

    def __init__(self) -> None:
        """Start with nobody listening."""
        self._listeners: dict[tuple[Scope, str, str], list[Listener]] = {}

    @callback
    def listen(
        self, scope: Scope, object_id: str, aspect: str, listener: Listener
    ) -> CALLBACK_TYPE:
        """Call listener when aspect of (scope, object_id) changes."""
        key = (scope, object_id, aspect)
        self._listeners.setdefault(key, []).append(listener)

        @callback
        def remove() -> None:
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


class Arrivals[ModelT]:
    """Callbacks for every model known now and every one that comes later."""

    def __init__(self) -> None:
        """Start with no callbacks."""
        self._callbacks: list[Callable[[ModelT], None]] = []

    @callback
    def register(
        self, callback_: Callable[[ModelT], None], known: Iterable[ModelT]
    ) -> CALLBACK_TYPE:
        """Add callback_, call it for what is known, return its remover."""
        self._callbacks.append(callback_)
        for model in tuple(known):
            callback_(model)

        @callback
        def remove() -> None:
            if callback_ in self._callbacks:
                self._callbacks.remove(callback_)

        return remove

    @callback
    def announce(self, model: ModelT) -> None:
        """Tell every callback about a new model."""
        for callback_ in tuple(self._callbacks):
            callback_(model)

    def clear(self) -> None:
        """Forget every callback (the entry is unloading)."""
        self._callbacks.clear()
