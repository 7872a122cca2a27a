"""A browser-style device over MQTT over WebSocket: its Last Will works too."""

from __future__ import annotations

from dataclasses import replace

from homeassistant.const import STATE_OFF, STATE_ON
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

from devkit.broker import Broker
from simulator import BrokerAddress, Simulator

from .conftest import wait_for
from .test_fleet import HEADSET, driven, state


async def test_a_device_over_websocket_goes_offline_on_its_will(
    hass: HomeAssistant, broker: Broker, voice: MockConfigEntry
) -> None:
    # Home Assistant is on the broker's TCP port; the devices only on its
    # WebSocket port, as the fleet's admin panels and HTML simulators connect.
    assert broker.ws_port is not None
    assert broker.ws_port != broker.port
    options = replace(
        driven(broker, rooms=1, seed=1, devices=2),
        broker=BrokerAddress(port=broker.ws_port, transport="websockets"),
    )
    simulator = Simulator(options)
    await hass.async_add_executor_job(simulator.start)
    try:
        await wait_for(
            lambda: state(hass, f"binary_sensor.{HEADSET}_connectivity") == STATE_ON,
            what="the headset online over WebSocket",
        )
        # The heartbeat timeout is 45 s and the simulator sends none: only the
        # will the broker publishes for the dead WebSocket can say offline.
        await hass.async_add_executor_job(simulator.drop_device, "VR_0001")
        await wait_for(
            lambda: state(hass, f"binary_sensor.{HEADSET}_connectivity") == STATE_OFF,
            what="the will marked the headset offline",
        )
    finally:
        await hass.async_add_executor_job(simulator.stop)
