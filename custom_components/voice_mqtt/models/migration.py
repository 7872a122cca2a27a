"""The v0 to v1 topic migration: a message heard on both layouts counts once.

Pure Python (no Home Assistant imports).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Hashable

from ..protocol import Layout, VoiceMessage


def twin_key(message: VoiceMessage, raw: str | bytes | bytearray) -> Hashable:
    """Return what a message and its twin on the other layout share.

    The raw payload, not the parsed one: twins are byte-for-byte copies.
    """
    payload = bytes(raw) if isinstance(raw, bytearray) else raw  # hashable
    return (message.room_id, message.session_id, message.message_type, payload)


class DuplicateFilter:
    """Pairs a message heard on one topic layout with its copy on the other.

    During a v0 to v1 migration publishers send everything twice, once per
    layout. Each message waits up to `window` seconds for its twin; a twin
    found is a duplicate. Only the other layout is searched, so two identical
    chunks of one stream on the same layout are both kept.
    """

    def __init__(self, window: float = 10.0, max_pending: int = 10_000) -> None:
        """Remember at most max_pending unpaired messages for window seconds."""
        self._window = window
        self._max_pending = max_pending
        self._pending: dict[tuple[Layout, Hashable], deque[float]] = {}
        self._expiry: deque[tuple[float, Layout, Hashable]] = deque()

    def __len__(self) -> int:
        """Return how many messages wait for their twin."""
        return len(self._expiry)

    def is_duplicate(self, layout: Layout, key: Hashable, now: float) -> bool:
        """Tell whether key already came on the other layout; remember it if not."""
        self._prune(now)
        other = Layout.LEGACY if layout is Layout.CURRENT else Layout.CURRENT
        if (times := self._pending.get((other, key))) is not None:
            times.popleft()
            if not times:
                del self._pending[(other, key)]
            return True
        self._pending.setdefault((layout, key), deque()).append(now)
        self._expiry.append((now, layout, key))
        if len(self._expiry) > self._max_pending:
            self._forget_oldest()
        return False

    def _prune(self, now: float) -> None:
        limit = now - self._window
        while self._expiry and self._expiry[0][0] < limit:
            self._forget_oldest()

    def _forget_oldest(self) -> None:
        moment, layout, key = self._expiry.popleft()
        times = self._pending.get((layout, key))
        # Paired entries were already taken off the front of their queue.
        if times and times[0] <= moment:
            times.popleft()
            if not times:
                del self._pending[(layout, key)]
