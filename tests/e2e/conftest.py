"""Fixtures for the end-to-end tests: a real broker, Home Assistant's real client.

Nothing about MQTT is mocked here: Home Assistant's MQTT integration connects
with its own paho client to a broker on loopback, and the simulator (or a test)
talks to the same broker.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Callable, Generator
from pathlib import Path
import time
from typing import Any
from unittest.mock import patch

from homeassistant.components import mqtt
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
import pytest_socket

from custom_components.voice_mqtt.const import DOMAIN
from devkit.broker import Broker
from devkit.hass.api import HomeAssistantApi
from tests.conftest import DEFAULT_DATA


@pytest.fixture(autouse=True)
def loopback_sockets() -> Generator[None]:
    """Let the test reach the broker on 127.0.0.1, and nothing else.

    Home Assistant's test plugin refuses every socket; a real broker needs one.
    """
    pytest_socket.enable_socket()
    pytest_socket.socket_allow_hosts(["127.0.0.1"], allow_unix_socket=True)
    yield
    pytest_socket.disable_socket(allow_unix_socket=True)


@pytest.fixture
async def broker(hass: HomeAssistant, tmp_path: Path) -> AsyncGenerator[Broker]:
    """A broker of our own on a free loopback port, and one for WebSocket."""
    running = Broker(tmp_path / "broker", ws_port=0)
    await hass.async_add_executor_job(running.start)
    yield running
    await hass.async_add_executor_job(running.stop)


# How long an end-to-end condition may take to come true. Generous: a
# deadline costs nothing when the condition holds, and a loaded 2-core
# machine (CI, or the suite beside other work) can be many times slower.
WITHIN = 30.0


async def wait_for(
    condition: Callable[[], Any],
    within: float = WITHIN,
    what: str | Callable[[], str] = "",
) -> None:
    """Wait, in real time, until condition() is true; fail after within seconds.

    Polling is the honest way here: the states change in Home Assistant's own
    tasks, driven by a broker in another process. Every end-to-end check waits
    for what it asserts: nothing assumes the order of messages across topics
    or clients.
    """
    try:
        async with asyncio.timeout(within):
            while not condition():
                await asyncio.sleep(0.05)
    except TimeoutError:
        # A callable says what it found at the deadline, not at the start.
        pytest.fail(f"not within {within} s: {what() if callable(what) else what}")


def eventually[T](probe: Callable[[], T], done: Callable[[T], bool], what: str) -> T:
    """Poll probe until done(its answer), within WITHIN seconds (blocking).

    For a Home Assistant in a process of its own, asked over its API.
    """
    deadline = time.monotonic() + WITHIN
    while True:
        found = probe()
        if done(found):
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {WITHIN} s: {what}; last {found!r}")
        time.sleep(0.25)


def kept_turns(
    api: HomeAssistantApi, room: str = "living_room"
) -> list[dict[str, Any]]:
    """Return a room's conversation history, from the get_history action."""
    answer = api.call(
        "POST",
        "/api/services/voice_mqtt/get_history?return_response",
        {"room": room},
    )
    return list(answer["service_response"]["turns"])


@pytest.fixture
def mqtt_login() -> dict[str, str]:
    """Home Assistant's username and password on the broker: none by default."""
    return {}


@pytest.fixture
def voice_options() -> dict[str, Any]:
    """The options of voice_mqtt's entry: the defaults."""
    return {}


@pytest.fixture
async def real_mqtt(
    hass: HomeAssistant,
    broker: Broker,
    mock_hass_config: None,
    mqtt_login: dict[str, str],
) -> AsyncGenerator[MockConfigEntry]:
    """Home Assistant's MQTT integration, connected to the broker."""
    entry = MockConfigEntry(
        domain=mqtt.DOMAIN,
        data={"broker": "127.0.0.1", "port": broker.port, **mqtt_login},
        version=2,
        minor_version=1,
    )
    entry.add_to_hass(hass)
    # A broker restart should not cost the tests ten seconds of back-off.
    with patch("homeassistant.components.mqtt.client.RECONNECT_INTERVAL_SECONDS", 0.5):
        assert await hass.config_entries.async_setup(entry.entry_id)
        await wait_for(lambda: mqtt.is_connected(hass), what="MQTT connected")
        yield entry
        if entry.state is ConfigEntryState.LOADED:
            assert await hass.config_entries.async_unload(entry.entry_id)
        await hass.async_block_till_done()


@pytest.fixture
async def voice(
    hass: HomeAssistant, real_mqtt: MockConfigEntry, voice_options: dict[str, Any]
) -> AsyncGenerator[MockConfigEntry]:
    """voice_mqtt on the real connection, its subscriptions acknowledged."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Voice Assistant MQTT",
        data=dict(DEFAULT_DATA),
        options=voice_options,
        unique_id="v1/voice_assistant",
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    done: set[str] = set()
    for topic in entry.runtime_data.subscriptions:
        entry.async_on_unload(
            mqtt.async_on_subscribe_done(
                hass, topic, 1, lambda topic=topic: done.add(topic)
            )
        )
    await wait_for(
        lambda: done == set(entry.runtime_data.subscriptions), what="subscribed"
    )
    yield entry
    if entry.state is ConfigEntryState.LOADED:
        assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
