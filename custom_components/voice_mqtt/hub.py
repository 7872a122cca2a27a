"""The hub: a few wildcard subscriptions per entry, one parse per message.

Everything the fleet says arrives here, goes through the pure parser once,
updates plain models and wakes only the entities concerned. Entities never
subscribe to MQTT themselves.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
import logging
from typing import TYPE_CHECKING, Any

from homeassistant.components import mqtt
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.device_registry import DeviceEntryType, DeviceInfo

from .const import (
    CONF_ADMIN_PREFIX,
    CONF_ADMIN_SNAPSHOT,
    CONF_BASE,
    CONF_DEVICE_PREFIX,
    CONF_HEARTBEAT_TIMEOUT,
    CONF_LEGACY_TOPICS,
    CONF_QOS,
    CONF_SESSION_PREFIX,
    CONF_STALE_DEVICE_DAYS,
    CONF_VERSION,
    CONF_XIAOZHI_PREFIX,
    DEFAULT_QOS,
    DEFAULT_STALE_DEVICE_DAYS,
    DOMAIN,
    MANUFACTURER,
)
from .presence import DEFAULT_HEARTBEAT_TIMEOUT
from .protocol import (
    DEFAULT_ADMIN_PREFIX,
    DEFAULT_BASE,
    DEFAULT_DEVICE_PREFIX,
    DEFAULT_SESSION_PREFIX,
    DEFAULT_VERSION,
    DEFAULT_XIAOZHI_PREFIX,
    Layout,
    ProtocolError,
    Rejection,
    TopicScheme,
    parse_device_message,
    parse_voice_message,
)

if TYPE_CHECKING:
    from homeassistant.components.mqtt import ReceiveMessage

_LOGGER = logging.getLogger(__name__)

# Voice topics are QoS 1 by protocol; device topics mix 0 (heartbeats) and 1.
_SUBSCRIBE_QOS = 1

type Listener = Callable[[], None]
type VoiceMqttConfigEntry = ConfigEntry[VoiceMqttHub]


class Scope(StrEnum):
    """What an entity belongs to; part of its unique id."""

    BRIDGE = "bridge"
    ROOM = "room"
    DEVICE = "device"


class BridgeAspect(StrEnum):
    """Parts of the bridge that entities show."""

    CONNECTION = "connection"


@dataclass(frozen=True, slots=True)
class Settings:
    """What a config entry asks of the hub."""

    scheme: TopicScheme
    legacy_topics: bool = False
    heartbeat_timeout: float = DEFAULT_HEARTBEAT_TIMEOUT
    qos: int = DEFAULT_QOS
    admin_snapshot: bool = False
    stale_device_days: int = DEFAULT_STALE_DEVICE_DAYS

    @classmethod
    def from_entry(cls, entry: ConfigEntry) -> Settings:
        """Read the namespace from data and the behaviour from options."""
        data, options = entry.data, entry.options
        return cls(
            scheme=TopicScheme(
                version=data.get(CONF_VERSION, DEFAULT_VERSION),
                base=data.get(CONF_BASE, DEFAULT_BASE),
                device_prefix=data.get(CONF_DEVICE_PREFIX, DEFAULT_DEVICE_PREFIX),
                session_prefix=data.get(CONF_SESSION_PREFIX, DEFAULT_SESSION_PREFIX),
                admin_prefix=data.get(CONF_ADMIN_PREFIX, DEFAULT_ADMIN_PREFIX),
                xiaozhi_prefix=data.get(CONF_XIAOZHI_PREFIX, DEFAULT_XIAOZHI_PREFIX),
            ),
            legacy_topics=options.get(CONF_LEGACY_TOPICS, False),
            heartbeat_timeout=float(
                options.get(CONF_HEARTBEAT_TIMEOUT, DEFAULT_HEARTBEAT_TIMEOUT)
            ),
            qos=int(options.get(CONF_QOS, DEFAULT_QOS)),
            admin_snapshot=options.get(CONF_ADMIN_SNAPSHOT, False),
            stale_device_days=int(
                options.get(CONF_STALE_DEVICE_DAYS, DEFAULT_STALE_DEVICE_DAYS)
            ),
        )

    @property
    def migration(self) -> bool:
        """Tell whether v0 topics are heard besides the configured version."""
        return self.legacy_topics and not self.scheme.is_legacy


@dataclass(slots=True)
class MessageStats:
    """Counts for diagnostics: what came in, what was dropped and why."""

    received: Counter[str] = field(default_factory=Counter)
    rejected: Counter[str] = field(default_factory=Counter)
    cleared: int = 0
    duplicates: int = 0
    id_mismatches: int = 0

    def as_dict(self) -> dict[str, Any]:
        """Return plain data for diagnostics."""
        return {
            "received": dict(self.received),
            "rejected": dict(self.rejected),
            "cleared": self.cleared,
            "duplicates": self.duplicates,
            "id_mismatches": self.id_mismatches,
        }


def _printable(topic: str) -> str:
    """Shorten a topic for a log line; it may be hostile."""
    return repr(topic[:200])


class VoiceMqttHub:
    """Receives, parses and routes everything for one config entry."""

    def __init__(self, hass: HomeAssistant, entry: ConfigEntry) -> None:
        """Prepare; nothing is subscribed until async_start."""
        self.hass = hass
        self.entry = entry
        self.settings = Settings.from_entry(entry)
        self.connected = False
        self.stats = MessageStats()
        self.subscriptions: list[str] = []
        self._listeners: dict[tuple[Scope, str, str], list[Listener]] = {}
        self._unsubscribes: list[CALLBACK_TYPE] = []
        self._logged_rejections: set[Rejection] = set()
        self._logged_unavailable = False
        self.bridge_device_id = ""

    # Life cycle -------------------------------------------------------------

    async def async_start(self) -> None:
        """Register the bridge device, subscribe and follow the connection."""
        scheme = self.settings.scheme
        self.bridge_device_id = (
            dr.async_get(self.hass)
            .async_get_or_create(
                config_entry_id=self.entry.entry_id,
                **self.device_info(Scope.BRIDGE, ""),
            )
            .id
        )
        self.connected = mqtt.is_connected(self.hass)
        self._unsubscribes.append(
            mqtt.async_subscribe_connection_status(
                self.hass, self._async_connection_changed
            )
        )
        await self._async_subscribe(
            scheme.voice_filter, self._voice_handler(scheme, Layout.CURRENT)
        )
        if self.settings.migration:
            legacy = scheme.legacy()
            await self._async_subscribe(
                legacy.voice_filter, self._voice_handler(legacy, Layout.LEGACY)
            )
        await self._async_subscribe(scheme.device_filter, self._async_device_message)

    @callback
    def async_stop(self) -> None:
        """Drop every subscription and listener."""
        while self._unsubscribes:
            self._unsubscribes.pop()()
        self.subscriptions.clear()
        self._listeners.clear()

    async def _async_subscribe(
        self, topic_filter: str, handler: Callable[[ReceiveMessage], None]
    ) -> None:
        # encoding=None: bytes arrive untouched, so bad UTF-8 is counted here
        # instead of being dropped silently by the MQTT integration.
        self._unsubscribes.append(
            await mqtt.async_subscribe(
                self.hass, topic_filter, handler, _SUBSCRIBE_QOS, encoding=None
            )
        )
        self.subscriptions.append(topic_filter)

    # Devices ----------------------------------------------------------------

    def device_info(self, scope: Scope, object_id: str) -> DeviceInfo:
        """Return the registry entry of the bridge, a room or a voice device."""
        entry_id = self.entry.entry_id
        return DeviceInfo(
            identifiers={(DOMAIN, entry_id)},
            name=self.entry.title,
            manufacturer=MANUFACTURER,
            model="MQTT bridge",
            entry_type=DeviceEntryType.SERVICE,
        )

    # Listeners --------------------------------------------------------------

    @callback
    def async_listen(
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
    def _notify(self, scope: Scope, object_id: str, aspect: str) -> None:
        for listener in tuple(self._listeners.get((scope, object_id, aspect), ())):
            listener()

    # Connection -------------------------------------------------------------

    @callback
    def _async_connection_changed(self, connected: bool) -> None:
        if connected == self.connected:
            return
        self.connected = connected
        if not connected and not self._logged_unavailable:
            _LOGGER.warning(
                "MQTT broker connection lost: %s entities are unavailable",
                self.entry.title,
            )
            self._logged_unavailable = True
        elif connected and self._logged_unavailable:
            _LOGGER.info(
                "MQTT broker connection restored: %s entities are available again",
                self.entry.title,
            )
            self._logged_unavailable = False
        self._notify(Scope.BRIDGE, "", BridgeAspect.CONNECTION)

    # Inbound messages -------------------------------------------------------

    def _voice_handler(
        self, scheme: TopicScheme, layout: Layout
    ) -> Callable[[ReceiveMessage], None]:
        @callback
        def handle(msg: ReceiveMessage) -> None:
            self.stats.received[f"voice_{layout}"] += 1
            try:
                message = parse_voice_message(scheme, msg.topic, msg.payload)
            except ProtocolError as err:
                self._reject(err, msg.topic)
                return
            if message is None:
                self.stats.cleared += 1
                return

        return handle

    @callback
    def _async_device_message(self, msg: ReceiveMessage) -> None:
        self.stats.received["device"] += 1
        try:
            message = parse_device_message(self.settings.scheme, msg.topic, msg.payload)
        except ProtocolError as err:
            self._reject(err, msg.topic)
            return
        if message is None:
            self.stats.cleared += 1
            return

    def _reject(self, err: ProtocolError, topic: str) -> None:
        self.stats.rejected[err.reason] += 1
        # Once per reason at warning level, then quietly: a misbehaving
        # publisher must not flood the log.
        if err.reason in self._logged_rejections:
            _LOGGER.debug("Dropped message on %s: %s", _printable(topic), err)
            return
        self._logged_rejections.add(err.reason)
        _LOGGER.warning(
            "Dropped message on %s: %s (further drops for this reason are logged"
            " at debug level)",
            _printable(topic),
            err,
        )
