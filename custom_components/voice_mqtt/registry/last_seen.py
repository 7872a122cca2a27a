"""When each room and device was last heard of, kept across restarts.

Saved with Home Assistant's Store, in the background and at most about once
an hour per room or device: stale ones are counted in days. At start-up the
entry's registry devices are restored from it, and what has been silent for
longer than the configured number of days is removed instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
import logging

from homeassistant.const import Platform
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers.event import async_track_time_interval
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util

from ..const import DOMAIN, PLAYER_KEY, Scope
from ..dispatch.timers import wall_clock
from ..models.device import Device
from ..models.room import Room
from ..models.settings import Settings
from .devices import RegistrySync

_LOGGER = logging.getLogger(__name__)

# last_seen is saved when it moved this much: stale devices are counted in days.
LAST_SEEN_GRANULARITY = timedelta(hours=1)
# How often the models' last messages are copied here: not per message.
RECORD_INTERVAL = timedelta(minutes=5)
STORE_VERSION = 1
STORE_SAVE_DELAY = 60

type StoredData = dict[str, dict[str, str]]


def last_seen_store(hass: HomeAssistant, entry_id: str) -> Store[StoredData]:
    """Return where an entry keeps when its rooms and devices were last heard of."""
    return Store(hass, STORE_VERSION, f"{DOMAIN}.{entry_id}")


def _key(scope: Scope, object_id: str) -> str:
    return f"{scope}_{object_id}"


class LastSeen:
    """When each room and device was last heard of, as saved."""

    def __init__(self, hass: HomeAssistant, entry_id: str) -> None:
        """Keep the times of one entry."""
        self._hass = hass
        self._store = last_seen_store(hass, entry_id)
        # "{scope}_{id}" -> when it was last heard of.
        self._times: dict[str, datetime] = {}
        self._rooms: Mapping[str, Room] = {}
        self._devices: Mapping[str, Device] = {}

    @callback
    def track(
        self, rooms: Mapping[str, Room], devices: Mapping[str, Device]
    ) -> CALLBACK_TYPE:
        """Record when the rooms and devices were heard, every RECORD_INTERVAL.

        Models keep the monotonic time of their last message; the wall clock
        is read here, once per interval, instead of once per message.
        """
        self._rooms, self._devices = rooms, devices
        return async_track_time_interval(
            self._hass, self.record, RECORD_INTERVAL, cancel_on_shutdown=True
        )

    @callback
    def record(self, _now: datetime | None = None) -> None:
        """Note when every room and device was last heard."""
        for scope, models in ((Scope.ROOM, self._rooms), (Scope.DEVICE, self._devices)):
            for object_id, model in models.items():
                if model.heard is not None:
                    self.note(scope, object_id, wall_clock(self._hass, model.heard))

    async def async_load(self) -> None:
        """Read what was saved; unreadable times are forgotten."""
        stored = await self._store.async_load() or {}
        self._times = {
            key: parsed
            for key, text in stored.get("last_seen", {}).items()
            if (parsed := dt_util.parse_datetime(text)) is not None
        }

    def known_since(self, scope: Scope, object_id: str, now: datetime) -> datetime:
        """Return when it was last heard of; now if nothing was saved."""
        return self._times.setdefault(_key(scope, object_id), now)

    @callback
    def note(self, scope: Scope, object_id: str, moment: datetime) -> None:
        """Save when a room or device was heard of, about once an hour at most."""
        key = _key(scope, object_id)
        saved = self._times.get(key)
        if saved is None or moment - saved >= LAST_SEEN_GRANULARITY:
            self._times[key] = moment
            self.schedule_save()

    @callback
    def forget(self, scope: Scope, object_id: str) -> None:
        """Forget a removed room or device."""
        self._times.pop(_key(scope, object_id), None)
        self.schedule_save()

    @callback
    def schedule_save(self) -> None:
        """Save in the background, once the delay has passed."""
        self._store.async_delay_save(self._data, STORE_SAVE_DELAY)

    async def async_save(self) -> None:
        """Record and save now (on unload)."""
        self.record()
        await self._store.async_save(self._data())

    def _data(self) -> StoredData:
        return {
            "last_seen": {
                key: moment.isoformat() for key, moment in self._times.items()
            }
        }


@dataclass(slots=True)
class Restored:
    """The rooms and devices an entry knew before any message arrived."""

    rooms: dict[str, Room] = field(default_factory=dict)
    devices: dict[str, Device] = field(default_factory=dict)


async def async_restore(
    registry: RegistrySync, last_seen: LastSeen, settings: Settings
) -> Restored:
    """Return the rooms and devices to know; remove the stale ones.

    Restored devices are neither online nor offline until they speak.
    """
    await last_seen.async_load()
    now = dt_util.utcnow()
    oldest = now - timedelta(days=settings.stale_device_days)
    restored = Restored()
    for device_entry, scope, object_id in registry.known():
        last = last_seen.known_since(scope, object_id, now)
        if last < oldest:
            _LOGGER.info(
                "Removing %s: not heard from since %s",
                device_entry.name_by_user or device_entry.name,
                last.date(),
            )
            registry.remove(device_entry)
            last_seen.forget(scope, object_id)
        elif scope is Scope.ROOM:
            restored.rooms[object_id] = Room(object_id)
        else:
            device = Device.with_timeout(
                object_id,
                settings.heartbeat_timeout,
                name=device_entry.name,
                device_type=device_entry.model,
            )
            # A device that had its media player keeps it (a headset has one
            # by its type): a restart must not wait for it to play again.
            device.plays = (
                device.plays
                or registry.enabled_entity_id(
                    Scope.DEVICE, object_id, Platform.MEDIA_PLAYER, PLAYER_KEY
                )
                is not None
            )
            restored.devices[object_id] = device
    last_seen.schedule_save()
    return restored
