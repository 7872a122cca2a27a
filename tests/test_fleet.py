"""The pure device model: what each device topic changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
import json

from custom_components.voice_mqtt.fleet import (
    NO_SESSION,
    Device,
    DeviceAspect,
    QuietHeartbeats,
)
from custom_components.voice_mqtt.presence import Presence
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
    assert changes == {DeviceAspect.INFO, DeviceAspect.PRESENCE}
    assert (device.name, device.device_type, device.online) == ("Headset", "vr", True)
    assert device.heard == 0
    assert apply(device, Announce("VR_1", "vr", "Headset")) == set()
    assert apply(device, Announce("VR_1")) == set(), "nothing new"


def test_status_fields_and_presence() -> None:
    device = Device("VR_1")
    changes = apply(device, DeviceStatus("playing", position_ms=10, session_id="S"))
    assert changes == {DeviceAspect.STATUS, DeviceAspect.PRESENCE}
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
    assert apply(device, Heartbeat(device_type="vr"), now=0) == {
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


def test_an_identical_heartbeat_only_moves_the_clock() -> None:
    quiet = QuietHeartbeats()
    device = Device.with_timeout("VR_1", 45)
    topic, beat = "devices/VR_1/heartbeat", b'{"status": "idle"}'
    assert not quiet.take(topic, beat, 10), "nothing remembered yet"
    apply(device, Heartbeat(), now=10)
    quiet.remember(topic, beat, device)
    assert quiet.take(topic, beat, 20)
    assert (device.presence.deadline, device.heard) == (65, 20)
    assert not quiet.take(topic, b'{"status": "busy"}', 30), "other bytes: parse"
    apply(device, LastWill(False), now=40)
    assert not quiet.take(topic, beat, 50), "offline: the whole way, to come back"
    assert device.online is False
    apply(device, Heartbeat(), now=50)
    device.presence.suspend()
    assert not quiet.take(topic, beat, 60), "suspended: nothing moves"
    quiet.forget(device)
    device.presence.resume(60)
    assert not quiet.take(topic, beat, 70), "forgotten"


def beat_at(seconds: int, **fields: str) -> bytes:
    """A heartbeat as a device with a clock sends it, stamped seconds after T0."""
    stamp = (T0 + timedelta(seconds=seconds)).isoformat().replace("+00:00", "Z")
    return json.dumps({**fields, "status": "idle", "timestamp": stamp}).encode()


def test_a_heartbeat_with_a_new_timestamp_only_moves_the_clock() -> None:
    quiet = QuietHeartbeats()
    device = Device.with_timeout("VR_1", 45)
    topic = "devices/VR_1/heartbeat"
    apply(device, Heartbeat(), now=10)
    quiet.remember(topic, beat_at(0), device)
    assert quiet.take(topic, beat_at(15), 25)
    assert (device.presence.deadline, device.heard) == (70, 25)
    assert quiet.take(topic, beat_at(15), 26), "the same again"
    assert not quiet.take(topic, beat_at(30).replace(b"2025", b"2025x"), 40)
    assert not quiet.take(topic, beat_at(30), 40, True), "retained: its time counts"
    assert device.presence.deadline == 71


def test_a_heartbeat_that_says_another_type_goes_the_whole_way() -> None:
    quiet = QuietHeartbeats()
    device = Device.with_timeout("VR_1", 45)
    topic = "devices/VR_1/heartbeat"
    apply(device, Heartbeat(device_type="vr"), now=10)
    quiet.remember(topic, beat_at(0, type="vr"), device, "vr")
    assert quiet.take(topic, beat_at(15, type="vr"), 25)
    apply(device, Announce("VR_1", "headset"), now=30)
    assert not quiet.take(topic, beat_at(30, type="vr"), 40), "it says vr again"
    assert apply(device, Heartbeat(device_type="vr"), now=40) == {DeviceAspect.INFO}


def test_a_heartbeat_of_a_new_shape_is_learned() -> None:
    quiet = QuietHeartbeats()
    device = Device.with_timeout("VR_1", 45)
    topic = "devices/VR_1/heartbeat"
    apply(device, Heartbeat(), now=0)
    quiet.remember(topic, beat_at(0, mode="a"), device)
    assert quiet.take(topic, beat_at(15, mode="a"), 15)
    assert not quiet.take(topic, beat_at(30, mode="b"), 30)
    quiet.remember(topic, beat_at(30, mode="b"), device)
    assert quiet.take(topic, beat_at(45, mode="b"), 45), "the new shape"


def test_heartbeats_that_change_more_than_their_time_are_learned_now_and_then() -> None:
    quiet = QuietHeartbeats()
    device = Device.with_timeout("VR_1", 45)
    topic = "devices/VR_1/heartbeat"
    apply(device, Heartbeat(), now=0)
    # The first is learned; after it, one in 16 (its shape never came back).
    for uptime in range(17):
        assert not quiet.take(topic, beat_at(uptime, uptime=str(uptime)), uptime)
        quiet.remember(topic, beat_at(uptime, uptime=str(uptime)), device)
    assert quiet.take(topic, beat_at(99, uptime="16"), 99), "the 16th miss"
    assert not quiet.take(topic, beat_at(99, uptime="15"), 99), "the 15th was not"
