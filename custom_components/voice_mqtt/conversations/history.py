"""Conversation history: each room's last turns, kept across restarts.

A turn is added when it ends (never per message) and written with Home
Assistant's Store at most every SAVE_DELAY seconds, and at once on unload.
Each room keeps the last N turns (an option) within a byte budget, so a
chatty backend with long answers cannot grow the file without bound.

A file that is not JSON is set aside by Store itself, with Home Assistant's
own repair issue; a file that is JSON but not a history (edited by hand, or
by another version) is set aside here, with a repair issue of ours. Either
way the entry starts with an empty history instead of failing.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from datetime import datetime
import json
import logging
import os
from typing import Any, Final

from homeassistant.core import HomeAssistant
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util

from ..const import DOMAIN
from ..issues.catalog import IssueKind, raise_issue
from ..models.turn import Turn
from .figures import turn_data

_LOGGER = logging.getLogger(__name__)

STORE_VERSION: Final = 1
SAVE_DELAY: Final = 30
# Per room: about 50 turns of ordinary length; fewer when answers are long.
MAX_ROOM_BYTES: Final = 64 * 1024
# Fields a stored turn must have to be given back.
_FIELDS: Final = frozenset({"started", "heard", "answer", "tools", "display_actions"})

type StoredHistory = dict[str, dict[str, list[dict[str, Any]]]]


def history_store(hass: HomeAssistant, entry_id: str) -> Store[StoredHistory]:
    """Return where an entry keeps its rooms' conversations."""
    return Store(hass, STORE_VERSION, f"{DOMAIN}.{entry_id}.history")


class _RoomTurns:
    """One room's turns, oldest first, within a count and a byte budget."""

    __slots__ = ("bytes", "turns")

    def __init__(self) -> None:
        self.turns: deque[tuple[int, dict[str, Any]]] = deque()
        self.bytes = 0

    def add(self, turn: dict[str, Any], limit: int) -> None:
        size = len(json.dumps(turn, ensure_ascii=False).encode())
        self.turns.append((size, turn))
        self.bytes += size
        while self.turns and (len(self.turns) > limit or self.bytes > MAX_ROOM_BYTES):
            self.bytes -= self.turns.popleft()[0]


class ConversationHistory:
    """The last turns of every room of one entry."""

    def __init__(self, hass: HomeAssistant, entry_id: str, limit: int) -> None:
        """Keep at most limit turns a room; 0 keeps none and stores nothing."""
        self._hass = hass
        self._entry_id = entry_id
        self.limit = limit
        self._store = history_store(hass, entry_id)
        self._rooms: dict[str, _RoomTurns] = {}
        self._dirty = False

    async def async_load(self) -> None:
        """Read the saved history; set an unreadable one aside."""
        if not self.limit:
            return
        data = await self._store.async_load()  # not JSON: Store sets it aside
        if data is None:
            return
        rooms = data.get("rooms") if isinstance(data, dict) else None
        if not isinstance(rooms, dict):
            await self._set_aside()
            return
        for room_id, turns in rooms.items():
            if isinstance(room_id, str) and isinstance(turns, list):
                self._take(room_id, turns)

    def _take(self, room_id: str, turns: Iterable[Any]) -> None:
        kept = _RoomTurns()
        for turn in turns:
            # A malformed turn is skipped, the others are kept.
            if isinstance(turn, dict) and turn.keys() >= _FIELDS:
                kept.add(turn, self.limit)
        if kept.turns:
            self._rooms[room_id] = kept

    async def _set_aside(self) -> None:
        stamp = dt_util.utcnow().strftime("%Y%m%dT%H%M%S")
        aside = f"{self._store.path}.unreadable.{stamp}"
        await self._hass.async_add_executor_job(os.replace, self._store.path, aside)
        _LOGGER.warning("The conversation history was unreadable; kept as %s", aside)
        raise_issue(
            self._hass, self._entry_id, IssueKind.HISTORY_UNREADABLE, {"path": aside}
        )

    def add(self, turn: Turn) -> None:
        """Keep a finished turn; it is written within SAVE_DELAY seconds."""
        if not self.limit:
            return
        data = turn_data(turn)
        del data["room"], data["answer_truncated"]
        self._rooms.setdefault(turn.room_id, _RoomTurns()).add(data, self.limit)
        self._changed()

    def forget(self, room_id: str) -> None:
        """Drop a removed room's turns."""
        if self._rooms.pop(room_id, None) is not None:
            self._changed()

    def turns(
        self, room_id: str, limit: int, since: datetime | None = None
    ) -> list[dict[str, Any]]:
        """Return a room's last limit turns (since a time), oldest first."""
        kept = self._rooms.get(room_id)
        if kept is None:
            return []
        found = [turn for _, turn in kept.turns]
        if since is not None:
            found = [turn for turn in found if _started(turn) >= since]
        return found[-limit:] if limit else []

    def summary(self) -> dict[str, int]:
        """Return how many turns each room keeps (for diagnostics)."""
        return {room_id: len(kept.turns) for room_id, kept in self._rooms.items()}

    def _changed(self) -> None:
        self._dirty = True
        self._store.async_delay_save(self._data, SAVE_DELAY)

    def _data(self) -> StoredHistory:
        self._dirty = False
        return {
            "rooms": {
                room_id: [turn for _, turn in kept.turns]
                for room_id, kept in self._rooms.items()
            }
        }

    async def async_flush(self) -> None:
        """Write what is not written yet (the entry unloads)."""
        if self._dirty:
            await self._store.async_save(self._data())


def _started(turn: dict[str, Any]) -> datetime:
    parsed = dt_util.parse_datetime(str(turn.get("started", "")))
    return parsed if parsed is not None else datetime.min.replace(tzinfo=dt_util.UTC)
