"""Fleet health: connections lost today, devices offline, flapping, last seen."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import EVENT_STATE_CHANGED, STATE_UNAVAILABLE
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers import (
    device_registry as dr,
    entity_registry as er,
    issue_registry as ir,
)
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)

from custom_components.voice_mqtt.const import DOMAIN
from custom_components.voice_mqtt.fleet.health import FLAP_LOSSES
from tests.test_devices import heartbeat, last_will, state_of, status

LOST = "sensor.vr_1_connections_lost_today"
SEEN = "sensor.vr_1_last_seen"
OFFLINE = "sensor.voice_assistant_mqtt_devices_offline"
ISSUE = "01TESTENTRY_device_flapping_VR_1"


async def later(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, **delta: float
) -> None:
    freezer.tick(timedelta(**delta))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()


async def drop(hass: HomeAssistant, device_id: str = "VR_1") -> None:
    """Online, then its Last Will: one lost connection."""
    heartbeat(hass, device_id)
    await hass.async_block_till_done()
    last_will(hass, device_id, None, retain=False)
    await hass.async_block_till_done()


async def test_lost_connections_are_counted_and_reset_at_midnight(
    hass: HomeAssistant, integration: MockConfigEntry, freezer: FrozenDateTimeFactory
) -> None:
    freezer.move_to(dt_util.start_of_local_day() + timedelta(hours=20))
    status(hass, "VR_1", "idle")
    await hass.async_block_till_done()
    assert state_of(hass, LOST) == "0"
    await drop(hass)  # a Last Will
    status(hass, "VR_1", "idle", 10)
    status(hass, "VR_1", "offline", 20)  # its own status
    await hass.async_block_till_done()
    heartbeat(hass, "VR_1")
    await later(hass, freezer, seconds=46)  # silence
    assert state_of(hass, LOST) == "3"
    # Shown while offline too, and on the bridge.
    assert state_of(hass, OFFLINE) == "1"
    # A will that repeats an offline device's state loses nothing more.
    last_will(hass, "VR_1", None, retain=False)
    await hass.async_block_till_done()
    assert state_of(hass, LOST) == "3"
    await later(hass, freezer, hours=4)
    assert state_of(hass, LOST) == "0"


async def test_a_retained_will_at_start_is_no_lost_connection(
    hass: HomeAssistant, integration: MockConfigEntry
) -> None:
    last_will(hass, "VR_1", 0)
    await hass.async_block_till_done()
    assert state_of(hass, OFFLINE) == "1"
    assert state_of(hass, LOST) == "0"
    assert state_of(hass, "sensor.voice_assistant_mqtt_devices_online") == "0"


# Heartbeats every 5 minutes below: the device must not time out meanwhile.
@pytest.mark.parametrize("entry_options", [{"heartbeat_timeout": 3600}])
async def test_a_flapping_device_raises_an_issue_until_it_settles(
    hass: HomeAssistant,
    entry_options: dict[str, Any],
    integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    issue_registry: ir.IssueRegistry,
) -> None:
    for _ in range(FLAP_LOSSES):
        await drop(hass)
        await later(hass, freezer, minutes=1)
    assert issue_registry.async_get_issue(DOMAIN, ISSUE) is None
    await drop(hass)
    issue = issue_registry.async_get_issue(DOMAIN, ISSUE)
    assert issue is not None
    assert issue.translation_key == "device_flapping"
    assert issue.translation_placeholders == {
        "device": "VR_1",
        "device_id": "VR_1",
        "losses": str(FLAP_LOSSES + 1),
        "minutes": "60",
    }
    # Back, but not for an hour yet: the issue stays.
    heartbeat(hass, "VR_1")
    for _ in range(6):
        await later(hass, freezer, minutes=5)
        heartbeat(hass, "VR_1")
    assert issue_registry.async_get_issue(DOMAIN, ISSUE) is not None
    for _ in range(8):
        await later(hass, freezer, minutes=5)
        heartbeat(hass, "VR_1")
    assert issue_registry.async_get_issue(DOMAIN, ISSUE) is None


async def test_slow_losses_are_not_flapping(
    hass: HomeAssistant,
    integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    issue_registry: ir.IssueRegistry,
) -> None:
    for _ in range(FLAP_LOSSES + 3):
        await drop(hass)
        await later(hass, freezer, minutes=20)
    assert issue_registry.async_get_issue(DOMAIN, ISSUE) is None
    assert state_of(hass, LOST) == str(FLAP_LOSSES + 3)


async def test_removing_a_device_forgets_its_figures(
    hass: HomeAssistant, integration: MockConfigEntry, issue_registry: ir.IssueRegistry
) -> None:
    for _ in range(FLAP_LOSSES + 1):
        await drop(hass)
    assert issue_registry.async_get_issue(DOMAIN, ISSUE) is not None
    hub = integration.runtime_data
    entry = dr.async_get(hass).async_get_device_by_identifier(
        (DOMAIN, f"{integration.entry_id}_device_VR_1"), integration.entry_id
    )
    assert entry is not None
    assert hub.async_forget(entry)
    await hass.async_block_till_done()
    assert issue_registry.async_get_issue(DOMAIN, ISSUE) is None
    assert state_of(hass, OFFLINE) == "0"


async def test_last_seen_is_off_by_default_and_moves_without_a_write_per_heartbeat(
    hass: HomeAssistant,
    integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    entity_registry: er.EntityRegistry,
) -> None:
    status(hass, "VR_1", "idle")
    await hass.async_block_till_done()
    entry = entity_registry.async_get(SEEN)
    assert entry is not None
    assert entry.disabled_by is er.RegistryEntryDisabler.INTEGRATION
    assert hass.states.get(SEEN) is None
    entity_registry.async_update_entity(SEEN, disabled_by=None)
    await later(hass, freezer, seconds=31)  # Home Assistant reloads the entry
    first = dt_util.utcnow().replace(microsecond=0)
    heartbeat(hass, "VR_1")
    await hass.async_block_till_done()
    assert state_of(hass, SEEN) == first.isoformat()

    writes: list[Any] = []

    @callback
    def count(event: Event[Any]) -> None:
        if event.data["entity_id"] == SEEN:
            writes.append(event.data["new_state"].state)

    hass.bus.async_listen(EVENT_STATE_CHANGED, count)
    for _ in range(19):  # heartbeats every 15 s for almost 5 minutes
        freezer.tick(timedelta(seconds=15))
        heartbeat(hass, "VR_1")
        await hass.async_block_till_done()
    assert writes == []
    await later(hass, freezer, seconds=20)  # the 5-minute sweep
    assert len(writes) == 1
    assert dt_util.parse_datetime(writes[0]) > first
    # Offline: it stays, telling when the device was last heard.
    await later(hass, freezer, seconds=50)
    assert state_of(hass, "binary_sensor.vr_1_connectivity") == "off"
    assert state_of(hass, SEEN) != STATE_UNAVAILABLE
