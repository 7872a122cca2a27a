"""The hub: a few wildcard subscriptions per entry, one parse per message.

Everything the fleet says arrives here, goes through the pure parser once,
updates plain models and wakes only the entities concerned. Entities never
subscribe to MQTT themselves.
"""

from __future__ import annotations

import asyncio
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
from homeassistant.util import dt as dt_util

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
from .conversation import DuplicateFilter, Room, RoomAspect
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
# A streamed answer is shown at most this often (4 writes a second per room):
# every write fans out to listeners and the recorder.
RESPONSE_WRITE_INTERVAL = 0.25

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


def room_name(room_id: str) -> str:
    """Return a room id as people write it: `living_room` -> `Living room`."""
    words = room_id.replace("_", " ").replace("-", " ").strip() or room_id
    return words[0].upper() + words[1:]


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
        self.rooms: dict[str, Room] = {}
        self._room_added: list[Callable[[Room], None]] = []
        self._duplicates = DuplicateFilter() if self.settings.migration else None
        self._response_written: dict[str, float] = {}
        self._response_flushes: dict[str, asyncio.TimerHandle] = {}
        self._sweep_timer: asyncio.TimerHandle | None = None

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
        """Drop every subscription, timer and listener."""
        while self._unsubscribes:
            self._unsubscribes.pop()()
        self.subscriptions.clear()
        self._listeners.clear()
        self._room_added.clear()
        for handle in self._response_flushes.values():
            handle.cancel()
        self._response_flushes.clear()
        if self._sweep_timer is not None:
            self._sweep_timer.cancel()
            self._sweep_timer = None

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
        if scope is Scope.ROOM:
            return DeviceInfo(
                identifiers={(DOMAIN, f"{entry_id}_room_{object_id}")},
                translation_key="room",
                translation_placeholders={"room": room_name(object_id)},
                manufacturer=MANUFACTURER,
                model="Voice room",
                via_device_id=self.bridge_device_id,
            )
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

    @callback
    def async_on_room_added(self, callback_: Callable[[Room], None]) -> CALLBACK_TYPE:
        """Call back for every room known now and every room heard later."""
        self._room_added.append(callback_)
        for room in tuple(self.rooms.values()):
            callback_(room)

        @callback
        def remove() -> None:
            if callback_ in self._room_added:
                self._room_added.remove(callback_)

        return remove

    # Rooms ------------------------------------------------------------------

    def _room(self, room_id: str) -> Room:
        if (room := self.rooms.get(room_id)) is None:
            room = self.rooms[room_id] = Room(room_id)
            for callback_ in tuple(self._room_added):
                callback_(room)
        return room

    @callback
    def _room_changed(self, room: Room, changes: set[RoomAspect]) -> None:
        for aspect in changes:
            if aspect is RoomAspect.RESPONSE:
                self._notify_response(room)
            else:
                self._notify(Scope.ROOM, room.room_id, aspect)
        if room.deadline is not None:
            self._schedule_sweep(room.deadline)

    @callback
    def _notify_response(self, room: Room) -> None:
        """Show a streamed answer at most every RESPONSE_WRITE_INTERVAL.

        The first chunk shows at once; later ones are gathered until the
        interval has passed. The end of a stream shows at once, exactly.
        """
        room_id = room.room_id
        now = self.hass.loop.time()
        if room.response is None or not room.response.streaming:
            if (pending := self._response_flushes.pop(room_id, None)) is not None:
                pending.cancel()
        elif room_id in self._response_flushes:
            return
        elif (
            last := self._response_written.get(room_id)
        ) is not None and now - last < RESPONSE_WRITE_INTERVAL:
            self._response_flushes[room_id] = self.hass.loop.call_at(
                last + RESPONSE_WRITE_INTERVAL, self._flush_response, room_id
            )
            return
        self._response_written[room_id] = now
        self._notify(Scope.ROOM, room_id, RoomAspect.RESPONSE)

    @callback
    def _flush_response(self, room_id: str) -> None:
        del self._response_flushes[room_id]
        self._response_written[room_id] = self.hass.loop.time()
        self._notify(Scope.ROOM, room_id, RoomAspect.RESPONSE)

    # Timeouts ---------------------------------------------------------------

    @callback
    def _schedule_sweep(self, deadline: float) -> None:
        """Make sure a sweep runs by deadline; one timer serves every model.

        Deadlines only move later as messages arrive, so most calls find the
        timer already early enough and cost a comparison.
        """
        if self._sweep_timer is not None:
            if self._sweep_timer.when() <= deadline:
                return
            self._sweep_timer.cancel()
        self._sweep_timer = self.hass.loop.call_at(deadline, self._sweep)

    @callback
    def _sweep(self) -> None:
        self._sweep_timer = None
        now = self.hass.loop.time()
        at = dt_util.utcnow()
        upcoming: list[float] = []
        for room in tuple(self.rooms.values()):
            if room.deadline is None:
                continue
            if changes := room.expire(now, at):
                self._room_changed(room, changes)
            if room.deadline is not None:
                upcoming.append(room.deadline)
        if upcoming:
            self._schedule_sweep(min(upcoming))

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
            now = self.hass.loop.time()
            if self._duplicates is not None and self._duplicates.is_duplicate(
                layout,
                (
                    message.room_id,
                    message.session_id,
                    message.message_type,
                    bytes(msg.payload)
                    if isinstance(msg.payload, bytearray)
                    else msg.payload,
                ),
                now,
            ):
                self.stats.duplicates += 1
                return
            room = self._room(message.room_id)
            self._room_changed(
                room,
                room.apply(
                    message, now=now, received=dt_util.utcnow(), retained=msg.retain
                ),
            )

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
