"""The broker's health from a real mosquitto's $SYS topics."""

from __future__ import annotations

from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from devkit.broker import Broker

from .conftest import wait_for


async def test_mosquitto_figures_reach_the_bridge(
    hass: HomeAssistant, broker: Broker, voice: MockConfigEntry
) -> None:
    if broker.kind != "mosquitto":
        pytest.skip("the $SYS layout read is mosquitto's")
    hass.config_entries.async_update_entry(voice, options={"broker_health": True})
    assert await hass.config_entries.async_reload(voice.entry_id)

    def shown(key: str) -> str | None:
        state = hass.states.get(f"sensor.voice_assistant_mqtt_broker_{key}")
        return None if state is None else state.state

    # mosquitto keeps its $SYS figures retained: they come with the subscription.
    await wait_for(
        lambda: (shown("version") or "").startswith("mosquitto version"),
        what=lambda: f"the broker's version, not {shown('version')}",
    )
    await wait_for(
        lambda: (shown("clients") or "").isdigit() and int(shown("clients") or 0) >= 1,
        what=lambda: f"connected clients, not {shown('clients')}",
    )
    await wait_for(
        lambda: shown("started") not in (None, "unknown", "unavailable"),
        what=lambda: f"the start time, not {shown('started')}",
    )
