"""Whole turns for automations: one bus event per turn, and today's figures.

Each turn a room finishes (see models/turn.py) fires `voice_mqtt_conversation` on
Home Assistant's bus, for automations and the logbook (with the room's
Conversation entity and device, so the turn shows in their logbooks), and adds to the
fleet's figures of the day (turns, mean response time), which reset at
local midnight. Work is per turn, never per message.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from homeassistant.const import ATTR_DEVICE_ID, ATTR_ENTITY_ID, Platform
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers.event import async_track_time_change

from ..const import ATTR_CONFIG_ENTRY_ID, EVENT_CONVERSATION, Scope
from ..models.turn import Turn
from ..registry.devices import RegistrySync

# Texts in the bus event, which the recorder stores (it refuses event data
# over 32 KiB): long enough for any spoken answer.
MAX_EVENT_TEXT: Final = 4096


def _bounded(text: str | None) -> str | None:
    return None if text is None else text[:MAX_EVENT_TEXT]


def turn_data(turn: Turn) -> dict[str, Any]:
    """Describe a turn as plain data, for the bus event and the event entity."""
    return {
        "room": turn.room_id,
        "session_id": turn.session_id,
        "outcome": turn.outcome,
        "heard": _bounded(turn.heard),
        "answer": _bounded(turn.answer),
        "answer_truncated": turn.answer is not None
        and len(turn.answer) > MAX_EVENT_TEXT,
        "tools": [{"name": tool.name, "success": tool.success} for tool in turn.tools],
        "display_actions": list(turn.display_actions),
        "started": turn.started.isoformat(),
        "ended": turn.ended.isoformat(),
        "response_time": turn.response_time,
        "duration": turn.duration,
    }


class Conversations:
    """Fires one event per turn and keeps the figures of the day."""

    def __init__(
        self, hass: HomeAssistant, registry: RegistrySync, changed: Callable[[], None]
    ) -> None:
        """Call changed when the figures of the day change."""
        self._hass = hass
        self._registry = registry
        self._changed = changed
        self.turns_today = 0
        self._timed_today = 0
        self._response_total = 0.0

    @property
    def mean_response_time(self) -> float | None:
        """Return today's mean response time in seconds, None before any."""
        if not self._timed_today:
            return None
        return round(self._response_total / self._timed_today, 3)

    @callback
    def start(self) -> CALLBACK_TYPE:
        """Reset the figures at local midnight; return the unsubscriber."""
        return async_track_time_change(
            self._hass, self._new_day, hour=0, minute=0, second=0
        )

    @callback
    def finished(self, turn: Turn) -> None:
        """A room finished a turn: tell the bus, count it."""
        registry, room_id = self._registry, turn.room_id
        self._hass.bus.async_fire(
            EVENT_CONVERSATION,
            {
                **turn_data(turn),
                ATTR_CONFIG_ENTRY_ID: registry.entry_id,
                ATTR_DEVICE_ID: registry.device_id(Scope.ROOM, room_id),
                # The logbook attaches the turn to the entity by this id.
                ATTR_ENTITY_ID: registry.entity_id(
                    Scope.ROOM, room_id, Platform.EVENT, "conversation"
                ),
            },
        )
        self.turns_today += 1
        if turn.response_time is not None:
            self._timed_today += 1
            self._response_total += turn.response_time
        self._changed()

    @callback
    def _new_day(self, _now: object) -> None:
        self.turns_today = self._timed_today = 0
        self._response_total = 0.0
        self._changed()
