"""Home Assistant's broker connection, as the entry's entities see it.

While it is down every entity but the bridge's connectivity sensor is
unavailable; the change is logged once each way, not once per entity. Also
the shape of the hub's subscribe, which the parts that listen are given.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
import logging
from typing import TYPE_CHECKING

from homeassistant.components import mqtt
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback

if TYPE_CHECKING:
    from homeassistant.components.mqtt import ReceiveMessage

_LOGGER = logging.getLogger(__name__)

# The hub's subscribe: a topic filter and its handler; the hub keeps the
# unsubscriber and lists the filter in diagnostics.
type Subscribe = Callable[[str, Callable[[ReceiveMessage], None]], Awaitable[None]]


class BrokerConnection:
    """Whether MQTT is connected; tells on_change when that changes."""

    def __init__(
        self, hass: HomeAssistant, title: str, on_change: Callable[[bool], None]
    ) -> None:
        """Watch the connection for the entry called title."""
        self._hass = hass
        self._title = title
        self._on_change = on_change
        self.connected = False
        self._logged_lost = False

    @callback
    def start(self) -> CALLBACK_TYPE:
        """Read the connection now and follow it; return the unsubscriber."""
        self.connected = mqtt.is_connected(self._hass)
        return mqtt.async_subscribe_connection_status(self._hass, self._changed)

    @callback
    def _changed(self, connected: bool) -> None:
        if connected == self.connected:
            return
        self.connected = connected
        if not connected and not self._logged_lost:
            _LOGGER.warning(
                "MQTT broker connection lost: %s entities are unavailable",
                self._title,
            )
            self._logged_lost = True
        elif connected and self._logged_lost:
            _LOGGER.info(
                "MQTT broker connection restored: %s entities are available again",
                self._title,
            )
            self._logged_lost = False
        self._on_change(connected)
