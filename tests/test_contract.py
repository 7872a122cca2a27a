"""The entity contract (design.md), pinned by one fixed scenario.

Automations, dashboards and voice depend on what this snapshot holds: every
device registry entry, entity registry entry and state of one config entry,
after rooms talk, devices come and go, a tool runs and a device dies. It
changes only when the contract does: a change that adds or alters an entity
updates tests/snapshots/test_contract.ambr in the same commit, for a reviewer
to see.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry
from syrupy.assertion import SnapshotAssertion

from .common import send, voice_topic

T0 = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)


def iso(seconds: float) -> str:
    return (T0 + timedelta(seconds=seconds)).isoformat().replace("+00:00", "Z")


def ms(seconds: float) -> int:
    return int((T0 + timedelta(seconds=seconds)).timestamp() * 1000)


def _play_the_scenario(hass: HomeAssistant, clock: FrozenDateTimeFactory) -> None:
    """Two rooms, three devices: one plays, one idles, one died.

    The clock moves with the messages' timestamps, as it does in a home.
    """
    # A VR headset that announces itself and plays in a session.
    send(
        hass,
        "devices/discovery/announce",
        {"deviceId": "VR_0001", "type": "vr", "name": "Den headset"},
    )
    send(
        hass,
        "devices/VR_0001/status",
        {
            "deviceId": "VR_0001",
            "type": "vr",
            "status": "playing",
            "positionMs": 42_000,
            "sessionId": "S_movie",
            "timestamp": iso(1),
        },
        retain=True,
    )
    send(
        hass,
        "devices/VR_0001/events",
        {"deviceId": "VR_0001", "kind": "button", "timestamp": iso(2)},
    )
    # A voice box named by its MAC, idle.
    send(
        hass,
        "devices/cc:ba:97:11:0e:84/status",
        {
            "deviceId": "cc:ba:97:11:0e:84",
            "type": "voice_box",
            "status": "idle",
            "sessionId": "",
            "timestamp": iso(1),
        },
        retain=True,
    )
    send(
        hass,
        "devices/cc:ba:97:11:0e:84/heartbeat",
        {"deviceId": "cc:ba:97:11:0e:84", "type": "voice_box", "status": "idle"},
    )
    # A headset whose connection died: the broker sent its Last Will.
    send(
        hass,
        "devices/discovery/announce",
        {"deviceId": "VR_0002", "type": "vr", "name": "Bedroom headset"},
    )
    send(
        hass,
        "devices/VR_0002/lwt",
        {"deviceId": "VR_0002", "status": "offline", "timestamp": iso(3)},
        retain=True,
    )

    # The living room: a whole streamed conversation with a tool and a panel.
    def living(message_type: str, payload: dict[str, object]) -> None:
        if isinstance(stamp := payload.get("timestamp"), int):
            clock.move_to(T0 + timedelta(milliseconds=stamp - ms(0)))
        send(hass, voice_topic("living_room", "S_1", message_type), payload)

    living("state", {"state": "wake_detected", "timestamp": ms(10)})
    living("transcript/interim", {"text": "turn on", "sequence": 1})
    living(
        "transcript/final",
        {"text": "turn on the lights", "confidence": 0.91, "timestamp": ms(11)},
    )
    living("state", {"state": "processing", "timestamp": ms(11.2)})
    living(
        "tool_executed",
        {"tool_name": "control_light", "success": True, "timestamp": ms(11.5)},
    )
    living(
        "display_action",
        {"type": "light_control", "data": {"room": "living"}, "timestamp": ms(11.6)},
    )
    living("overlay_hint", {"keep_open": True, "timestamp": ms(11.6)})
    living("state", {"state": "responding", "timestamp": ms(11.7)})
    living("response/stream/start", {"timestamp": ms(11.8)})
    for index, chunk in enumerate(("Turning", " on", " the lights")):
        living("response/stream/chunk", {"chunk": chunk, "timestamp": ms(12 + index)})
    living("response/stream/complete", {"timestamp": ms(15)})
    living("state", {"state": "idle", "timestamp": ms(16)})

    # The kitchen: a conversation under way, and a tool that failed.
    def kitchen(message_type: str, payload: dict[str, object]) -> None:
        if isinstance(stamp := payload.get("timestamp"), int):
            clock.move_to(T0 + timedelta(milliseconds=stamp - ms(0)))
        send(hass, voice_topic("kitchen", "S_2", message_type), payload)

    kitchen("state", {"state": "listening", "timestamp": ms(20)})
    kitchen("transcript/interim", {"text": "set a timer", "sequence": 1})
    kitchen("tool_executed", {"tool_name": "set_timer", "success": False})


async def test_the_entity_contract_holds(
    hass: HomeAssistant,
    integration: MockConfigEntry,
    device_registry: dr.DeviceRegistry,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
    freezer: FrozenDateTimeFactory,
) -> None:
    freezer.move_to(T0)
    _play_the_scenario(hass, freezer)
    await hass.async_block_till_done()

    devices = sorted(
        dr.async_entries_for_config_entry(device_registry, integration.entry_id),
        key=lambda device: sorted(device.identifiers),
    )
    assert [sorted(device.identifiers) for device in devices] == snapshot(
        name="identifiers"
    )
    for device in devices:
        (identifier,) = (value for _, value in device.identifiers)
        assert device == snapshot(name=f"device-{identifier}")
    entries = sorted(
        er.async_entries_for_config_entry(entity_registry, integration.entry_id),
        key=lambda entry: entry.entity_id,
    )
    assert [(entry.entity_id, entry.unique_id) for entry in entries] == snapshot(
        name="entities"
    )
    for entry in entries:
        assert entry == snapshot(name=f"{entry.entity_id}-entry")
        assert hass.states.get(entry.entity_id) == snapshot(
            name=f"{entry.entity_id}-state"
        )
