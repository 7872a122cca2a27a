"""Repairs: voice traffic on another topic version, and a silent backend."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.voice_mqtt.const import DOMAIN
from tests.common import send, voice_topic
from tests.conftest import DEFAULT_DATA


def mismatch(hass: HomeAssistant, entry: MockConfigEntry) -> ir.IssueEntry | None:
    return ir.async_get(hass).async_get_issue(
        DOMAIN, f"{entry.entry_id}_version_mismatch"
    )


def silent(hass: HomeAssistant, entry: MockConfigEntry) -> ir.IssueEntry | None:
    return ir.async_get(hass).async_get_issue(
        DOMAIN, f"{entry.entry_id}_backend_silent"
    )


async def fix(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    issue: ir.IssueEntry,
    step: str,
) -> dict[str, Any]:
    """Open the issue's fix flow as the UI does and pick a menu option."""
    assert await async_setup_component(hass, "repairs", {})
    client = await hass_client()
    response = await client.post(
        "/api/repairs/issues/fix", json={"handler": DOMAIN, "issue_id": issue.issue_id}
    )
    assert response.status == 200, await response.text()
    menu = await response.json()
    response = await client.post(
        f"/api/repairs/issues/fix/{menu['flow_id']}", json={"next_step_id": step}
    )
    assert response.status == 200, await response.text()
    await hass.async_block_till_done()
    return {"menu": menu, "result": await response.json()}


async def test_v0_traffic_on_a_v1_entry_offers_migration_mode(
    hass: HomeAssistant,
    integration: MockConfigEntry,
    hass_client: ClientSessionGenerator,
) -> None:
    send(hass, voice_topic("salon", "S1", "state", version="v1"), {"state": "idle"})
    await hass.async_block_till_done()
    assert mismatch(hass, integration) is None, "its own version"
    send(hass, voice_topic("salon", "S1", "state", version=""), {"state": "listening"})
    await hass.async_block_till_done()
    issue = mismatch(hass, integration)
    assert issue is not None
    assert issue.is_fixable
    assert issue.translation_placeholders == {
        "entry": "Voice Assistant MQTT",
        "seen": "v0 (no version level)",
        "configured": "v1",
    }
    flow = await fix(hass, hass_client, issue, "migrate")
    assert flow["menu"]["menu_options"] == ["switch", "migrate"]
    assert flow["result"]["type"] == "create_entry"
    assert integration.options["legacy_topics"] is True
    assert integration.runtime_data.settings.migration
    assert mismatch(hass, integration) is None, "the reload starts afresh"


async def test_a_newer_version_is_switched_to(
    hass: HomeAssistant,
    integration: MockConfigEntry,
    hass_client: ClientSessionGenerator,
) -> None:
    send(hass, voice_topic("salon", "S1", "state", version="v2"), {"state": "idle"})
    await hass.async_block_till_done()
    issue = mismatch(hass, integration)
    assert issue is not None
    assert issue.translation_placeholders["seen"] == "v2"
    flow = await fix(hass, hass_client, issue, "switch")
    assert flow["menu"]["menu_options"] == ["switch"], "migration pairs v0 only"
    assert integration.data["version"] == "v2"
    assert integration.runtime_data.settings.scheme.version == "v2"


@pytest.mark.parametrize("entry_data", [{**DEFAULT_DATA, "version": ""}])
async def test_a_v0_entry_hearing_v1_can_listen_to_both(
    hass: HomeAssistant,
    integration: MockConfigEntry,
    hass_client: ClientSessionGenerator,
    entry_data: dict[str, str],
) -> None:
    send(hass, voice_topic("salon", "S1", "state", version="v1"), {"state": "idle"})
    await hass.async_block_till_done()
    issue = mismatch(hass, integration)
    assert issue is not None
    await fix(hass, hass_client, issue, "migrate")
    assert integration.data["version"] == "v1"
    assert integration.options["legacy_topics"] is True


async def test_the_mismatch_clears_itself_when_that_traffic_stops(
    hass: HomeAssistant,
    integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    send(hass, voice_topic("salon", "S1", "state", version="v2"), {"state": "idle"})
    await hass.async_block_till_done()
    assert mismatch(hass, integration) is not None
    freezer.tick(timedelta(minutes=9))
    async_fire_time_changed(hass)
    send(
        hass, voice_topic("salon", "S1", "state", version="v2"), {"state": "listening"}
    )
    await hass.async_block_till_done()
    freezer.tick(timedelta(minutes=9))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert mismatch(hass, integration) is not None, "heard 9 minutes ago"
    freezer.tick(timedelta(minutes=2))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert mismatch(hass, integration) is None


# A heartbeat a minute: the device must stay online between them (with the
# default 45 s timeout it went offline, and whether the check saw it online
# depended on the order Home Assistant's test clock fired the timers).
@pytest.mark.parametrize("entry_options", [{"heartbeat_timeout": 120}])
async def test_a_silent_backend_raises_an_issue_until_it_speaks_again(
    hass: HomeAssistant,
    entry_options: dict[str, Any],
    integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    send(hass, voice_topic("salon", "S1", "state"), {"state": "idle"})
    for _ in range(31):
        send(hass, "devices/VR_1/heartbeat", {"status": "idle"})
        freezer.tick(timedelta(minutes=1))
        async_fire_time_changed(hass)
        await hass.async_block_till_done()
    issue = silent(hass, integration)
    assert issue is not None
    assert issue.translation_placeholders == {
        "entry": "Voice Assistant MQTT",
        "minutes": "30",
        "devices": "1",
    }
    send(hass, voice_topic("salon", "S1", "state"), {"state": "listening"})
    freezer.tick(timedelta(minutes=1))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert silent(hass, integration) is None


@pytest.mark.parametrize(
    ("entry_options", "devices"), [({"backend_silent_minutes": 0}, 1), ({}, 0)]
)
async def test_no_silence_issue_when_off_or_nobody_is_online(
    hass: HomeAssistant,
    integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    devices: int,
) -> None:
    send(hass, voice_topic("salon", "S1", "state"), {"state": "idle"})
    for _ in range(40):
        if devices:
            send(hass, "devices/VR_1/heartbeat", {"status": "idle"})
        freezer.tick(timedelta(minutes=1))
        async_fire_time_changed(hass)
        await hass.async_block_till_done()
    assert silent(hass, integration) is None
