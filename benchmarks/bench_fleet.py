"""voice_mqtt beside the floor and the hand-made alternative, in one run.

- the floor: Home Assistant's MQTT dispatch to a callback that does nothing;
- the hand-made alternative: one MQTT-discovered sensor per device
  (value_template, expire_after 45), what owners build without voice_mqtt;
- voice_mqtt itself.

Each subscriber has its own prefix; the same heartbeats (identical payloads)
go to each, round after round, in turns of 50 messages, so the load of a
shared machine hits all three alike. Times are CPU time of this process
(paho is mocked). The clock is not frozen: freezegun's stand-ins for
time.monotonic, time.time and datetime (a Python subclass) cost several µs
a call and would be charged to every message, which no user pays.
Run with scripts/benchmark; the figures are printed, nothing is asserted.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
import gc
import itertools
import json
import statistics
import time
import tracemalloc
from typing import Any

from homeassistant.components import mqtt
from homeassistant.components.mqtt import ReceiveMessage
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.entity import EntityDescription
from homeassistant.helpers.entity_platform import MAX_ENABLED_ENTITIES_PER_CONFIG_ENTRY
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_mqtt_message,
    async_fire_time_changed,
)

from custom_components.voice_mqtt.binary_sensor import (
    BRIDGE_BINARY_SENSORS,
    DEVICE_BINARY_SENSORS,
    FLEET_LINK_BINARY_SENSORS,
    ROOM_BINARY_SENSORS,
)
from custom_components.voice_mqtt.button import START_VOICE
from custom_components.voice_mqtt.const import LARGEST_MAX_DEVICES, LARGEST_MAX_ROOMS
from custom_components.voice_mqtt.event import DEVICE_EVENTS, ROOM_EVENTS
from custom_components.voice_mqtt.media_player import PLAYER
from custom_components.voice_mqtt.sensor import (
    BRIDGE_SENSORS,
    BROKER_SENSORS,
    DEVICE_SENSORS,
    ROOM_SENSORS,
    TURN_SENSORS,
)

from .bench_hub import Writes

# 1,100: the largest device cap, for Home Assistant's entity limit (see the
# last benchmark); 10,000 devices cannot be one entry.
SIZES = (1000, 1100)
ROUNDS = 9
CHUNK = 50  # heartbeats of one stream delivered in a turn
HEARTBEAT = b'{"status":"idle","timestamp":"2025-06-01T12:00:00Z"}'


def fresh_heartbeat(count: int) -> bytes:
    """Return a heartbeat stamped with a time of its own (milliseconds apart)."""
    seconds, milliseconds = divmod(count, 1000)
    minutes, seconds = divmod(seconds, 60)
    return b'{"status":"idle","timestamp":"2025-06-01T12:%02d:%02d.%03dZ"}' % (
        minutes % 60,
        seconds,
        milliseconds,
    )


def line(name: str, value: str) -> None:
    print(f"\n{name:<58} {value}")


async def deliver(hass: HomeAssistant, messages: list[tuple[str, bytes]]) -> float:
    """Deliver messages through Home Assistant's MQTT client; CPU seconds."""
    started = time.process_time()
    for topic, payload in messages:
        async_fire_mqtt_message(hass, topic, payload)
    await hass.async_block_till_done()
    return time.process_time() - started


async def deliver_interleaved(
    hass: HomeAssistant, streams: dict[str, list[tuple[str, bytes]]]
) -> dict[str, float]:
    """Deliver several streams in turns of CHUNK messages; CPU seconds of each.

    A shared machine's load comes and goes within a second: in small turns it
    falls on every stream alike. A turn also pays for the caches the turn
    before it emptied, so the order goes through every permutation: each
    stream follows each other as often.
    """
    spent = dict.fromkeys(streams, 0.0)
    orders = list(itertools.permutations(streams))
    length = len(next(iter(streams.values())))
    for turn, start in enumerate(range(0, length, CHUNK)):
        for kind in orders[turn % len(orders)]:
            spent[kind] += await deliver(hass, streams[kind][start : start + CHUNK])
    return spent


async def settle(hass: HomeAssistant) -> None:
    """Let paced arrivals and discovery finish (timers due in 1/4 s run now)."""
    for _ in range(40):
        async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=0.25))
        await hass.async_block_till_done()


def handmade_config(device: str) -> tuple[str, bytes]:
    return (
        f"homeassistant/sensor/hm_{device}/status/config",
        json.dumps(
            {
                "name": "Status",
                "unique_id": f"hm_{device}_status",
                "state_topic": f"handmade/{device}/heartbeat",
                "value_template": "{{ value_json.status }}",
                "expire_after": 45,
                "device": {"identifiers": [f"hm_{device}"], "name": device},
            }
        ).encode(),
    )


def status(device: str) -> tuple[str, bytes]:
    payload = {"deviceId": device, "type": "voice_box", "status": "idle"}
    return f"devices/{device}/status", json.dumps(payload).encode()


class Measured:
    """CPU time of one block of work, or (traced) the memory it keeps.

    tracemalloc slows everything down several times, so CPU time and memory
    are measured in separate runs.
    """

    def __init__(self) -> None:
        self.seconds = 0.0
        self.bytes = 0
        self.top: list[tracemalloc.StatisticDiff] = []

    async def run(self, work: Callable[[], Any], *, traced: bool = False) -> None:
        gc.collect()
        if traced:
            tracemalloc.start()
            before = tracemalloc.take_snapshot()
        started = time.process_time()
        await work()
        self.seconds = time.process_time() - started
        if traced:
            gc.collect()
            after = tracemalloc.take_snapshot()
            tracemalloc.stop()
            diff = after.compare_to(before, "filename")
            self.bytes = sum(stat.size_diff for stat in diff)
            self.top = sorted(diff, key=lambda stat: stat.size_diff, reverse=True)[:6]


@pytest.mark.parametrize("devices", SIZES)
@pytest.mark.parametrize("entry_options", [{"max_devices": 2000}])
async def test_side_by_side(
    hass: HomeAssistant,
    integration: MockConfigEntry,
    devices: int,
) -> None:
    names = [f"BOX_{index:05}" for index in range(devices)]
    floor_calls = 0

    @callback
    def noop(_msg: ReceiveMessage) -> None:
        nonlocal floor_calls
        floor_calls += 1

    await mqtt.async_subscribe(hass, "floor/+/+", noop, 0, encoding=None)
    await mqtt.async_subscribe(hass, "floor_fresh/+/+", noop, 0, encoding=None)

    # New devices: voice_mqtt's first status, and MQTT discovery of a sensor.
    ours = Measured()
    handmade = Measured()

    async def add_ours() -> None:
        await deliver(hass, [status(name) for name in names])
        await settle(hass)

    async def add_handmade() -> None:
        await deliver(hass, [handmade_config(name) for name in names])
        await settle(hass)

    entities_before = len(hass.states.async_all())
    await ours.run(add_ours)
    our_entities = len(hass.states.async_all()) - entities_before
    await handmade.run(add_handmade)
    registry = dr.async_get(hass)
    assert len(dr.async_entries_for_config_entry(registry, integration.entry_id)) > (
        devices
    )

    # Heartbeats: identical payloads, interleaved rounds, after one round each
    # that is not counted (the hand-made sensors' first value is a change).
    # Then a fresh timestamp in every heartbeat, as devices with a clock send
    # them (the others send the same bytes every time), beside a floor that
    # gets the same fresh bytes, and the first floor again.
    phases = (
        {
            "floor": ("floor", False),
            "handmade": ("handmade", False),
            "voice_mqtt": ("devices", False),
        },
        {
            "floor, fresh timestamps": ("floor_fresh", True),
            "voice_mqtt, fresh timestamps": ("devices", True),
            # Two floors side by side: how far apart no-ops measure here.
            "floor, again (the same bytes)": ("floor", False),
        },
    )
    times: dict[str, list[float]] = {kind: [] for phase in phases for kind in phase}
    writes = Writes(hass)
    for phase in phases:
        for round_ in range(ROUNDS + 1):
            if round_ == 1 and phase is phases[0]:
                writes = Writes(hass)
            streams = {
                kind: [
                    (
                        f"{prefix}/{name}/heartbeat",
                        fresh_heartbeat(round_ * devices + index)
                        if fresh
                        else HEARTBEAT,
                    )
                    for index, name in enumerate(names)
                ]
                for kind, (prefix, fresh) in phase.items()
            }
            gc.collect()
            spent = await deliver_interleaved(hass, streams)
            if round_:
                for kind, seconds in spent.items():
                    times[kind].append(seconds / devices)
    assert floor_calls == 3 * devices * (ROUNDS + 1)

    print(f"\n\n== {devices} devices, {ROUNDS} rounds of heartbeats ==")
    print(
        "   (streams in turns of 50 messages; × the floor: the median of each round's"
        " ratio to the floor in that round, and their range; over: the median of"
        " µs beyond the floor)"
    )
    for phase in phases:
        floors = times[next(iter(phase))]
        for kind in phase:
            values = times[kind]
            ratios = [
                value / floor for value, floor in zip(values, floors, strict=True)
            ]
            over = [value - floor for value, floor in zip(values, floors, strict=True)]
            low, middle = min(values) * 1e6, statistics.median(values) * 1e6
            line(
                f"heartbeat, {kind} (min, median)",
                f"{low:6.1f}, {middle:6.1f} µs  ×{statistics.median(ratios):.2f}"
                f" ({min(ratios):.2f}–{max(ratios):.2f})"
                f"  over {statistics.median(over) * 1e6:+.1f} µs",
            )
    line("state writes during the heartbeats", str(writes.count))
    per_entity = ours.seconds / our_entities
    line(
        f"first status of {devices} new devices ({our_entities} entities)",
        f"{ours.seconds / devices * 1e3:.2f} ms/device, {per_entity * 1e3:.2f} ms/entity",
    )
    line(
        f"MQTT discovery of {devices} sensors with their devices",
        f"{handmade.seconds / devices * 1e3:.2f} ms/sensor",
    )

    # Start-up: the entry reloaded with every device known, three times.
    reloads: list[float] = []

    async def do_reload() -> None:
        assert await hass.config_entries.async_reload(integration.entry_id)
        await hass.async_block_till_done()

    for _ in range(3):
        reload = Measured()
        await reload.run(do_reload)
        reloads.append(reload.seconds)
    hub = integration.runtime_data
    assert len(hub.devices) == devices
    line(
        f"reloading the entry with {devices} known devices (min, median of 3)",
        f"{min(reloads) / devices * 1e3:.2f}, "
        f"{statistics.median(reloads) / devices * 1e3:.2f} ms/device",
    )


MEMORY_DEVICES = 200


@pytest.mark.parametrize("entry_options", [{"max_devices": 2000}])
async def test_memory_per_device(
    hass: HomeAssistant, integration: MockConfigEntry
) -> None:
    names = [f"MEM_{index:05}" for index in range(MEMORY_DEVICES)]
    ours = Measured()
    handmade = Measured()

    async def add_ours() -> None:
        await deliver(hass, [status(name) for name in names])
        await settle(hass)

    async def add_handmade() -> None:
        await deliver(hass, [handmade_config(name) for name in names])
        await settle(hass)

    before = len(hass.states.async_all())
    await ours.run(add_ours, traced=True)
    entities = len(hass.states.async_all()) - before
    await handmade.run(add_handmade, traced=True)
    print(f"\n\n== memory kept, {MEMORY_DEVICES} new devices (tracemalloc) ==")
    line(
        "voice_mqtt, per device",
        f"{ours.bytes / MEMORY_DEVICES / 1024:.0f} KiB"
        f" ({ours.bytes / entities / 1024:.1f} KiB per entity, {entities // MEMORY_DEVICES}"
        " enabled entities per device)",
    )
    line(
        "MQTT discovery, per sensor with its device",
        f"{handmade.bytes / MEMORY_DEVICES / 1024:.0f} KiB",
    )
    print("\n  where voice_mqtt's devices' memory goes (per device, by file):")
    for stat in ours.top:
        name = "/".join(stat.traceback[0].filename.split("/")[-3:])
        print(f"    {stat.size_diff / MEMORY_DEVICES / 1024:6.1f} KiB  {name}")


def test_the_largest_fleet_of_one_entry() -> None:
    """Say how far the figures above reach, and why not 10,000 devices."""
    # A device with a media player and a button; the bridge with every option.
    device = (
        *DEVICE_SENSORS,
        *DEVICE_BINARY_SENSORS,
        *DEVICE_EVENTS,
        PLAYER,
        START_VOICE,
    )
    room = (*ROOM_SENSORS, *TURN_SENSORS, *ROOM_BINARY_SENSORS, *ROOM_EVENTS)
    bridge = (
        *BRIDGE_SENSORS,
        *BROKER_SENSORS,
        *BRIDGE_BINARY_SENSORS,
        *FLEET_LINK_BINARY_SENSORS,
    )

    def enabled(descriptions: tuple[EntityDescription, ...]) -> int:
        return sum(d.entity_registry_enabled_default for d in descriptions)

    # Home Assistant counts the enabled entities of an entry.
    most = LARGEST_MAX_DEVICES * enabled(device) + LARGEST_MAX_ROOMS * enabled(room)
    most += enabled(bridge)
    limit = MAX_ENABLED_ENTITIES_PER_CONFIG_ENTRY
    print("\n\n== the largest fleet of one entry ==")
    line(
        "entities enabled by default (and all)",
        f"{enabled(device)} ({len(device)}) per device, {enabled(room)}"
        f" ({len(room)}) per room, {enabled(bridge)} ({len(bridge)}) for the bridge",
    )
    line(
        "largest caps (const.py)",
        f"{LARGEST_MAX_DEVICES:,} devices and {LARGEST_MAX_ROOMS} rooms:"
        f" {most:,} enabled entities, under Home Assistant's {limit:,} per entry",
    )
    line(
        "10,000 devices",
        f"not measured: {10_000 * enabled(device):,} enabled entities in one entry,"
        f" where Home Assistant adds no more than {limit:,}; it takes"
        f" {-(-10_000 // LARGEST_MAX_DEVICES)} entries, each on a device prefix of its"
        " own (two entries cannot share one)",
    )
    assert most <= limit
