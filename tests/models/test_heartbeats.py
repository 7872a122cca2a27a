"""Repeated heartbeats: taken without a parse while their shape holds."""

from __future__ import annotations

from datetime import timedelta
import json

from custom_components.voice_mqtt.models.device import Device, DeviceAspect
from custom_components.voice_mqtt.models.heartbeats import QuietHeartbeats
from custom_components.voice_mqtt.protocol import Announce, Heartbeat, LastWill
from tests.models.test_device import T0, apply


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
    # A headset that plays already: it has its player, it gets none again.
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
