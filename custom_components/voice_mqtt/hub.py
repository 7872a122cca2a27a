"""The hub: a few wildcard subscriptions per entry, one parse per message.

Everything the fleet says arrives here, goes through the pure parser once
(broker/intake), is applied to its room or device model (models/), and wakes
only the entities concerned (dispatch/). The hub routes; each other concern
lives in a package of its own (see ARCHITECTURE.md). Entities never subscribe
to MQTT themselves.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

from homeassistant.components import mqtt
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers.device_registry import DeviceEntry
from homeassistant.util import dt as dt_util

from .broker.connection import BrokerConnection
from .broker.health import BrokerHealth
from .broker.intake import Intake
from .const import Scope
from .conversations.figures import Conversations
from .conversations.history import ConversationHistory
from .dispatch.arrivals import Arrivals
from .dispatch.listeners import BridgeAspect, Listeners
from .dispatch.timers import GroupWrites, StreamWritePacer, Sweeper
from .fleet.answers import PendingAnswers
from .fleet.health import FleetHealth
from .fleet.limits import IdLimits
from .fleet.link import FleetLink
from .fleet.snapshot import AdminSnapshot
from .issues.traffic import TrafficHealth
from .models.device import Device, DeviceAspect, resume_presence, suspend_presence
from .models.heartbeats import QuietHeartbeats
from .models.migration import DuplicateFilter, twin_key
from .models.room import Room, RoomAspect
from .models.sessions import Sessions
from .models.settings import Settings
from .protocol import (
    CommandAnswer,
    Heartbeat,
    Layout,
    TopicScheme,
    parse_device_message,
    parse_voice_message,
)
from .registry.devices import RegistrySync
from .registry.last_seen import LastSeen, async_restore

if TYPE_CHECKING:
    from homeassistant.components.mqtt import ReceiveMessage

# Voice topics are QoS 1 by protocol; device topics mix 0 (heartbeats) and 1.
_SUBSCRIBE_QOS = 1

type VoiceMqttConfigEntry = ConfigEntry[VoiceMqttHub]


class VoiceMqttHub:
    """Receives, parses and routes everything for one config entry."""

    def __init__(self, hass: HomeAssistant, entry: VoiceMqttConfigEntry) -> None:
        """Prepare; nothing is subscribed until async_start."""
        self.hass = hass
        self.entry = entry
        self.settings = Settings.from_entry(entry.data, entry.options)
        self.connection = BrokerConnection(
            hass, entry.title, self._async_connection_changed
        )
        self.subscriptions: list[str] = []
        self.rooms: dict[str, Room] = {}
        self.devices: dict[str, Device] = {}
        self.intake = Intake()
        self.answers = PendingAnswers()
        self.listeners = Listeners()
        self.broker_health = BrokerHealth(
            hass,
            self.settings,
            self.intake,
            partial(self.listeners.notify, Scope.BRIDGE, ""),
        )
        self.room_arrivals: Arrivals[Room] = Arrivals(hass)
        self.device_arrivals: Arrivals[Device] = Arrivals(hass)
        # Devices that begin to play, for their media players.
        self.player_arrivals: Arrivals[Device] = Arrivals(hass)
        self.sessions = Sessions()
        self.group_writes = GroupWrites(
            hass,
            partial(self.listeners.notify, Scope.DEVICE, aspect=DeviceAspect.GROUP),
        )
        self.limits = IdLimits(hass, entry, self.settings)
        self.registry = RegistrySync(hass, entry)
        self.fleet_health = FleetHealth(
            hass, entry, self.registry, partial(self.listeners.notify, Scope.DEVICE)
        )
        # Ids of the devices online now: the bridge's count costs nothing.
        self.online = self.fleet_health.online
        self.fleet_link = FleetLink(
            hass, entry, self.settings, self.intake, self._async_link_changed
        )
        # Whether messages can reach us: the broker connected, the link not down.
        self._flowing = False
        self.health = TrafficHealth(
            hass,
            entry,
            self.settings,
            (self.rooms, self.online),
            lambda: self.fleet_link.down,
        )
        self.conversations = Conversations(
            hass,
            self.registry,
            partial(self.listeners.notify, Scope.BRIDGE, "", BridgeAspect.TURNS),
        )
        self.history = ConversationHistory(
            hass, entry.entry_id, self.settings.history_turns
        )
        self.last_seen = LastSeen(hass, entry.entry_id)
        self.sweeper = Sweeper(
            hass, self.rooms, self.devices, (self._room_changed, self._device_changed)
        )
        self.snapshot = AdminSnapshot(
            hass, entry, self.settings, self.devices, self.intake
        )
        self._stream_pacer = StreamWritePacer(
            hass, partial(self.listeners.notify, Scope.ROOM, aspect=RoomAspect.RESPONSE)
        )
        self._duplicates = DuplicateFilter() if self.settings.migration else None
        self._quiet = QuietHeartbeats()
        self._new_device = partial(
            Device.with_timeout, timeout=self.settings.heartbeat_timeout
        )
        self._unsubscribes: list[CALLBACK_TYPE] = []

    # Life cycle -------------------------------------------------------------

    async def async_start(self) -> None:
        """Register the bridge, restore rooms and devices, subscribe."""
        self.registry.register_bridge()
        self.limits.start()
        restored = await async_restore(self.registry, self.last_seen, self.settings)
        self.rooms.update(restored.rooms)
        await self.history.async_load()
        self.devices.update(restored.devices)
        self._unsubscribes.append(self.connection.start())
        self._flowing = self.connection.connected
        self._unsubscribes.append(self.last_seen.track(self.rooms, self.devices))
        self._unsubscribes.append(self.conversations.start())
        self._unsubscribes.append(self.fleet_health.start(self.devices))
        scheme = self.settings.scheme
        await self._subscribe(scheme.voice_filter, self._voice(scheme, Layout.CURRENT))
        if self.settings.migration:
            legacy = scheme.legacy()
            await self._subscribe(
                legacy.voice_filter, self._voice(legacy, Layout.LEGACY)
            )
        await self._subscribe(scheme.device_filter, self._async_device_message)
        if self.settings.admin_snapshot:
            await self._subscribe(scheme.admin_request_topic, self.snapshot.requested)
        self._unsubscribes.append(await self.health.async_start(self._subscribe))
        self._unsubscribes.append(await self.broker_health.async_start(self._subscribe))
        self._unsubscribes.append(await self.fleet_link.async_start(self._subscribe))

    @callback
    def async_stop(self) -> None:
        """Drop every subscription, timer and listener."""
        while self._unsubscribes:
            self._unsubscribes.pop()()
        self.subscriptions.clear()
        self.listeners.clear()
        for timers in (
            self.room_arrivals,
            self.device_arrivals,
            self.player_arrivals,
            self.group_writes,
            self._stream_pacer,
            self.sweeper,
            self.snapshot,
            self.limits,
            self.health,
            self.answers,
        ):
            timers.cancel()

    async def _subscribe(
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

    @callback
    def async_forget(self, device_entry: DeviceEntry) -> bool:
        """Let the user remove a room or a device; the bridge stays.

        A forgotten room or device comes back when it is heard from again.
        """
        if (known := self.registry.identify(device_entry)) is None:
            return False
        scope, object_id = known
        if scope is Scope.ROOM:
            if (room := self.rooms.pop(object_id, None)) is not None:
                self.room_arrivals.forget(room)
            self._stream_pacer.forget(object_id)
            self.history.forget(object_id)
        elif (device := self.devices.pop(object_id, None)) is not None:
            self.device_arrivals.forget(device)
            self.player_arrivals.forget(device)
            self.group_writes.changed(self.sessions.forget(object_id))
            self._quiet.forget(device)
            self.fleet_health.forget(object_id)
            self.listeners.notify(Scope.BRIDGE, "", BridgeAspect.DEVICES_ONLINE)
            self.snapshot.schedule()
        self.last_seen.forget(scope, object_id)
        return True

    # Connection -------------------------------------------------------------

    @callback
    def _async_connection_changed(self, connected: bool) -> None:
        self._flow_changed()
        self.listeners.notify(Scope.BRIDGE, "", BridgeAspect.CONNECTION)

    @callback
    def _async_link_changed(self) -> None:
        self._flow_changed()
        self.listeners.notify(Scope.BRIDGE, "", BridgeAspect.FLEET_LINK)
        # Every room and device entity is (un)available with the link.
        self.listeners.notify(Scope.BRIDGE, "", BridgeAspect.CONNECTION)

    def _flow_changed(self) -> None:
        # Silence proves nothing while no message can arrive: the broker is
        # away, or the bridge that carries the fleet is down. Timeouts start
        # from zero when messages can flow again.
        flowing = self.connection.connected and not self.fleet_link.down
        if flowing == self._flowing:
            return
        self._flowing = flowing
        if flowing:
            now = self.hass.loop.time()
            for deadline in resume_presence(self.devices.values(), now):
                self.sweeper.schedule(deadline)
        else:
            suspend_presence(self.devices.values())

    # Voice messages -----------------------------------------------------------

    def _voice(
        self, scheme: TopicScheme, layout: Layout
    ) -> Callable[[ReceiveMessage], None]:
        counter = f"voice_{layout}"

        @callback
        def handle(msg: ReceiveMessage) -> None:
            message = self.intake.parse(
                counter, parse_voice_message, scheme, msg.topic, msg.payload
            )
            if message is None:
                return
            now = self.hass.loop.time()
            if self._duplicates is not None and self._duplicates.is_duplicate(
                layout, twin_key(message, msg.payload), now
            ):
                self.intake.duplicates += 1
                return
            known = self.limits.known(self.rooms, Scope.ROOM, message.room_id, Room)
            if known is None:
                return
            room, new = known
            # Just after the fleet's link came back, its broker's retained
            # messages arrive as live ones: they are replays all the same.
            replayed = msg.retain or self.fleet_link.replaying
            changes = room.apply(
                message, now=now, received=dt_util.utcnow(), retained=replayed
            )
            self._room_changed(room, changes)
            if new:
                self.room_arrivals.announce(room)

        return handle

    @callback
    def _room_changed(self, room: Room, changes: set[RoomAspect]) -> None:
        if RoomAspect.TURN in changes and (turn := room.last_turn) is not None:
            self.conversations.finished(turn)
            self.history.add(turn)
        for aspect in changes:
            if aspect is RoomAspect.RESPONSE:
                streaming = room.response is not None and room.response.streaming
                self._stream_pacer.changed(room.room_id, streaming=streaming)
            else:
                self.listeners.notify(Scope.ROOM, room.room_id, aspect)
        if room.deadline is not None:
            self.sweeper.schedule(room.deadline)

    # Device messages ----------------------------------------------------------

    @callback
    def _async_device_message(self, msg: ReceiveMessage) -> None:
        # MQTT stamps each message on receipt: no clock is read here.
        now = msg.timestamp or self.hass.loop.time()
        if self._quiet.take(msg.topic, msg.payload, now, msg.retain):
            self.intake.received["device"] += 1
            return  # the common case: the last heartbeat again, but for its time
        scheme = self.settings.scheme
        message = self.intake.parse(
            "device", parse_device_message, scheme, msg.topic, msg.payload
        )
        if message is None:
            return
        if message.id_mismatch:
            self.intake.id_mismatches += 1
        if isinstance(message.payload, CommandAnswer):
            # An answer is not a sign of a device to add: only one asked answers.
            self.answers.take(message.device_id, message.payload)
            return
        known = self.limits.known(
            self.devices, Scope.DEVICE, message.device_id, self._new_device
        )
        if known is None:
            return
        device, new = known
        # Heartbeats are never retained, so never replayed (see _voice).
        replayed = msg.retain or (
            self.fleet_link.replaying and not isinstance(message.payload, Heartbeat)
        )
        changes = device.apply(message, now=now, retained=replayed)
        if isinstance(beat := message.payload, Heartbeat) and not message.id_mismatch:
            self._quiet.remember(msg.topic, msg.payload, device, beat.device_type)
        self._device_changed(device, changes)
        if new:
            self.device_arrivals.announce(device)
        if DeviceAspect.PLAYS in changes:
            self.player_arrivals.announce(device)

    @callback
    def _device_changed(self, device: Device, changes: set[DeviceAspect]) -> None:
        if not changes:
            return  # the common case: a heartbeat of a device known online
        if DeviceAspect.PRESENCE in changes:
            self.fleet_health.presence_changed(device)  # counts the entities show
        if DeviceAspect.STATUS in changes:
            # Before its own player shows the status (and its group): the
            # others of its old and new session show a new group.
            self.group_writes.changed(
                self.sessions.place(device.device_id, device.session_id)
            )
        for aspect in changes:
            if aspect is DeviceAspect.INFO:
                self.registry.update_device(device)
            else:
                self.listeners.notify(Scope.DEVICE, device.device_id, aspect)
        if DeviceAspect.PRESENCE in changes:
            self.listeners.notify(Scope.BRIDGE, "", BridgeAspect.DEVICES_ONLINE)
            if device.presence.deadline is not None:
                self.sweeper.schedule(device.presence.deadline)
        if changes - {DeviceAspect.EVENT}:
            self.snapshot.schedule()
