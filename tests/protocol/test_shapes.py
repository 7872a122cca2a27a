"""A heartbeat's shape: what fits is what the decoder would accept, nothing more."""

from __future__ import annotations

import dataclasses
import json

from hypothesis import given, settings, strategies as st
import pytest

from custom_components.voice_mqtt.protocol import (
    DeviceTopicType,
    Heartbeat,
    HeartbeatShape,
    ProtocolError,
    parse_device_payload,
)

ISO = "2025-06-01T12:00:00.000Z"


def parsed(raw: bytes) -> Heartbeat | None:
    """What the whole way makes of raw: a heartbeat, or None when dropped."""
    try:
        payload = parse_device_payload(DeviceTopicType.HEARTBEAT, raw)
    except ProtocolError:
        return None
    assert payload is None or isinstance(payload, Heartbeat)
    return payload


def but_the_time(heartbeat: Heartbeat | None) -> Heartbeat | None:
    return None if heartbeat is None else dataclasses.replace(heartbeat, timestamp=None)


@pytest.mark.parametrize(
    ("learned", "fresh"),
    [
        (
            b'{"status":"idle","timestamp":"2025-06-01T12:00:00Z"}',
            b'{"status":"idle","timestamp":"2025-06-01T12:00:15Z"}',
        ),
        (
            (
                b'{"deviceId": "VR_1", "type": "vr", "status": "idle",'
                b' "timestamp": "2025-06-01T12:00:00.000+02:00"}'
            ),
            (
                b'{"deviceId": "VR_1", "type": "vr", "status": "idle",'
                b' "timestamp": "2025-06-01T12:00:15.123+02:00"}'
            ),
        ),
        (
            b'{"timestamp":"2025-06-01T12:00:00Z","deviceId":"VR_1"}',
            b'{"timestamp":"2025-06-01 12:00:15","deviceId":"VR_1"}',
        ),
        (
            b'{"timestamp": 1701234567890, "status": "idle"}',
            b'{"timestamp": 1701234582890, "status": "idle"}',
        ),
        (b'{"status":"idle","timestamp":0}', b'{"status":"idle","timestamp":15000}'),
    ],
)
def test_a_heartbeat_with_a_new_timestamp_fits(learned: bytes, fresh: bytes) -> None:
    shape = HeartbeatShape.learn(learned)
    assert shape.head is not None
    assert shape.fits(learned)
    assert shape.fits(fresh)
    assert but_the_time(parsed(fresh)) == but_the_time(parsed(learned))


@pytest.mark.parametrize(
    ("learned", "other"),
    [
        # Another field changed: the whole way.
        (
            b'{"status":"idle","timestamp":"2025-06-01T12:00:00Z"}',
            b'{"status":"busy","timestamp":"2025-06-01T12:00:15Z"}',
        ),
        # Timestamps the decoder refuses, or that are not timestamps at all.
        (
            b'{"status":"idle","timestamp":"2025-06-01T12:00:00Z"}',
            b'{"status":"idle","timestamp":"2025-13-01T12:00:00Z"}',
        ),
        (
            b'{"status":"idle","timestamp":"2025-06-01T12:00:00Z"}',
            b'{"status":"idle","timestamp":"0001-01-01T00:00:00+01:00"}',
        ),
        (
            b'{"status":"idle","timestamp":"2025-06-01T12:00:00Z"}',
            b'{"status":"idle","timestamp":"soon"}',
        ),
        (
            b'{"status":"idle","timestamp":"2025-06-01T12:00:00Z"}',
            b'{"status":"idle","timestamp":""}',
        ),
        # A quote, a backslash or a control character in the slot would change
        # the JSON around it, though fromisoformat takes any separator.
        (
            b'{"status":"idle","timestamp":"2025-06-01T12:00:00Z"}',
            b'{"status":"idle","timestamp":"2025-06-01"12:00:00"}',
        ),
        (
            b'{"status":"idle","timestamp":"2025-06-01T12:00:00Z"}',
            b'{"status":"idle","timestamp":"2025-06-01\\12:00:00"}',
        ),
        (
            b'{"status":"idle","timestamp":"2025-06-01T12:00:00Z"}',
            b'{"status":"idle","timestamp":"2025-06-01\x0112:00:00"}',
        ),
        (
            b'{"status":"idle","timestamp":"2025-06-01T12:00:00Z"}',
            '{"status":"idle","timestamp":"2025-06-01\u00e912:00:00"}'.encode(),
        ),
        (
            b'{"status":"idle","timestamp":"2025-06-01T12:00:00Z"}',
            b'{"status":"idle","timestamp":"2025-06-01","status":"x"}',
        ),
        (
            b'{"status":"idle","timestamp":"2025-06-01T12:00:00Z"}',
            b'{"status":"idle","timestamp":"2025-06-01T12:00:00\\u005a"}',
        ),
        # Epoch milliseconds out of range, with a sign, a fraction or a leading 0.
        (b'{"timestamp":1701234567890}', b'{"timestamp":253402300800000}'),
        (b'{"timestamp":1701234567890}', b'{"timestamp":01701234567890}'),
        (b'{"timestamp":1701234567890}', b'{"timestamp":1701234567890.5}'),
        (b'{"timestamp":1701234567890}', b'{"timestamp":1e12}'),
        (b'{"timestamp":1701234567890}', b'{"timestamp":"1701234567890"}'),
        # A payload cut short, or grown past the size limit.
        (b'{"timestamp":"2025-06-01T12:00:00Z"}', b'{"timestamp":"'),
        (
            b'{"timestamp":"2025-06-01T12:00:00Z","pad":"' + b"x" * 65_500 + b'"}',
            b'{"timestamp":"2025-06-01T12:00:00.123456+00:00","pad":"'
            + b"x" * 65_500
            + b'"}',
        ),
    ],
)
def test_anything_else_goes_the_whole_way(learned: bytes, other: bytes) -> None:
    shape = HeartbeatShape.learn(learned)
    assert not shape.fits(other)


@pytest.mark.parametrize(
    "learned",
    [
        b'{"status":"idle"}',  # no timestamp
        b'{"timestamp":null}',
        b'{"timestamp":1701234567890.0}',  # a float: no digits-only slot
        b'{"timestamp":"2025-06-01T12:00:00Z\\n"}',  # an escape in the value
        b"not json",
    ],
)
def test_without_a_plain_timestamp_only_the_same_bytes_fit(learned: bytes) -> None:
    shape = HeartbeatShape.learn(learned)
    assert shape.head is None
    assert shape.fits(learned)
    assert not shape.fits(learned + b" ")


def test_the_slot_is_the_timestamp_the_decoder_takes() -> None:
    """Duplicate keys and look-alike values: the slot is proved, not guessed."""
    twice = b'{"timestamp":"2025-06-01T12:00:00Z","timestamp":"2025-06-01T12:00:00Z"}'
    shape = HeartbeatShape.learn(twice)
    assert shape.head == b'{"timestamp":"2025-06-01T12:00:00Z","timestamp":"'
    nested = (
        b'{"extra":{"timestamp":"2025-06-01T12:00:00Z"},'
        b'"timestamp":"2025-06-01T12:00:00Z"}'
    )
    shape = HeartbeatShape.learn(nested)
    outer, inner = b'00Z"}', b'00Z"},'
    assert shape.fits(nested.removesuffix(outer) + b'15Z"}')
    assert not shape.fits(nested.replace(inner, b'15Z"},', 1))
    as_a_name = b'{"status":"2025","timestamp":"2025"}'
    assert HeartbeatShape.learn(as_a_name).head == b'{"status":"2025","timestamp":"'
    signed = b'{"timestamp":-0}'
    assert HeartbeatShape.learn(signed).head is None
    # ": " is also what stands between a key and its value: probed there, the
    # JSON breaks, and the slot is looked for further on.
    between = b'{"a": "b", "timestamp": ": "}'
    assert HeartbeatShape.learn(between).head == b'{"a": "b", "timestamp": "'


# Heartbeats as devices write them: fields in any order, any spacing, extra
# fields, and a timestamp as ISO 8601 text or epoch milliseconds.
_times = st.one_of(
    st.datetimes().map(lambda moment: moment.isoformat()),
    st.datetimes().map(lambda moment: moment.isoformat() + "Z"),
    st.integers(min_value=0, max_value=253_402_300_799_999),
)
_heartbeats = st.fixed_dictionaries(
    {"timestamp": _times},
    optional={
        "deviceId": st.sampled_from(["VR_1", "box"]),
        "type": st.sampled_from(["vr", "voice_box"]),
        "status": st.sampled_from(["idle", "2025", "timestamp"]),
        "extra": st.dictionaries(st.sampled_from(["timestamp", "a"]), _times),
    },
)
_spacing = st.sampled_from([(",", ":"), (", ", ": "), (",", " : ")])
# What a publisher may put where the timestamp was: anything at all.
_slots = st.one_of(
    _times.map(lambda value: json.dumps(value).strip('"').encode()),
    st.binary(max_size=45),
    st.text(max_size=45).map(str.encode),
    st.from_regex(rb"[0-9A-Za-z:.+ -]{0,41}", fullmatch=True),
)


@settings(max_examples=500)
@given(
    _heartbeats,
    _spacing,
    _slots,
    st.none() | st.tuples(st.integers(), st.binary(max_size=2)),
)
def test_what_fits_is_what_the_decoder_accepts(
    heartbeat: dict[str, object],
    spacing: tuple[str, str],
    slot: bytes,
    change: tuple[int, bytes] | None,
) -> None:
    learned = json.dumps(heartbeat, separators=spacing).encode()
    shape = HeartbeatShape.learn(learned)
    assert shape.fits(learned)
    if shape.head is None or shape.tail is None:
        return
    candidate = shape.head + slot + shape.tail
    if change is not None:  # and a byte anywhere else, the slot's quotes too
        position, new = change
        position %= len(candidate)
        candidate = candidate[:position] + new + candidate[position + 1 :]
    if shape.fits(candidate):
        assert parsed(candidate) is not None
        assert but_the_time(parsed(candidate)) == but_the_time(parsed(learned))


@settings(max_examples=300)
@given(st.binary(max_size=200), st.binary(max_size=200))
def test_no_bytes_fit_that_the_decoder_refuses(learned: bytes, other: bytes) -> None:
    shape = HeartbeatShape.learn(learned)
    if shape.fits(other) and parsed(learned) is not None:
        assert but_the_time(parsed(other)) == but_the_time(parsed(learned))
