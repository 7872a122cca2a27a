"""The examples scripts/develop loads: the blueprint works as users would use it."""

from __future__ import annotations

from datetime import timedelta
import json
from pathlib import Path
import shutil

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.setup import async_setup_component
import homeassistant.util.dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)
from pytest_homeassistant_custom_component.typing import MqttMockHAClient

from custom_components.voice_mqtt.const import DOMAIN

from .common import send

EXAMPLES = Path(__file__).parents[1] / "examples"
MAC = "cc:ba:97:11:0e:84"


@pytest.fixture
def config_dir(hass: HomeAssistant, tmp_path: Path) -> Path:
    """A config folder holding the blueprint, as scripts/develop lays it out."""
    target = tmp_path / "blueprints" / "automation" / "voice_mqtt"
    shutil.copytree(EXAMPLES / "blueprints", target)
    hass.config.config_dir = str(tmp_path)
    return tmp_path


@pytest.mark.parametrize("weekday_ok", [True, False])
async def test_the_wake_blueprint_sends_ws_start_on_time(
    hass: HomeAssistant,
    integration: MockConfigEntry,
    mqtt_mock: MqttMockHAClient,
    device_registry: dr.DeviceRegistry,
    freezer: FrozenDateTimeFactory,
    config_dir: Path,
    weekday_ok: bool,
) -> None:
    # A Monday, 06:59:50 local time.
    freezer.move_to(dt_util.as_utc(dt_util.parse_datetime("2025-06-02T06:59:50-07:00")))
    send(hass, "devices/discovery/announce", {"deviceId": MAC, "name": "Bedroom box"})
    await hass.async_block_till_done()
    device = device_registry.async_get_device_by_identifier(
        (DOMAIN, f"{integration.entry_id}_device_{MAC}"), integration.entry_id
    )
    assert device is not None
    assert await async_setup_component(
        hass,
        "automation",
        {
            "automation": {
                "use_blueprint": {
                    "path": "voice_mqtt/wake_voice_device.yaml",
                    "input": {
                        "device": device.id,
                        "url": "wss://voice.example/ws",
                        "at": "07:00:00",
                        "weekdays": ["mon"] if weekday_ok else ["sat", "sun"],
                    },
                }
            }
        },
    )
    await hass.async_block_till_done()
    mqtt_mock.async_publish.reset_mock()
    freezer.tick(timedelta(seconds=15))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    published = [
        (call.args[0], json.loads(call.args[1]))
        for call in mqtt_mock.async_publish.call_args_list
    ]
    expected = [
        (
            f"xiaozhi/{MAC}/down",
            {"type": "ws_start", "wss": "wss://voice.example/ws", "version": 3},
        )
    ]
    assert published == (expected if weekday_ok else [])
    # Turning automations off detaches their time triggers (no lingering timer).
    await hass.services.async_call(
        "automation", "turn_off", {"entity_id": "all"}, blocking=True
    )
