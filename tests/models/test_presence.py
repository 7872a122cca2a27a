"""The presence state machine of protocol.md section 2."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from custom_components.voice_mqtt.models.presence import (
    OfflineReason,
    Presence,
    PresenceTracker,
)

T0 = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)


def test_starts_unknown_and_follows_live_evidence() -> None:
    tracker = PresenceTracker(timeout=45)
    assert tracker.presence is Presence.UNKNOWN
    assert tracker.observe(True, now=0)
    assert tracker.presence is Presence.ONLINE
    assert not tracker.observe(True, now=10), "a heartbeat that changes nothing"
    assert tracker.observe(False, now=11)
    assert tracker.presence is Presence.OFFLINE
    assert tracker.deadline is None


def test_silence_longer_than_the_timeout_means_offline() -> None:
    tracker = PresenceTracker(timeout=45)
    tracker.observe(True, now=0)
    tracker.observe(True, now=15)
    assert tracker.deadline == 60
    assert not tracker.expire(59.9)
    assert tracker.presence is Presence.ONLINE
    assert tracker.expire(60)
    assert tracker.presence is Presence.OFFLINE
    assert not tracker.expire(100), "offline once, not again"


def test_stale_retained_last_will_does_not_override_newer_status() -> None:
    tracker = PresenceTracker()
    tracker.observe(True, now=0, timestamp=T0, kept=True, replayed=True)  # status
    assert not tracker.observe(
        False, now=0, timestamp=T0 - timedelta(hours=1), kept=True, replayed=True
    )
    assert tracker.presence is Presence.ONLINE


def test_newer_retained_last_will_wins_whatever_the_order() -> None:
    tracker = PresenceTracker()
    tracker.observe(False, now=0, timestamp=T0, kept=True, replayed=True)  # lwt
    assert not tracker.observe(
        True, now=0, timestamp=T0 - timedelta(seconds=1), kept=True, replayed=True
    )
    assert tracker.presence is Presence.OFFLINE


def test_without_timestamps_the_later_arrival_wins() -> None:
    tracker = PresenceTracker()
    tracker.observe(True, now=0, timestamp=T0, kept=True, replayed=True)
    assert tracker.observe(False, now=0, kept=True, replayed=True)
    assert tracker.presence is Presence.OFFLINE
    assert tracker.observe(True, now=0, kept=True, replayed=True)


def test_live_messages_apply_in_arrival_order() -> None:
    tracker = PresenceTracker()
    tracker.observe(True, now=0, timestamp=T0, kept=True)
    # A live Last Will carries the time its connection was made: older, yet true.
    assert tracker.observe(False, now=1, timestamp=T0 - timedelta(minutes=5), kept=True)
    assert tracker.presence is Presence.OFFLINE
    assert tracker.kept_time == T0


def test_heartbeats_do_not_make_the_retained_status_look_stale() -> None:
    tracker = PresenceTracker()
    tracker.observe(True, now=0, timestamp=T0 + timedelta(minutes=30))  # heartbeat
    assert tracker.kept_time is None
    # A reconnect replays the device's status, published before its heartbeats.
    tracker.observe(False, now=1, timestamp=T0, kept=True)  # live status offline
    assert tracker.observe(True, now=2, timestamp=T0, kept=True, replayed=True)
    assert tracker.presence is Presence.ONLINE


def test_suspended_clock_does_not_expire_and_resumes_with_a_full_timeout() -> None:
    tracker = PresenceTracker(timeout=45)
    tracker.observe(True, now=0)
    tracker.suspend()
    assert not tracker.expire(1000)
    tracker.resume(1000)
    assert tracker.deadline == 1045
    assert not tracker.expire(1044)
    assert tracker.expire(1045)
    offline = PresenceTracker()
    offline.observe(False, now=0)
    offline.resume(10)
    assert offline.deadline is None


def test_the_first_evidence_of_offline_says_why() -> None:
    tracker = PresenceTracker(timeout=45)
    tracker.observe(True, now=0)
    assert tracker.offline_reason is None
    assert tracker.observe(False, now=1, reason=OfflineReason.LAST_WILL)
    assert not tracker.observe(False, now=2, reason=OfflineReason.STATUS)
    assert tracker.offline_reason is OfflineReason.LAST_WILL, "the first one counts"
    tracker.observe(True, now=3)
    assert tracker.offline_reason is None, "online again"
    assert tracker.expire(48)
    assert tracker.offline_reason is OfflineReason.HEARTBEAT_TIMEOUT
