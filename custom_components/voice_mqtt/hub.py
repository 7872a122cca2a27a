"""The hub: a few wildcard subscriptions per entry, one parse per message.

Everything the fleet says arrives here, goes through the pure parser once,
updates plain models and wakes only the entities concerned. Entities never
subscribe to MQTT themselves.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
import logging
from typing import TYPE_CHECKING, Any

from homeassistant.components import mqtt
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.device_registry import (
    CONNECTION_NETWORK_MAC,
    DeviceEntry,
    DeviceEntryType,
    DeviceInfo,
)
from homeassistant.helpers.storage import Store
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
from .fleet import Device, DeviceAspect
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
    encode,
    normalize_mac,
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
# The admin snapshot is published at most once a second.
SNAPSHOT_INTERVAL = 1.0
# last_seen is saved when it moved this much: stale devices are counted in days.
LAST_SEEN_GRANULARITY = timedelta(hours=1)
STORE_VERSION = 1
STORE_SAVE_DELAY = 60

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
    DEVICES_ONLINE = "devices_online"


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


def last_seen_store(
    hass: HomeAssistant, entry_id: str
) -> Store[dict[str, dict[str, str]]]:
    """Return where an entry keeps when its rooms and devices were last heard of."""
    return Store(hass, STORE_VERSION, f"{DOMAIN}.{entry_id}")


def _mac_or_none(device_id: str) -> str | None:
    try:
        return normalize_mac(device_id)
    except ValueError:
        return None


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
        self.bridge_device_id = ""
        self.rooms: dict[str, Room] = {}
        self.devices: dict[str, Device] = {}
        self._listeners: dict[tuple[Scope, str, str], list[Listener]] = {}
        self._room_added: list[Callable[[Room], None]] = []
        self._device_added: list[Callable[[Device], None]] = []
        self._unsubscribes: list[CALLBACK_TYPE] = []
        self._logged_rejections: set[Rejection] = set()
        self._logged_unavailable = False
        self._duplicates = DuplicateFilter() if self.settings.migration else None
        self._response_written: dict[str, float] = {}
        self._response_flushes: dict[str, asyncio.TimerHandle] = {}
        self._sweep_timer: asyncio.TimerHandle | None = None
        self._snapshot_timer: asyncio.TimerHandle | None = None
        self._snapshot_published = -SNAPSHOT_INTERVAL
        self._store = last_seen_store(hass, entry.entry_id)
        # When each room and device was last heard of, as saved: "{scope}_{id}".
        self._last_seen: dict[str, datetime] = {}

    # Life cycle -------------------------------------------------------------

    async def async_start(self) -> None:
        """Register the bridge, restore rooms and devices, subscribe."""
        scheme = self.settings.scheme
        self.bridge_device_id = (
            dr.async_get(self.hass)
            .async_get_or_create(
                config_entry_id=self.entry.entry_id,
                **self.device_info(Scope.BRIDGE, ""),
            )
            .id
        )
        await self._async_restore()
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
        if self.settings.admin_snapshot:
            await self._async_subscribe(
                scheme.admin_request_topic, self._async_snapshot_requested
            )

    @callback
    def async_stop(self) -> None:
        """Drop every subscription, timer and listener."""
        while self._unsubscribes:
            self._unsubscribes.pop()()
        self.subscriptions.clear()
        self._listeners.clear()
        self._room_added.clear()
        self._device_added.clear()
        for handle in self._response_flushes.values():
            handle.cancel()
        self._response_flushes.clear()
        for timer in (self._sweep_timer, self._snapshot_timer):
            if timer is not None:
                timer.cancel()
        self._sweep_timer = self._snapshot_timer = None

    async def async_save(self) -> None:
        """Write when rooms and devices were last heard of (on unload)."""
        await self._store.async_save(self._stored_data())

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

    # Registry -----------------------------------------------------------------

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
        if scope is Scope.DEVICE:
            device = self.devices[object_id]
            info = DeviceInfo(
                identifiers={(DOMAIN, f"{entry_id}_device_{object_id}")},
                name=device.name or object_id,
                manufacturer=MANUFACTURER,
                model=device.device_type,
                via_device_id=self.bridge_device_id,
            )
            if (mac := _mac_or_none(object_id)) is not None:
                info["connections"] = {(CONNECTION_NETWORK_MAC, mac)}
            return info
        return DeviceInfo(
            identifiers={(DOMAIN, entry_id)},
            name=self.entry.title,
            manufacturer=MANUFACTURER,
            model="MQTT bridge",
            entry_type=DeviceEntryType.SERVICE,
        )

    def identify(self, device_entry: DeviceEntry) -> tuple[Scope, str] | None:
        """Tell which room or device a registry entry stands for."""
        entry_id = self.entry.entry_id
        for domain, identifier in device_entry.identifiers:
            if domain != DOMAIN:
                continue
            for scope in (Scope.ROOM, Scope.DEVICE):
                prefix = f"{entry_id}_{scope}_"
                if identifier.startswith(prefix):
                    return scope, identifier.removeprefix(prefix)
        return None

    async def _async_restore(self) -> None:
        """Know rooms and devices from the registry before any message arrives.

        What has not been heard of for the configured number of days is
        removed instead. Restored devices are neither online nor offline.
        """
        stored = await self._store.async_load() or {}
        self._last_seen = {
            key: parsed
            for key, text in stored.get("last_seen", {}).items()
            if (parsed := dt_util.parse_datetime(text)) is not None
        }
        registry = dr.async_get(self.hass)
        now = dt_util.utcnow()
        oldest = now - timedelta(days=self.settings.stale_device_days)
        for device_entry in dr.async_entries_for_config_entry(
            registry, self.entry.entry_id
        ):
            if (known := self.identify(device_entry)) is None:
                continue
            scope, object_id = known
            key = f"{scope}_{object_id}"
            last_seen = self._last_seen.setdefault(key, now)
            if last_seen < oldest:
                _LOGGER.info(
                    "Removing %s: not heard from since %s",
                    device_entry.name_by_user or device_entry.name,
                    last_seen.date(),
                )
                registry.async_remove_device(device_entry.id)
                del self._last_seen[key]
            elif scope is Scope.ROOM:
                self.rooms[object_id] = Room(object_id)
            else:
                self.devices[object_id] = Device.with_timeout(
                    object_id,
                    self.settings.heartbeat_timeout,
                    name=device_entry.name,
                    device_type=device_entry.model,
                )
        self._store.async_delay_save(self._stored_data, STORE_SAVE_DELAY)

    def _stored_data(self) -> dict[str, dict[str, str]]:
        return {
            "last_seen": {
                key: moment.isoformat() for key, moment in self._last_seen.items()
            }
        }

    @callback
    def _note_seen(self, scope: Scope, object_id: str, moment: datetime) -> None:
        """Save when a room or device was heard of, about once an hour at most."""
        key = f"{scope}_{object_id}"
        saved = self._last_seen.get(key)
        if saved is None or moment - saved >= LAST_SEEN_GRANULARITY:
            self._last_seen[key] = moment
            self._store.async_delay_save(self._stored_data, STORE_SAVE_DELAY)

    @callback
    def async_forget(self, device_entry: DeviceEntry) -> bool:
        """Let the user remove a room or a device; the bridge stays.

        A forgotten room or device comes back when it is heard from again.
        """
        if (known := self.identify(device_entry)) is None:
            return False
        scope, object_id = known
        if scope is Scope.ROOM:
            self.rooms.pop(object_id, None)
            self._response_written.pop(object_id, None)
            if (flush := self._response_flushes.pop(object_id, None)) is not None:
                flush.cancel()
        elif self.devices.pop(object_id, None) is not None:
            self._notify(Scope.BRIDGE, "", BridgeAspect.DEVICES_ONLINE)
            self._schedule_snapshot()
        self._last_seen.pop(f"{scope}_{object_id}", None)
        self._store.async_delay_save(self._stored_data, STORE_SAVE_DELAY)
        return True

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
        return _register(self._room_added, callback_, self.rooms.values())

    @callback
    def async_on_device_added(
        self, callback_: Callable[[Device], None]
    ) -> CALLBACK_TYPE:
        """Call back for every device known now and every device heard later."""
        return _register(self._device_added, callback_, self.devices.values())

    # Connection -------------------------------------------------------------

    @callback
    def _async_connection_changed(self, connected: bool) -> None:
        if connected == self.connected:
            return
        self.connected = connected
        now = self.hass.loop.time()
        for device in self.devices.values():
            # Silence proves nothing while no message can arrive.
            if connected:
                device.presence.resume(now)
                if device.presence.deadline is not None:
                    self._schedule_sweep(device.presence.deadline)
            else:
                device.presence.suspend()
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

    # Rooms ------------------------------------------------------------------

    def _voice_handler(
        self, scheme: TopicScheme, layout: Layout
    ) -> Callable[[ReceiveMessage], None]:
        counter = f"voice_{layout}"

        @callback
        def handle(msg: ReceiveMessage) -> None:
            self.stats.received[counter] += 1
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
            received = dt_util.utcnow()
            room, new = self._known(self.rooms, message.room_id, Room)
            self._note_seen(Scope.ROOM, room.room_id, received)
            self._room_changed(
                room,
                room.apply(message, now=now, received=received, retained=msg.retain),
            )
            if new:
                _announce(self._room_added, room)

        return handle

    def _known[ModelT](
        self,
        models: dict[str, ModelT],
        object_id: str,
        factory: Callable[[str], ModelT],
    ) -> tuple[ModelT, bool]:
        """Return the model of object_id, and whether it was just made.

        A new model is announced to the platforms only after the message that
        made it is applied, so its entities start from what that message said
        (an announced name becomes the device name, and the entity ids).
        """
        if (model := models.get(object_id)) is not None:
            return model, False
        model = models[object_id] = factory(object_id)
        return model, True

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

    # Devices ----------------------------------------------------------------

    @property
    def devices_online(self) -> int:
        """Count the devices online now."""
        return sum(1 for device in self.devices.values() if device.online)

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
        if message.id_mismatch:
            self.stats.id_mismatches += 1
        received = dt_util.utcnow()
        device, new = self._known(self.devices, message.device_id, self._new_device)
        self._note_seen(Scope.DEVICE, device.device_id, received)
        self._device_changed(
            device,
            device.apply(
                message,
                now=self.hass.loop.time(),
                received=received,
                retained=msg.retain,
            ),
        )
        if new:
            _announce(self._device_added, device)

    def _new_device(self, device_id: str) -> Device:
        return Device.with_timeout(device_id, self.settings.heartbeat_timeout)

    @callback
    def _device_changed(self, device: Device, changes: set[DeviceAspect]) -> None:
        if not changes:
            return  # the common case: a heartbeat of a device known online
        for aspect in changes:
            if aspect is DeviceAspect.INFO:
                self._update_registry(device)
            else:
                self._notify(Scope.DEVICE, device.device_id, aspect)
        if DeviceAspect.PRESENCE in changes:
            self._notify(Scope.BRIDGE, "", BridgeAspect.DEVICES_ONLINE)
            if device.presence.deadline is not None:
                self._schedule_sweep(device.presence.deadline)
        if changes - {DeviceAspect.EVENT}:
            self._schedule_snapshot()

    def _update_registry(self, device: Device) -> None:
        """Carry a new announced name or type to the device registry."""
        registry = dr.async_get(self.hass)
        entry = registry.async_get_device_by_identifier(
            (DOMAIN, f"{self.entry.entry_id}_device_{device.device_id}"),
            self.entry.entry_id,
        )
        # Before its entities are added the device is not registered yet; they
        # will register it with the new name.
        if entry is not None:
            registry.async_update_device(
                entry.id, name=device.name or device.device_id, model=device.device_type
            )

    # Admin snapshot -----------------------------------------------------------

    @callback
    def _async_snapshot_requested(self, msg: ReceiveMessage) -> None:
        self.stats.received["admin"] += 1
        self._schedule_snapshot()

    @callback
    def _schedule_snapshot(self) -> None:
        """Publish the device list now, or as soon as a second has passed."""
        if not self.settings.admin_snapshot or self._snapshot_timer is not None:
            return
        due = self._snapshot_published + SNAPSHOT_INTERVAL
        if self.hass.loop.time() >= due:
            self._publish_snapshot()
        else:
            self._snapshot_timer = self.hass.loop.call_at(due, self._publish_snapshot)

    @callback
    def _publish_snapshot(self) -> None:
        self._snapshot_timer = None
        self._snapshot_published = self.hass.loop.time()
        payload = encode(
            {
                "devices": [
                    self.devices[device_id].snapshot_entry()
                    for device_id in sorted(self.devices)
                ],
                "timestamp": dt_util.utcnow().isoformat(),
            }
        )
        self.entry.async_create_background_task(
            self.hass,
            self._async_publish_snapshot(payload),
            f"{DOMAIN} admin snapshot",
        )

    async def _async_publish_snapshot(self, payload: str) -> None:
        try:
            await mqtt.async_publish(
                self.hass,
                self.settings.scheme.admin_snapshot_topic,
                payload,
                self.settings.qos,
                retain=True,
            )
        except HomeAssistantError as err:
            _LOGGER.warning("Could not publish the admin device snapshot: %s", err)

    # Timeouts ---------------------------------------------------------------

    @callback
    def _schedule_sweep(self, deadline: float) -> None:
        """Make sure a sweep runs by deadline; one timer serves every model.

        Deadlines only move later as messages arrive, so a heartbeat finds the
        timer already early enough and costs a comparison, not a timer.
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
        for device in tuple(self.devices.values()):
            if device.presence.deadline is None:
                continue
            if device.presence.expire(now):
                self._device_changed(device, {DeviceAspect.PRESENCE})
            if device.presence.deadline is not None:
                upcoming.append(device.presence.deadline)
        if upcoming:
            self._schedule_sweep(min(upcoming))

    # Rejections ---------------------------------------------------------------

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


def _announce[ModelT](callbacks: list[Callable[[ModelT], None]], model: ModelT) -> None:
    for callback_ in tuple(callbacks):
        callback_(model)


def _register[ModelT](
    callbacks: list[Callable[[ModelT], None]],
    callback_: Callable[[ModelT], None],
    known: Iterable[ModelT],
) -> CALLBACK_TYPE:
    """Add callback_ to callbacks, call it for what is known, return its remover."""
    callbacks.append(callback_)
    for model in tuple(known):
        callback_(model)

    @callback
    def remove() -> None:
        if callback_ in callbacks:
            callbacks.remove(callback_)

    return remove
