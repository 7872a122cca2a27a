"""What the broker-health option costs: messages and CPU a minute.

mosquitto publishes each of the four figures once per sys_interval (10 s by
default), so a minute brings 24 messages. They go through Home Assistant's own
MQTT dispatch (only paho is mocked) with the entities' writes included, beside
the floor (the same dispatch to a callback that does nothing). Run with
scripts/benchmark; the numbers are printed, nothing is asserted.
"""

from __future__ import annotations

from datetime import timedelta
import time

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components import mqtt
from homeassistant.core import HomeAssistant, callback
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_mqtt_message,
)

from .bench_hub import Writes

MINUTES = 500  # simulated minutes of figures
SYS_INTERVAL = 10
PER_MINUTE = 60 // SYS_INTERVAL


def one_interval(tick: int, prefix: str) -> list[tuple[str, bytes]]:
    """One sys_interval of mosquitto's four figures, as a busy broker's change."""
    return [
        (f"{prefix}broker/uptime", f"{tick * SYS_INTERVAL} seconds".encode()),
        (f"{prefix}broker/version", b"mosquitto version 2.1.2"),
        (f"{prefix}broker/clients/connected", str(200 + tick % 3).encode()),
        (
            f"{prefix}broker/load/messages/received/1min",
            f"{1000 + tick % 7}.5".encode(),
        ),
    ]


async def cpu_for(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, prefix: str
) -> float:
    """Deliver MINUTES of figures, the clock moving with them; CPU seconds spent."""
    spent = 0.0
    for tick in range(MINUTES * PER_MINUTE):
        freezer.tick(timedelta(seconds=SYS_INTERVAL))
        started = time.process_time()
        for topic, payload in one_interval(tick, prefix):
            async_fire_mqtt_message(hass, topic, payload)
        await hass.async_block_till_done()
        spent += time.process_time() - started
    return spent


@pytest.mark.parametrize("entry_options", [{"broker_health": True}])
async def test_broker_health_per_minute(
    hass: HomeAssistant, integration: MockConfigEntry, freezer: FrozenDateTimeFactory
) -> None:
    # The floor: the same figures on other topics to a callback doing nothing.
    @callback
    def nothing(_msg: mqtt.ReceiveMessage) -> None:
        return

    await mqtt.async_subscribe(hass, "floor/#", nothing, 1, encoding=None)
    floor = await cpu_for(hass, freezer, "floor/")
    writes = Writes(hass)
    ours = await cpu_for(hass, freezer, "$SYS/")
    hub = integration.runtime_data
    assert hub.intake.received["broker"] == MINUTES * PER_MINUTE * 4
    messages = MINUTES * PER_MINUTE * 4
    print(
        f"\nbroker health: {PER_MINUTE * 4} messages a minute at sys_interval"
        f" {SYS_INTERVAL} s; CPU {ours / MINUTES * 1e3:.2f} ms a minute,"
        f" {ours / MINUTES / 60 * 100:.4f} % of a core"
        f" ({ours * 1e6 / messages:.1f} µs a message, floor"
        f" {floor * 1e6 / messages:.1f} µs); {writes.count / MINUTES:.1f} state"
        " writes a minute"
    )
