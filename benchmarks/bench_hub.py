"""What the hub costs per message, and how many state writes it makes.

Messages go through Home Assistant's own MQTT dispatch (only paho is mocked),
so the numbers include routing, parsing, models and the entities' writes.
Run with scripts/benchmark; the numbers are printed, nothing is asserted.
Times are CPU time of the process (the tests freeze the wall clock).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
import json
import time
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.mqtt import ReceiveMessage
from homeassistant.const import EVENT_STATE_CHANGED, EVENT_STATE_REPORTED
from homeassistant.core import Event, HomeAssistant, callback
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_mqtt_message,
    async_fire_time_changed_exact,
)

DEVICES = 1000
ROUNDS = 5
ROOMS = 20
CHUNKS = 150
GARBAGE = 10_000


class Writes:
    """Counts every state write: changes and reports of an unchanged state."""

    def __init__(self, hass: HomeAssistant) -> None:
        self.count = 0

        @callback
        def count(_: Event[Any]) -> None:
            self.count += 1

        hass.bus.async_listen(EVENT_STATE_CHANGED, count)
        hass.bus.async_listen(
            EVENT_STATE_REPORTED, count, event_filter=callback(lambda _: True)
        )


def report(name: str, messages: int, seconds: float, **extra: object) -> None:
    details = "  ".join(f"{key}={value}" for key, value in extra.items())
    print(
        f"\n{name:<34} {messages:>7} msgs  {seconds * 1e6 / messages:>8.1f} µs/msg"
        f"  {details}"
    )


async def fire_all(
    hass: HomeAssistant,
    messages: list[tuple[str, bytes]],
    between: Callable[[], None] | None = None,
) -> float:
    """Deliver messages; return the seconds spent delivering them.

    Time spent in `between` (moving the test clock) is not counted; time spent
    in entity writes scheduled by the messages is.
    """
    spent = 0.0
    for topic, payload in messages:
        started = time.process_time()
        async_fire_mqtt_message(hass, topic, payload)
        spent += time.process_time() - started
        if between is not None:
            between()
    started = time.process_time()
    await hass.async_block_till_done()
    return spent + time.process_time() - started


@pytest.mark.parametrize("entry_options", [{}])
async def test_heartbeats_of_a_thousand_devices(
    hass: HomeAssistant, integration: MockConfigEntry
) -> None:
    def status(index: int) -> tuple[str, bytes]:
        payload = {"deviceId": f"BOX_{index:04}", "type": "voice_box", "status": "idle"}
        return f"devices/BOX_{index:04}/status", json.dumps(payload).encode()

    started = time.process_time()
    await fire_all(hass, [status(index) for index in range(DEVICES)])
    setup = time.process_time() - started
    hub = integration.runtime_data
    writes = Writes(hass)
    timer = hub.sweeper.timer
    beats = [
        (
            f"devices/BOX_{index:04}/heartbeat",
            b'{"status":"idle","timestamp":"2025-06-01T12:00:00Z"}',
        )
        for _ in range(ROUNDS)
        for index in range(DEVICES)
    ]
    seconds = await fire_all(hass, beats)
    report(
        f"first status of {DEVICES} devices",
        DEVICES,
        setup,
        entities=len(hass.states.async_all()),
    )
    report(
        f"heartbeats ({ROUNDS} rounds)",
        len(beats),
        seconds,
        state_writes=writes.count,
        sweep_timer_replaced=hub.sweeper.timer is not timer,
    )
    # The hub's own share, without Home Assistant's MQTT dispatch and the mocks.
    received = [
        ReceiveMessage(topic, payload, 0, False, "devices/+/+", 0.0)
        for topic, payload in beats
    ]
    started = time.process_time()
    for message in received:
        hub._async_device_message(message)
    report("  of which the hub's handler", len(received), time.process_time() - started)


async def test_streamed_answers(
    hass: HomeAssistant, integration: MockConfigEntry, freezer: FrozenDateTimeFactory
) -> None:
    topic = "v1/voice_assistant/room/room_{}/session/S1/response/stream/{}"
    for room in range(ROOMS):
        async_fire_mqtt_message(hass, topic.format(room, "start"), b"{}")
    await hass.async_block_till_done()
    writes = Writes(hass)
    chunks = [
        (topic.format(room, "chunk"), b'{"chunk":" word"}')
        for _ in range(CHUNKS)
        for room in range(ROOMS)
    ]
    sent = 0

    def tick() -> None:
        # Every room sends 30 chunks a second.
        nonlocal sent
        sent += 1
        if sent % ROOMS == 0:
            freezer.tick(timedelta(seconds=1 / 30))
            async_fire_time_changed_exact(hass)

    seconds = await fire_all(hass, chunks, tick)
    stream_seconds = CHUNKS / 30
    report(
        f"stream chunks ({ROOMS} rooms × {CHUNKS} at 30/s)",
        len(chunks),
        seconds,
        writes_per_room_per_s=round(writes.count / ROOMS / stream_seconds, 2),
    )


async def test_garbage(hass: HomeAssistant, integration: MockConfigEntry) -> None:
    kinds = [
        ("v1/voice_assistant/room/r/session/s/state", b"{not json"),
        ("v1/voice_assistant/room/r/session/s/state", b'{"state": 5}'),
        ("devices/X/status", b"[1,2,3]"),
        ("devices/X/battery", b"{}"),
        ("v1/voice_assistant/room/r/session/s/state", b"x" * 70_000),
    ]
    writes = Writes(hass)
    messages = [kinds[index % len(kinds)] for index in range(GARBAGE)]
    seconds = await fire_all(hass, messages)
    report(
        "malformed messages",
        len(messages),
        seconds,
        rejected=sum(integration.runtime_data.intake.rejected.values()),
        state_writes=writes.count,
    )


@pytest.mark.parametrize("entry_options", [{"legacy_topics": True}])
async def test_migration_twins(
    hass: HomeAssistant, integration: MockConfigEntry
) -> None:
    messages = [
        (
            f"{root}/room/r/session/s/response/stream/chunk",
            json.dumps({"chunk": f" w{index}"}).encode(),
        )
        for index in range(2000)
        for root in ("v1/voice_assistant", "voice_assistant")
    ]
    seconds = await fire_all(hass, messages)
    report(
        "chunks sent on v1 and v0",
        len(messages),
        seconds,
        duplicates=integration.runtime_data.intake.duplicates,
    )
