"""The hub's clocks: one sweep timer for every deadline, paced and gathered writes.

They run on Home Assistant's event loop and cost nothing per message in the
common case: a heartbeat finds the sweep already early enough, a chunk
inside the write interval only marks its room as due, and a session's groups
are written once however many of its members moved.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime, timedelta

from homeassistant.core import HomeAssistant, callback
from homeassistant.util import dt as dt_util

from ..models.device import Device, DeviceAspect
from ..models.room import Room, RoomAspect

# A streamed answer is shown at most this often (4 writes a second per room):
# every write fans out to listeners and the recorder.
RESPONSE_WRITE_INTERVAL = 0.25

type RoomChanged = Callable[[Room, set[RoomAspect]], None]
type DeviceChanged = Callable[[Device, set[DeviceAspect]], None]


def wall_clock(hass: HomeAssistant, monotonic: float) -> datetime:
    """Return when a moment of the loop's monotonic clock was, in UTC.

    Models note the monotonic time of each message (MQTT stamps it on
    receipt); the wall clock is read only when a date is wanted.
    """
    return dt_util.utcnow() - timedelta(seconds=hass.loop.time() - monotonic)


class Sweeper:
    """Makes sure a sweep runs by the earliest deadline; one timer serves all.

    Deadlines only move later as messages arrive, so a heartbeat finds the
    timer already early enough and costs a comparison, not a timer.
    """

    def __init__(
        self,
        hass: HomeAssistant,
        rooms: Mapping[str, Room],
        devices: Mapping[str, Device],
        changed: tuple[RoomChanged, DeviceChanged],
    ) -> None:
        """Expire the hub's rooms and devices; tell what changed to changed."""
        self._hass = hass
        self._rooms = rooms
        self._devices = devices
        self._room_changed, self._device_changed = changed
        self.timer: asyncio.TimerHandle | None = None

    @callback
    def schedule(self, deadline: float) -> None:
        """Sweep no later than deadline (monotonic loop time)."""
        if self.timer is not None:
            if self.timer.when() <= deadline:
                return
            self.timer.cancel()
        self.timer = self._hass.loop.call_at(deadline, self._run)

    @callback
    def _run(self) -> None:
        self.timer = None
        upcoming = list(self._expire(self._hass.loop.time(), dt_util.utcnow()))
        if upcoming:
            self.schedule(min(upcoming))

    def _expire(self, now: float, at: datetime) -> Iterator[float]:
        """End quiet sessions and silent devices; yield the deadlines left."""
        for room in tuple(self._rooms.values()):
            if room.deadline is None:
                continue
            if changes := room.expire(now, at):
                self._room_changed(room, changes)
            if room.deadline is not None:
                yield room.deadline
        for device in tuple(self._devices.values()):
            if device.presence.deadline is None:
                continue
            if device.presence.expire(now):
                self._device_changed(device, {DeviceAspect.PRESENCE})
            if device.presence.deadline is not None:
                yield device.presence.deadline

    def cancel(self) -> None:
        """Stop the timer (the entry is unloading)."""
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None


class StreamWritePacer:
    """Shows a room's streamed answer at most every RESPONSE_WRITE_INTERVAL.

    The first chunk shows at once; later ones are gathered until the interval
    has passed. The end of a stream shows at once, exactly.
    """

    def __init__(self, hass: HomeAssistant, show: Callable[[str], None]) -> None:
        """Call show(room_id) whenever a room's answer is to be written."""
        self._hass = hass
        self._show = show
        self._written: dict[str, float] = {}
        self._pending: dict[str, asyncio.TimerHandle] = {}

    @callback
    def changed(self, room_id: str, *, streaming: bool) -> None:
        """A room's answer changed; show it now or when the interval is over."""
        now = self._hass.loop.time()
        if not streaming:
            if (pending := self._pending.pop(room_id, None)) is not None:
                pending.cancel()
        elif room_id in self._pending:
            return
        elif (
            last := self._written.get(room_id)
        ) is not None and now - last < RESPONSE_WRITE_INTERVAL:
            self._pending[room_id] = self._hass.loop.call_at(
                last + RESPONSE_WRITE_INTERVAL, self._flush, room_id
            )
            return
        self._written[room_id] = now
        self._show(room_id)

    @callback
    def _flush(self, room_id: str) -> None:
        del self._pending[room_id]
        self._written[room_id] = self._hass.loop.time()
        self._show(room_id)

    def forget(self, room_id: str) -> None:
        """Drop a removed room's pending write and write time."""
        self._written.pop(room_id, None)
        if (pending := self._pending.pop(room_id, None)) is not None:
            pending.cancel()

    def cancel(self) -> None:
        """Drop every pending write (the entry is unloading)."""
        for handle in self._pending.values():
            handle.cancel()
        self._pending.clear()


class GroupWrites:
    """Media players whose group changed write once per turn of the event loop.

    Each device that joins or leaves a session changes the group of every
    other member. A session that fills at once (the retained statuses a
    broker replays after a restart, an admin panel joining every headset)
    would make each member write once per join: N² writes for N members.
    Gathered until the messages at hand are handled, each writes once.
    """

    def __init__(self, hass: HomeAssistant, show: Callable[[str], None]) -> None:
        """Call show(device_id) once for every device whose group changed."""
        self._hass = hass
        self._show = show
        self._due: set[str] = set()
        self._handle: asyncio.Handle | None = None

    @callback
    def changed(self, device_ids: Iterable[str]) -> None:
        """These devices' groups changed: show them soon, once each."""
        self._due.update(device_ids)
        if self._due and self._handle is None:
            self._handle = self._hass.loop.call_soon(self._flush)

    @callback
    def _flush(self) -> None:
        self._handle = None
        due, self._due = self._due, set()
        for device_id in due:
            self._show(device_id)

    def cancel(self) -> None:
        """Drop every pending write (the entry is unloading)."""
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        self._due.clear()
