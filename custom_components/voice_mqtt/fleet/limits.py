"""Limits on new ids: the caps on rooms and devices, and the repair issue.

A message for a room or device the entry does not know makes one, unless
the entry already knows as many as its cap (an option): then the message is
dropped and counted, and a repair issue says how many were refused and how
to raise the cap. How fast new ones get their entities is paced by
dispatch/arrivals.py.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from typing import Any, Final

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback

from ..const import CONF_MAX_DEVICES, CONF_MAX_ROOMS, Scope
from ..issues.catalog import IssueKind, clear_issue, raise_issue
from ..models.settings import Settings

# The repair issue's count of refused ids is brought up to date this often.
REPORT_INTERVAL: Final = 60.0

_OPTION = {Scope.ROOM: CONF_MAX_ROOMS, Scope.DEVICE: CONF_MAX_DEVICES}
_ISSUE = {
    Scope.ROOM: IssueKind.TOO_MANY_ROOMS,
    Scope.DEVICE: IssueKind.TOO_MANY_DEVICES,
}


class IdLimits:
    """Refuses rooms and devices beyond the entry's caps, and says so."""

    def __init__(
        self, hass: HomeAssistant, entry: ConfigEntry, settings: Settings
    ) -> None:
        """Apply the caps of settings to entry."""
        self._hass = hass
        self._entry = entry
        self.caps = {Scope.ROOM: settings.max_rooms, Scope.DEVICE: settings.max_devices}
        self.refused: Counter[str] = Counter()
        self._reported: dict[Scope, float] = {}
        self._timers: dict[Scope, asyncio.TimerHandle] = {}

    @callback
    def start(self) -> None:
        """Forget an earlier issue: the caps may have been raised since."""
        for scope in self.caps:
            clear_issue(self._hass, self._entry.entry_id, _ISSUE[scope])

    def known[ModelT](
        self,
        models: dict[str, ModelT],
        scope: Scope,
        object_id: str,
        factory: Callable[[str], ModelT],
    ) -> tuple[ModelT, bool] | None:
        """Return the model of object_id and whether it is new; None if refused.

        The caller announces a new model to the platforms only after the
        message that made it is applied, so its entities start from what that
        message said (an announced name becomes the device name, and the
        entity ids).
        """
        if (model := models.get(object_id)) is not None:
            return model, False
        if not self.admits(scope, len(models)):
            return None
        model = models[object_id] = factory(object_id)
        return model, True

    @callback
    def admits(self, scope: Scope, known: int) -> bool:
        """Tell whether one more room or device fits; count it if not."""
        if known < self.caps[scope]:
            return True
        self.refused[scope] += 1
        if scope not in self._timers:
            due = self._reported.get(scope, -REPORT_INTERVAL) + REPORT_INTERVAL
            if self._hass.loop.time() >= due:
                self._report(scope)
            else:
                self._timers[scope] = self._hass.loop.call_at(due, self._report, scope)
        return False

    @callback
    def _report(self, scope: Scope) -> None:
        self._timers.pop(scope, None)
        self._reported[scope] = self._hass.loop.time()
        raise_issue(
            self._hass,
            self._entry.entry_id,
            _ISSUE[scope],
            {
                "entry": self._entry.title,
                "cap": str(self.caps[scope]),
                "refused": str(self.refused[scope]),
                "option": _OPTION[scope],
            },
        )

    def as_dict(self) -> dict[str, Any]:
        """Return the caps in force and the refusals, for diagnostics."""
        return {
            CONF_MAX_DEVICES: self.caps[Scope.DEVICE],
            CONF_MAX_ROOMS: self.caps[Scope.ROOM],
            "refused": dict(self.refused),
        }

    def cancel(self) -> None:
        """Stop pending reports (the entry is unloading)."""
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()
