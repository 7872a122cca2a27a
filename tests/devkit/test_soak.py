"""scripts/soak without a broker: the fuzzer's messages, the log reading, the limits."""

from __future__ import annotations

from collections import Counter
from random import Random

import pytest

from devkit.hass.api import HomeAssistantApi
from devkit.hass.log import log_records
from devkit.soak.fuzz import (
    MIN_DEPTH,
    WEIGHTS,
    FuzzMessage,
    Kind,
    MessageMaker,
    Plan,
    flood_device_ids,
    flood_room_ids,
    generate,
)
from devkit.soak.measure import (
    ApiProbe,
    count_entry_devices,
    find_cap,
    flatten,
    scan_log,
)
from devkit.soak.publisher import Publisher
from devkit.soak.report import Limits, Report
from simulator.wire import protocol

SCHEME = protocol.TopicScheme()
CLOCK = 1_764_000_000.0


def _clock() -> float:
    return CLOCK


def _plan(seed: int = 3) -> list[FuzzMessage]:
    return list(generate(Plan(3_000, 200, 50, seed), clock=_clock))


def test_a_plan_holds_as_many_messages_as_asked() -> None:
    kinds = Counter(message.kind for message in _plan())
    assert kinds.pop(Kind.FLOOD_DEVICE) == 200
    assert kinds.pop(Kind.FLOOD_ROOM) == 50
    assert kinds.total() == 3_000
    assert set(kinds) == set(WEIGHTS)  # every kind of garbage comes


def test_the_floods_spread_through_the_garbage() -> None:
    messages = _plan()
    positions = [i for i, m in enumerate(messages) if m.kind is Kind.FLOOD_DEVICE]
    assert positions[0] < len(messages) / 4
    assert positions[-1] > 3 * len(messages) / 4


def test_the_same_seed_makes_the_same_messages() -> None:
    assert _plan(5) == _plan(5)
    assert _plan(5) != _plan(6)


def test_a_seed_makes_the_same_messages_as_before() -> None:
    # Pinned: a soak's seed names the run it repeats, on any later commit.
    # A change here changes what every seed sends: do it on purpose only.
    assert [(m.kind, m.topic) for m in _plan()[:6]] == [
        (
            Kind.WRONG_TYPES,
            "v1/voice_assistant/room/fuzz_room_7/session/a6f26332443425d8/transcript/refined",
        ),
        (
            Kind.RANDOM_VALID,
            "v1/voice_assistant/room/room 17703 $x/session/20d8a93018fa2c93/tool_executed",
        ),
        (Kind.HUGE_NUMBERS, "devices/discovery/announce"),
        (Kind.DEEP_NESTING, "devices/FUZZ_017/heartbeat"),
        (
            Kind.WRONG_TYPES,
            "v1/voice_assistant/room/fuzz_room_18/session/605517fee0c7d6b6/state",
        ),
        (
            Kind.HUGE_NUMBERS,
            "v1/voice_assistant/room/fuzz_room_14/session/008b2c46fb7f063f/transcript/final",
        ),
    ]


def test_every_topic_is_inside_the_namespace_and_one_a_broker_takes() -> None:
    roots = (f"{SCHEME.voice_root}/room/", f"{SCHEME.device_prefix}/")
    for message in _plan():
        topic = message.topic
        assert topic.startswith(roots) or topic == SCHEME.admin_request_topic, topic
        # A broker disconnects a client that publishes on a refused topic.
        assert topic
        assert not set(topic) & {"+", "#", "\x00"}
        assert not any(char < " " or "\x7f" <= char <= "\x9f" for char in topic)
        assert len(topic.encode("utf-8")) < 65_536  # no lone surrogates either


def test_the_flood_ids_are_distinct_valid_topic_levels() -> None:
    devices = flood_device_ids(3, 10_000)
    rooms = flood_room_ids(3, 2_000)
    assert len(set(devices)) == 10_000
    assert len(set(rooms)) == 2_000
    assert all(protocol.is_valid_identifier(name) for name in devices + rooms)


def test_flood_and_random_valid_messages_are_valid() -> None:
    named: dict[str, set[str]] = {"device": set(), "room": set()}
    for message in _plan():
        if message.kind not in (Kind.FLOOD_DEVICE, Kind.FLOOD_ROOM, Kind.RANDOM_VALID):
            continue
        assert message.names is not None
        scope, name = message.names
        if message.topic.startswith(SCHEME.device_prefix + "/"):
            parsed = protocol.parse_device_message(
                SCHEME, message.topic, message.payload
            )
            assert parsed is not None
            assert (scope, parsed.device_id) == ("device", name)
        else:
            parsed_voice = protocol.parse_voice_message(
                SCHEME, message.topic, message.payload
            )
            assert parsed_voice is not None
            assert (scope, parsed_voice.room_id) == ("room", name)
        named[scope].add(name)
    assert set(flood_device_ids(3, 200)) <= named["device"]
    assert set(flood_room_ids(3, 50)) <= named["room"]


@pytest.mark.parametrize("kind", list(WEIGHTS))
def test_each_kind_is_what_it_says(kind: Kind) -> None:
    maker = MessageMaker(Random(1), clock=_clock)  # noqa: S311 - reproducible
    messages = [maker.fuzz(kind) for _ in range(200)]
    assert {message.kind for message in messages} == {kind}
    payloads = [message.payload for message in messages]
    match kind:
        case Kind.OVERSIZE:
            assert all(len(p) > protocol.MAX_PAYLOAD_BYTES for p in payloads)
        case Kind.DEEP_NESTING:
            assert all(
                p.count(b'{"a":') >= MIN_DEPTH or p.startswith(b"[" * 5_000)
                for p in payloads
            )
        case Kind.HUGE_NUMBERS:
            assert any(b"1" + b"0" * 400 in p for p in payloads)
            assert any(b"1e400" in p for p in payloads)
        case Kind.NAN_INFINITY:
            assert all(b"NaN" in p or b"Infinity" in p for p in payloads)
        case Kind.EMPTY_RETAINED:
            assert all(m.payload == b"" and m.retain for m in messages)
        case Kind.BAD_UTF8:
            for payload in payloads:
                with pytest.raises(UnicodeDecodeError):
                    payload.decode("utf-8")
        case Kind.HOSTILE_IDS:
            assert any(b"a/b" in p or b"a+b" in p or b"a#b" in p for p in payloads)
            levels = [level for m in messages for level in m.topic.split("/")]
            assert max(len(level) for level in levels) > protocol.MAX_ID_LENGTH
        case Kind.ADMIN_REQUEST:
            assert all(m.topic == SCHEME.admin_request_topic for m in messages)


# home-assistant.log -----------------------------------------------------------

LOG = """\
2026-12-01 07:06:17.315 ERROR (MainThread) [homeassistant.setup] Setup failed for 'ffmpeg'
Traceback (most recent call last):
  File "/venv/homeassistant/setup.py", line 341, in _async_setup_component
ModuleNotFoundError: No module named 'haffmpeg'
2026-12-01 07:06:18.001 WARNING (MainThread) [custom_components.voice_mqtt.stats] Dropped message
2026-12-01 07:06:35.024 ERROR (MainThread) [homeassistant.components.mqtt.client] Exception in _async_device_message when handling msg on 'devices/X/events'
Traceback (most recent call last):
  File "/repo/custom_components/voice_mqtt/hub.py", line 223, in _async_device_message
  File "/repo/custom_components/voice_mqtt/protocol/values.py", line 128, in parse_timestamp
    if not (math.isfinite(value) and 0 <= value <= _MAX_EPOCH_MS):
OverflowError: int too large to convert to float

2026-12-01 07:06:35.500 WARNING (Thread-1 (_monitor)) [homeassistant.util.logging] Module is logging too frequently
2026-12-01 07:06:36.000 ERROR (MainThread) [homeassistant.core] Error doing job
Traceback (most recent call last):
  File "/venv/homeassistant/core.py", line 10, in run
KeyError: 'x'
2026-12-01 07:06:37.000 ERROR (MainThread) [custom_components.voice_mqtt.services] ws_start failed
"""


def test_the_log_is_read_for_tracebacks_and_errors() -> None:
    since = LOG.index("2026-12-01 07:06:18")
    findings = scan_log(LOG, since)
    # The start-up one of another integration is not counted; ours and a
    # later one of Home Assistant's are.
    assert findings.startup_tracebacks_elsewhere == 1
    assert findings.tracebacks == 2
    assert findings.tracebacks_about_voice_mqtt == 1
    assert findings.errors_about_voice_mqtt == 2
    assert findings.warnings_from_voice_mqtt == 1
    assert findings.records_since == 5
    assert findings.kinds == {
        "OverflowError: int too large to convert to float"
        " at voice_mqtt/protocol/values.py:128 [homeassistant.components.mqtt.client]": 1,
        "KeyError: 'x' at /venv/homeassistant/core.py:10 [homeassistant.core]": 1,
    }


def test_a_voice_mqtt_traceback_at_start_up_counts() -> None:
    assert scan_log(LOG, len(LOG)).tracebacks == 1


def test_records_of_home_assistant_2026_11_carry_their_offset() -> None:
    # Read as no record at all before: a soak or a smoke saw a clean log.
    log = (
        "2026-12-01 09:58:37.785+00:00 ERROR (MainThread) [homeassistant.setup]"
        " Setup failed for 'ffmpeg'\nTraceback (most recent call last):\n"
        "ModuleNotFoundError: No module named 'haffmpeg'\n"
        "2026-12-01 09:58:38.001-05:30 WARNING (MainThread)"
        " [custom_components.voice_mqtt.stats] Dropped message\n"
    )
    assert [(r.level, r.logger) for r in log_records(log)] == [
        ("ERROR", "homeassistant.setup"),
        ("WARNING", "custom_components.voice_mqtt.stats"),
    ]
    assert scan_log(log).warnings_from_voice_mqtt == 1


# The registry and the diagnostics ---------------------------------------------


def test_the_entry_devices_are_counted_by_scope() -> None:
    registry = [
        {"config_entries": ["E"], "identifiers": [["voice_mqtt", "E"]]},
        {"config_entries": ["E"], "identifiers": [["voice_mqtt", "E_room_kitchen"]]},
        {"config_entries": ["E"], "identifiers": [["voice_mqtt", "E_device_VR_1"]]},
        {"config_entries": ["E"], "identifiers": [["voice_mqtt", "E_device_VR_2"]]},
        {"config_entries": ["F"], "identifiers": [["voice_mqtt", "F_device_VR_1"]]},
        {"config_entries": ["M"], "identifiers": [["mqtt", "x"]]},
    ]
    assert count_entry_devices(registry, "E") == (1, 2, 1)


def test_caps_are_found_anywhere_but_in_the_counters() -> None:
    data = {
        "messages": {"max_devices": 1},
        "options": {"heartbeat_timeout": 45},
        "limits": {"max_devices": 500, "max_rooms": 50},
    }
    assert find_cap(data, ("max_devices",)) == ("max_devices", 500)
    assert find_cap(data, ("max_rooms",)) == ("max_rooms", 50)
    assert find_cap({"options": {}}, ("max_rooms",)) is None


def test_counters_are_flattened() -> None:
    assert flatten({"cleared": 1, "refused": {"devices": 2}}) == {
        "cleared": 1,
        "refused.devices": 2,
    }


# The limits ---------------------------------------------------------------------


def _report(**figures: object) -> Report:
    plan = Plan(10, 2, 1)
    publisher = Publisher(1883, [], 1.0)  # never connected
    publisher.done = True
    publisher.acknowledged = plan.total
    publisher.published[Kind.WRONG_TYPES] = plan.total
    probe = ApiProbe(HomeAssistantApi("http://127.0.0.1:9"), pid=0)
    probe.probes, probe.slowest = 10, 0.2
    report = Report(
        plan=plan,
        limits=Limits(),
        simulator=(6, 3),
        publisher=publisher,
        probe=probe,
        drained=True,
        rss_before=200 * 2**20,
        rss_after=250 * 2**20,
        simulator_exit=0,
        hass_stop=(0, 3.0),
    )
    for name, value in figures.items():
        setattr(report, name, value)
    return report


def test_a_run_within_every_limit_passes() -> None:
    report = _report(diagnostics={"messages": {"received": {"device": 5}}})
    assert report.failures() == []
    lines = "\n".join(report.lines())
    assert "result: ok" in lines
    assert "messages received by voice_mqtt: 5 (device 5)" in lines


def test_each_broken_limit_is_named() -> None:
    report = _report(
        rss_after=400 * 2**20,
        diagnostics={"options": {"max_devices": 100, "max_rooms": 10}},
        devices=107,
        rooms=11,
        drained=False,
    )
    report.probe.slowest = 1.5  # type: ignore[union-attr]
    report.log.tracebacks = 3
    assert report.failures() == [
        "tracebacks",
        "RSS growth",
        "slowest /api/",
        "devices",
        "rooms",
        "drained",
    ]
    assert report.lines()[-1].startswith("result: FAIL: tracebacks, RSS growth")


def test_the_simulator_devices_come_on_top_of_the_device_cap() -> None:
    report = _report(diagnostics={"options": {"max_devices": 100}}, devices=106)
    assert report.failures() == []
