"""The entity contract's scenario: rooms that talk, devices that play, idle and die.

tests/test_contract.py snapshots everything it leaves; each platform's test
module snapshots its own entities after it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from syrupy.assertion import SnapshotAssertion

from .common import send, snapshot_platform_entities, voice_topic

T0 = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)


def iso(seconds: float) -> str:
    return (T0 + timedelta(seconds=seconds)).isoformat().replace("+00:00", "Z")


def ms(seconds: float) -> int:
    return int((T0 + timedelta(seconds=seconds)).timestamp() * 1000)


def play_the_scenario(hass: HomeAssistant, clock: FrozenDateTimeFactory) -> None:
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

    def speaker(room: str, session: str) -> Callable[[str, dict[str, object]], None]:
        """A room's backend: each message sent at the moment it is stamped."""

        def say(message_type: str, payload: dict[str, object]) -> None:
            if isinstance(stamp := payload.get("timestamp"), int):
                clock.move_to(T0 + timedelta(milliseconds=stamp - ms(0)))
            send(hass, voice_topic(room, session, message_type), payload)

        return say

    # The living room: a whole streamed conversation with a tool and a panel.
    living = speaker("living_room", "S_1")

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
    kitchen = speaker("kitchen", "S_2")

    kitchen("state", {"state": "listening", "timestamp": ms(20)})
    kitchen("transcript/interim", {"text": "set a timer", "sequence": 1})
    kitchen("tool_executed", {"tool_name": "set_timer", "success": False})


async def snapshot_the_platform(
    hass: HomeAssistant,
    config_entry_id: str,
    snapshot: SnapshotAssertion,
    clock: FrozenDateTimeFactory,
) -> None:
    """Play the scenario, then snapshot the one platform the entry loaded."""
    clock.move_to(T0)
    play_the_scenario(hass, clock)
    await hass.async_block_till_done()
    await snapshot_platform_entities(hass, config_entry_id, snapshot)
