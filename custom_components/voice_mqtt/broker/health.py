"""The broker's health from its own $SYS topics: an option, off by default.

Four subscriptions (uptime, version, clients connected, messages received a
minute), so a mosquitto at its default sys_interval of 10 s sends about 24
messages a minute; a broker that publishes no $SYS sends none. The figures are
fresh while they keep coming: after three missed intervals (the interval is
learnt from the uptime's steps) they are stale and the entities unavailable,
instead of showing the last figures as if they were current.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Final

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers.event import async_track_time_interval
from homeassistant.util import dt as dt_util

from ..models.settings import Settings
from ..protocol import (
    SYS_TOPICS,
    BrokerFigure,
    BrokerValue,
    TopicScheme,
    parse_sys_message,
)
from .connection import Subscribe
from .intake import Intake, Payload

if TYPE_CHECKING:
    from homeassistant.components.mqtt import ReceiveMessage

DEFAULT_INTERVAL: Final = 10.0  # mosquitto's sys_interval
MAX_INTERVAL: Final = 600.0
STALE_INTERVALS: Final = 3
CHECK_EVERY: Final = timedelta(seconds=15)
# The start time is now minus the uptime, which wobbles by a second or two
# with delivery; it moves by more only when the broker restarted.
RESTART_TOLERANCE: Final = 5.0


def broker_aspect(figure: BrokerFigure) -> str:
    """Return the bridge aspect that one figure's change notifies."""
    return f"broker_{figure}"


def _parse(
    _scheme: TopicScheme, topic: str, payload: Payload
) -> tuple[BrokerFigure, BrokerValue]:
    return parse_sys_message(topic, payload)


class BrokerHealth:
    """What the broker says about itself, and whether it still says it."""

    def __init__(
        self,
        hass: HomeAssistant,
        settings: Settings,
        intake: Intake,
        changed: Callable[[str], None],
    ) -> None:
        """Know nothing until the broker speaks."""
        self._hass = hass
        self._scheme = settings.scheme
        self.enabled = settings.broker_health
        self._intake = intake
        self._changed = changed
        self.started: datetime | None = None
        self.version: str | None = None
        self.clients: int | None = None
        self.received: float | None = None
        self.interval = DEFAULT_INTERVAL
        self.fresh = False
        self._heard: float | None = None
        self._uptime: int | None = None

    async def async_start(self, subscribe: Subscribe) -> CALLBACK_TYPE:
        """Subscribe to the figures (when enabled); return what stops it."""
        if not self.enabled:
            return lambda: None
        for topic in SYS_TOPICS:
            await subscribe(topic, self._message)
        return async_track_time_interval(self._hass, self._check, CHECK_EVERY)

    @callback
    def _message(self, msg: ReceiveMessage) -> None:
        parsed = self._intake.parse(
            "broker", _parse, self._scheme, msg.topic, msg.payload
        )
        if parsed is None:
            return
        self._heard = msg.timestamp or self._hass.loop.time()
        figure, value = parsed
        if not self._apply(figure, value) and self.fresh:
            return  # the common case: a figure that did not change
        if self.fresh:
            self._changed(broker_aspect(figure))
        else:
            self._set_fresh(True)

    def _apply(self, figure: BrokerFigure, value: BrokerValue) -> bool:
        match figure, value:
            case BrokerFigure.UPTIME, int():
                return self._take_uptime(value)
            case BrokerFigure.VERSION, str() if value != self.version:
                self.version = value
            case BrokerFigure.CLIENTS, int() if value != self.clients:
                self.clients = value
            case BrokerFigure.RECEIVED, float() if value != self.received:
                self.received = value
            case _:
                return False
        return True

    def _take_uptime(self, uptime: int) -> bool:
        if self._uptime is not None and (step := uptime - self._uptime) > 0:
            self.interval = min(float(step), MAX_INTERVAL)
        self._uptime = uptime
        started = dt_util.utcnow() - timedelta(seconds=uptime)
        if self.started is not None and (
            abs((started - self.started).total_seconds()) <= RESTART_TOLERANCE
        ):
            return False
        self.started = started
        return True

    @callback
    def _check(self, _now: datetime) -> None:
        if not self.fresh or self._heard is None:
            return
        silent = self._hass.loop.time() - self._heard
        if silent > STALE_INTERVALS * self.interval:
            self._set_fresh(False)

    def _set_fresh(self, fresh: bool) -> None:
        # Every figure's entity changes availability.
        self.fresh = fresh
        for figure in BrokerFigure:
            self._changed(broker_aspect(figure))

    def as_dict(self) -> dict[str, object]:
        """Return plain data for diagnostics."""
        return {
            "fresh": self.fresh,
            "interval": self.interval,
            "version": self.version,
            "clients": self.clients,
            "received_per_minute": self.received,
            "started": None if self.started is None else self.started.isoformat(),
        }
