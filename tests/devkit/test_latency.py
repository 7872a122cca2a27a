"""scripts/benchmark --real-broker without a broker: the schedule, the matching, the sums."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
import json
import math
import random

import pytest

from devkit.latency import (
    Results,
    parse_args,
    parse_event,
    report_lines,
    verdict_lines,
)
from devkit.latency_stats import (
    DEVICE_VALUES,
    ROOM_CYCLE,
    Entities,
    Interval,
    Kind,
    LoadPlan,
    Planned,
    Seen,
    Send,
    Summary,
    cpu_seconds,
    handmade_discovery,
    initial_messages,
    match,
    percentile,
    render,
    schedule,
)

PLAN = LoadPlan(devices=20, rooms=3, rate=500, seconds=10, status_rate=8, room_rate=3)


def test_percentiles_are_measured_values_by_nearest_rank() -> None:
    values = [float(value) for value in range(1, 101)]
    assert percentile(values, 50) == 50
    assert percentile(values, 99) == 99
    assert percentile(values, 100) == 100
    assert percentile([7.0], 99) == 7
    assert percentile(values[:10], 99) == 10
    assert math.isnan(percentile([], 50))


def test_a_summary_counts_the_lost_apart() -> None:
    summary = Summary.of([0.010, None, 0.030, 0.020])
    assert (summary.count, summary.lost) == (4, 1)
    assert (summary.p50, summary.max) == pytest.approx((20.0, 30.0))


def test_the_schedule_keeps_its_rates() -> None:
    kinds = Counter(message.kind for message in schedule(PLAN))
    seconds = PLAN.seconds
    assert kinds[Kind.VOICE_STATUS] == kinds[Kind.HANDMADE_STATUS] == 8 * seconds
    assert kinds[Kind.ROOM_STATE] == 3 * seconds
    beats = PLAN.heartbeat_rate / 2 * seconds
    assert kinds[Kind.VOICE_BEAT] == kinds[Kind.HANDMADE_BEAT] == beats
    assert kinds.total() == PLAN.rate * seconds


def test_the_schedule_is_spread_evenly_in_time_order() -> None:
    messages = schedule(PLAN)
    moments = [message.at for message in messages]
    assert moments == sorted(moments)
    first_second = sum(1 for at in moments if at < 1)
    assert first_second == pytest.approx(PLAN.rate, abs=2)


def test_both_subscribers_get_the_same_changes_first_in_turn() -> None:
    messages = schedule(PLAN)
    changes = [
        m for m in messages if m.kind in (Kind.VOICE_STATUS, Kind.HANDMADE_STATUS)
    ]
    pairs = list(zip(changes[::2], changes[1::2], strict=True))
    assert all((a.at, a.target, a.value) == (b.at, b.target, b.value) for a, b in pairs)
    firsts = Counter(a.kind for a, _ in pairs)
    assert firsts[Kind.VOICE_STATUS] == firsts[Kind.HANDMADE_STATUS]
    seqs = [m.seq for m in messages if m.kind.changes_state]
    assert seqs == list(range(len(seqs)))


def test_every_change_changes_and_heartbeats_change_nothing() -> None:
    status = dict.fromkeys(range(PLAN.devices), DEVICE_VALUES[0])
    rooms = dict.fromkeys(range(PLAN.rooms), ROOM_CYCLE[-1])
    for message in schedule(PLAN):
        if message.kind is Kind.VOICE_STATUS:
            assert message.value != status[message.target]
            status[message.target] = message.value
        elif message.kind is Kind.ROOM_STATE:
            assert message.value != rooms[message.target]
            rooms[message.target] = message.value
        elif not message.kind.changes_state:
            assert message.value == status[message.target]


def test_a_new_session_begins_each_conversation() -> None:
    room = [m for m in schedule(PLAN) if m.kind is Kind.ROOM_STATE and m.target == 0]
    assert [m.value for m in room[: len(ROOM_CYCLE)]] == list(ROOM_CYCLE)
    assert {m.session for m in room[: len(ROOM_CYCLE)]} == {"s1"}
    assert room[len(ROOM_CYCLE)].session == "s2"


def test_plans_that_cannot_be_sent_are_refused() -> None:
    with pytest.raises(ValueError, match="exceed"):
        LoadPlan(rate=50, status_rate=40).check()
    with pytest.raises(ValueError, match="room"):
        LoadPlan(rooms=0).check()
    # 20 devices, 8 changes a second: a device hears the same value every 5 s.
    assert PLAN.recurrence() == pytest.approx(min(2 * 20 / 8, 5 * 3 / 3))


def test_messages_carry_what_each_subscriber_reads() -> None:
    change = Planned(1.0, Kind.VOICE_STATUS, 7, "playing", seq=42)
    topic, payload, retain = render(change, 1_764_000_000.5)
    assert (topic, retain) == ("devices/LAT_0007/status", True)
    assert json.loads(payload) == {
        "deviceId": "LAT_0007",
        "type": "voice_box",
        "status": "playing",
        "timestamp": "2025-11-24T16:00:00.500Z",
        "seq": 42,
        "sent": 1_764_000_000.5,
    }
    room = Planned(1.0, Kind.ROOM_STATE, 2, "listening", seq=3, session="s1")
    topic, payload, retain = render(room, 1_764_000_000.5)
    assert topic == "v1/voice_assistant/room/lat_room_2/session/s1/state"
    assert json.loads(payload)["timestamp"] == 1_764_000_000_500
    beat = Planned(1.0, Kind.HANDMADE_BEAT, 7, "idle")
    assert render(beat, 0.0) == (
        "handmade/LAT_0007/status",
        b'{"status":"idle"}',
        False,
    )


def test_the_hand_made_sensor_is_what_a_user_writes() -> None:
    topic, payload = handmade_discovery(3)
    config = json.loads(payload)
    assert topic == "homeassistant/sensor/hm_LAT_0003/status/config"
    assert config["state_topic"] == "handmade/LAT_0003/status"
    assert config["value_template"] == "{{ value_json.status }}"
    assert config["expire_after"] == 45
    assert config["device"]["identifiers"] == ["hm_LAT_0003"]
    first = list(initial_messages(PLAN, 0.0))
    assert len(first) == 3 * PLAN.devices + PLAN.rooms
    assert all(retain for _, _, retain in first[:3])


def _send(value: str, sent: float, entity: str = "sensor.a") -> Send:
    return Send(entity, value, sent)


def _seen(value: str, fired: float, entity: str = "sensor.a") -> Seen:
    return Seen(entity, value, fired)


def test_each_event_is_matched_to_its_send() -> None:
    sends = [_send("playing", 1.0), _send("idle", 6.0), _send("playing", 11.0)]
    events = [_seen("playing", 1.02), _seen("idle", 6.5), _seen("playing", 11.1)]
    result = match(sends, events, timeout=3)
    latencies = [outcome.latency for outcome in result.outcomes]
    assert latencies == pytest.approx([0.02, 0.5, 0.1])
    assert result.unexplained == 0


def test_a_lost_flip_does_not_shift_the_matching() -> None:
    # "playing" at 1 s is lost; "idle" at 6 s then changes nothing.
    sends = [_send("playing", 1.0), _send("idle", 6.0), _send("playing", 11.0)]
    result = match(sends, [_seen("playing", 11.05)], timeout=3)
    latencies = [outcome.latency for outcome in result.outcomes]
    assert latencies == [None, None, pytest.approx(0.05)]


def test_late_and_foreign_events_are_explained_by_no_send() -> None:
    sends = [_send("playing", 1.0), _send("idle", 1.0, entity="sensor.b")]
    events = [
        _seen("playing", 5.0),  # later than the timeout
        _seen("unavailable", 2.0, entity="sensor.b"),  # no send said so
        _seen("idle", 0.5, entity="sensor.b"),  # before anything was sent
        _seen("idle", 2.0, entity="sensor.c"),  # not an entity sent to
    ]
    result = match(sends, events, timeout=3)
    assert [outcome.seen for outcome in result.outcomes] == [None, None]
    assert result.unexplained == 4


def test_cpu_is_read_after_the_command_name() -> None:
    fields = ["S"] + ["0"] * 10 + ["250", "150"] + ["0"] * 30
    stat = "1234 (python3 (hass) x) " + " ".join(fields)
    assert cpu_seconds(stat) == pytest.approx(400 / 100)  # SC_CLK_TCK is 100


def test_a_state_changed_event_is_read_from_the_websocket() -> None:
    message = {
        "id": 1,
        "type": "event",
        "event": {
            "event_type": "state_changed",
            "time_fired": "2025-11-24T16:00:00.250000+00:00",
            "data": {"entity_id": "sensor.a", "new_state": {"state": "idle"}},
        },
    }
    seen = parse_event(message)
    assert seen == Seen("sensor.a", "idle", 1_764_000_000.25)
    message["event"]["data"]["new_state"] = None  # type: ignore[index]
    assert parse_event(message) is None
    assert parse_event({"id": 1, "type": "result"}) is None


def test_entities_are_found_by_unique_id() -> None:
    plan = LoadPlan(devices=2, rooms=1, rate=100, seconds=1, status_rate=1, room_rate=1)
    registry = [
        {"platform": "voice_mqtt", "unique_id": "E_device_LAT_0000_device_status",
         "entity_id": "sensor.lat_0000_status"},
        {"platform": "mqtt", "unique_id": "hm_LAT_0000_status",
         "entity_id": "sensor.handmade_lat_0000_status"},
        {"platform": "voice_mqtt", "unique_id": "E_room_lat_room_0_assistant_state",
         "entity_id": "sensor.lat_room_0_assistant_state"},
    ]  # fmt: skip
    entities = Entities.find(registry, "E", plan)
    assert entities.missing == 2  # device 1 has neither sensor yet
    change = Planned(0, Kind.HANDMADE_STATUS, 0, "playing")
    assert entities.entity_of(change) == "sensor.handmade_lat_0000_status"
    assert entities.watched("sensor.lat_room_0_assistant_state")
    states = [
        {"entity_id": "sensor.lat_0000_status", "state": "idle"},
        {"entity_id": "sensor.handmade_lat_0000_status", "state": "idle"},
        {"entity_id": "sensor.lat_room_0_assistant_state", "state": "unknown"},
    ]
    assert not entities.all_initial(states)
    states[2]["state"] = "idle"
    assert entities.all_initial(states)


def _latencies(count: int, seed: int) -> list[float]:
    """Latencies in seconds as a loaded machine gives them: a long tail."""
    draw = random.Random(seed)  # noqa: S311 - figures, not secrets
    return [0.030 + draw.expovariate(1 / 0.008) for _ in range(count)]


def test_two_equal_subscribers_are_no_worse_within_the_margin() -> None:
    # The same change to both: what they share (the broker, hass) dominates.
    shared = _latencies(2400, seed=1)
    own = random.Random(2)  # noqa: S311
    pairs = [
        (base + own.uniform(0, 0.002), base + own.uniform(0, 0.002)) for base in shared
    ]
    interval = Interval.of(pairs, resamples=400)
    assert interval.pairs == 2400
    assert interval.low <= 0 <= interval.high, "equal: the interval holds 0"
    assert interval.high - interval.low < 3, "paired: a narrow interval"
    assert interval.verdict(margin=0.05 * interval.second) == "yes"
    assert Interval.of(pairs, resamples=400) == interval, "the same draws every run"


def test_a_later_tail_is_worse_and_a_short_run_cannot_tell() -> None:
    shared = _latencies(2400, seed=3)
    later = [(base + (0.015 if base > 0.050 else 0), base) for base in shared]
    interval = Interval.of(later, resamples=400)
    assert interval.low > 10
    assert interval.verdict(margin=0.05 * interval.second) == "no"
    # 100 unpaired-looking changes: the p99 is nearly the maximum, by chance.
    first, second = _latencies(100, seed=4), _latencies(100, seed=5)
    short = Interval.of(list(zip(first, second, strict=True)))
    assert short.verdict(margin=0.05 * short.second) == "undecided"
    nothing = Interval.of([])
    assert math.isnan(nothing.difference)
    assert nothing.verdict(margin=1) == "undecided"


def test_losing_more_changes_is_worse_whatever_the_latencies() -> None:
    pairs = [(0.030 + i / 100_000, 0.030 + i / 100_000) for i in range(1000)]
    interval = Interval.of(pairs, resamples=200)
    assert verdict_lines(5, interval, (0, 0))[0].endswith(": yes")
    assert verdict_lines(5, interval, (2, 1))[0].endswith(": no")
    assert verdict_lines(5, interval, (1, 2))[0].endswith(": yes")


def test_the_command_line_reads_its_options(capsys: pytest.CaptureFixture[str]) -> None:
    args = parse_args(["--seconds", "5", "--margin", "3"])
    assert (args.seconds, args.margin, args.devices) == (5.0, 3.0, 200)
    with pytest.raises(SystemExit) as exited:
        parse_args(["--help"])
    assert exited.value.code == 0
    assert "--margin" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exited:
        parse_args(["--timeout", "6"])  # a room hears the same state every 5 s
    assert exited.value.code == 2


@dataclass
class _Publisher:
    messages: list[Planned]
    sent: list[float]
    refused: int = 0
    late: float = 0.0


@dataclass
class _Watcher:
    seen: list[Seen]
    events: int = 0
    error: str = ""


def test_a_run_is_summed_up_by_group_and_compared_pair_by_pair() -> None:
    plan = LoadPlan(devices=2, rooms=1, rate=100, seconds=1, status_rate=1, room_rate=1)
    entities = Entities.find(
        [
            {"platform": "voice_mqtt", "entity_id": f"sensor.voice_{i}",
             "unique_id": f"E_device_LAT_000{i}_device_status"}
            for i in range(2)
        ] + [
            {"platform": "mqtt", "entity_id": f"sensor.hand_{i}",
             "unique_id": f"hm_LAT_000{i}_status"}
            for i in range(2)
        ] + [
            {"platform": "voice_mqtt", "entity_id": "sensor.room",
             "unique_id": "E_room_lat_room_0_assistant_state"},
        ],
        "E",
        plan,
    )  # fmt: skip
    changes = [
        Planned(0.1, Kind.VOICE_STATUS, 0, "playing"),
        Planned(0.1, Kind.HANDMADE_STATUS, 0, "playing"),
        Planned(0.6, Kind.VOICE_STATUS, 1, "playing"),
        Planned(0.6, Kind.HANDMADE_STATUS, 1, "playing"),
        Planned(0.5, Kind.ROOM_STATE, 0, "wake_detected", session="s1"),
        Planned(0.7, Kind.VOICE_BEAT, 0, "playing"),
    ]
    sent = [100.1, 100.1, 100.6, 100.6, 100.5, 100.7]
    seen = [
        Seen("sensor.voice_0", "playing", 100.12),
        Seen("sensor.hand_0", "playing", 100.15),
        Seen("sensor.voice_1", "playing", 100.61),  # its hand-made twin is lost
        Seen("sensor.room", "wake_detected", 100.53),
    ]
    results = Results()
    results.take([_Publisher(changes, sent)], _Watcher(seen, events=9), entities, 3)
    assert (results.messages, results.sent, results.events) == (6, 6, 9)
    status, room = results.summaries["status"], results.summaries["room"]
    assert (status.count, status.lost, status.max) == (2, 0, pytest.approx(20.0))
    assert (room.count, room.lost, room.p50) == (1, 0, pytest.approx(30.0))
    assert results.summaries["handmade"].lost == 1
    # Only the change both saw is a pair; the other counts as lost by one side.
    assert results.interval.pairs == 1
    assert results.interval.difference == pytest.approx(20.0 - 50.0)
    assert results.pair_lost == (0, 1)
    # 30 ms earlier on the one pair, fewer lost: no worse.
    lines = report_lines(parse_args([]), results)
    assert "voice_mqtt's p99 is no worse than the hand-made sensors': yes" in lines
