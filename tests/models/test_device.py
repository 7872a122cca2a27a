"""The pure device model: what each device topic changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from custom_components.voice_mqtt.models.device import (
    NO_SESSION,
    Device,
    DeviceAspect,
)
from custom_components.voice_mqtt.models.presence import Presence
from custom_components.voice_mqtt.protocol import (
    Announce,
    DeviceEvent,
    DeviceMessage,
    DevicePayload,
    DeviceStatus,
    DeviceTopicType,
    Heartbeat,
    LastWill,
)

T0 = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
TOPICS = {
    Announce: DeviceTopicType.ANNOUNCE,
    DeviceStatus: DeviceTopicType.STATUS,
    Heartbeat: DeviceTopicType.HEARTBEAT,
    DeviceEvent: DeviceTopicType.EVENTS,
    LastWill: DeviceTopicType.LWT,
}


def apply(
    device: Device, payload: DevicePayload, *, retained: bool = False, now: float = 0
) -> set[DeviceAspect]:
    message = DeviceMessage(device.device_id, TOPICS[type(payload)], payload)
    return device.apply(message, now=now, retained=retained)


def test_announce_names_the_device_and_brings_it_online() -> None:
    device = Device.with_timeout("VR_1", 45)
    assert device.online is None
    assert device.session is None
    changes = apply(device, Announce("VR_1", "vr", "Headset"))
    # A headset plays: it gets its media player as it is announced.
    assert changes == {DeviceAspect.INFO, DeviceAspect.PRESENCE, DeviceAspect.PLAYS}
    assert (device.name, device.device_type, device.online) == ("Headset", "vr", True)
    assert device.heard == 0
    assert apply(device, Announce("VR_1", "vr", "Headset")) == set()
    assert apply(device, Announce("VR_1")) == set(), "nothing new"


def test_status_fields_and_presence() -> None:
    device = Device("VR_1")
    changes = apply(device, DeviceStatus("playing", position_ms=10, session_id="S"))
    assert changes == {DeviceAspect.STATUS, DeviceAspect.PRESENCE, DeviceAspect.PLAYS}
    assert (device.status, device.position_ms, device.session) == ("playing", 10, "S")
    assert (
        apply(device, DeviceStatus("playing", position_ms=10, session_id="S")) == set()
    )
    assert apply(device, DeviceStatus("idle", device_type="vr")) == {
        DeviceAspect.STATUS,
        DeviceAspect.INFO,
    }
    assert device.session == NO_SESSION
    assert apply(device, DeviceStatus("offline")) == {
        DeviceAspect.STATUS,
        DeviceAspect.PRESENCE,
    }
    assert device.online is False


def test_a_replayed_status_older_than_the_one_shown_is_history() -> None:
    device = Device("VR_1")
    apply(device, DeviceStatus("playing", timestamp=T0))
    older = DeviceStatus("idle", timestamp=T0 - timedelta(minutes=1))
    assert apply(device, older, retained=True) == set()
    assert device.status == "playing"
    # Live, the same message is news.
    assert DeviceAspect.STATUS in apply(device, older)


def test_heartbeats_and_wills() -> None:
    device = Device.with_timeout("VR_1", 45)
    assert apply(device, Heartbeat(device_type="voice_box"), now=0) == {
        DeviceAspect.INFO,
        DeviceAspect.PRESENCE,
    }
    assert device.presence.deadline == 45
    assert apply(device, Heartbeat(), now=15) == set()
    assert device.presence.deadline == 60, "a heartbeat only moves a number"
    assert apply(device, LastWill(False)) == {DeviceAspect.PRESENCE}
    assert device.presence.presence is Presence.OFFLINE
    assert apply(device, LastWill(True)) == {DeviceAspect.PRESENCE}


def test_events_are_not_presence() -> None:
    device = Device("VR_1")
    assert apply(device, DeviceEvent({"type": "button"}, T0), retained=True) == {
        DeviceAspect.EVENT
    }
    assert device.event is not None
    assert (device.event.data, device.event.timestamp, device.event.retained) == (
        {"type": "button"},
        T0,
        True,
    )
    assert device.online is None


def test_snapshot_entry() -> None:
    device = Device("VR_1")
    assert device.snapshot_entry(None) == {
        "deviceId": "VR_1",
        "type": None,
        "name": None,
        "status": None,
        "sessionId": None,
        "online": None,
        "lastSeen": None,
    }
    apply(device, Announce("VR_1", "vr", "Headset"))
    assert device.snapshot_entry(T0)["online"] is True
    assert device.snapshot_entry(T0)["lastSeen"] == T0.isoformat()


def test_a_device_plays_once_a_status_says_so_and_from_then_on() -> None:
    box = Device("VB_1")
    assert apply(box, DeviceStatus("idle", device_type="voice_box")) == {
        DeviceAspect.STATUS,
        DeviceAspect.INFO,
        DeviceAspect.PRESENCE,
    }
    assert not box.plays
    assert apply(box, DeviceStatus("buffering")) == {DeviceAspect.STATUS}
    assert not box.plays, "buffering alone says nothing of what it plays"
    assert apply(box, DeviceStatus("idle", position_ms=0)) == {
        DeviceAspect.STATUS,
        DeviceAspect.PLAYS,
    }
    assert box.plays
    assert apply(box, DeviceStatus("paused")) == {DeviceAspect.STATUS}, "said once"
    assert apply(box, DeviceStatus("idle")) == {DeviceAspect.STATUS}
    assert box.plays, "a device that played keeps its player"


def test_paused_plays_and_a_headset_plays_by_its_type() -> None:
    browser = Device("BR_1")
    assert DeviceAspect.PLAYS in apply(browser, DeviceStatus("paused"))
    headset = Device("VR_1", device_type="vr")
    assert headset.plays
    assert DeviceAspect.PLAYS not in apply(headset, DeviceStatus("playing"))
    assert DeviceAspect.PLAYS not in apply(
        Device("VB_2", plays=True), Announce("VB_2", "vr")
    ), "it already had its player"
    assert DeviceAspect.PLAYS not in apply(Device("VB_3"), Heartbeat())
    # A device whose type goes back and forth gets its player once.
    assert apply(browser, Announce("BR_1", "vr")) == {DeviceAspect.INFO}
    assert Device.with_timeout("VR_3", device_type="vr").plays


def test_a_status_notes_when_its_position_was_valid_and_its_duration() -> None:
    device = Device("VR_1")
    apply(device, DeviceStatus("playing", position_ms=1_000, duration_ms=9_000), now=5)
    assert (device.position_ms, device.duration_ms, device.status_heard) == (
        1_000,
        9_000,
        5,
    )
    # The same status again changes nothing: the position is still the one of t=5.
    assert (
        apply(
            device, DeviceStatus("playing", position_ms=1_000, duration_ms=9_000), now=7
        )
        == set()
    )
    assert device.status_heard == 5
    assert apply(device, DeviceStatus("playing", position_ms=1_000), now=8) == {
        DeviceAspect.STATUS
    }
    assert (device.duration_ms, device.status_heard) == (None, 8)
