"""Values in topics and payloads: identifiers, MACs, timestamps, numbers.

Bad input is expected: whatever a publisher sends, these either return a value
Home Assistant can store or raise ValueError (or IdentifierError); never
anything else.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from homeassistant.helpers.json import json_bytes
from hypothesis import given, strategies as st
import pytest

from custom_components.voice_mqtt import protocol
from custom_components.voice_mqtt.protocol import (
    IdentifierError,
    normalize_mac,
    parse_timestamp,
    validate_identifier,
    validate_prefix,
)

# Identifiers -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("", "empty"),
        ("a" * 129, "too_long"),
        ("a/b", "forbidden_character"),
        ("a+b", "forbidden_character"),
        ("a#", "forbidden_character"),
        ("a\0b", "forbidden_character"),
        ("tab\there", "forbidden_character"),
        (42, "not_a_string"),
    ],
)
def test_invalid_identifiers(value: object, reason: str) -> None:
    with pytest.raises(IdentifierError) as err:
        validate_identifier(value)
    assert err.value.reason == reason


@pytest.mark.parametrize("value", ["salon", "S_123", "a" * 128, "café", "VR 1"])
def test_valid_identifiers(value: str) -> None:
    assert validate_identifier(value) == value


@pytest.mark.parametrize("value", ["home/devices", "devices", "a/b/c"])
def test_valid_prefixes(value: str) -> None:
    assert validate_prefix(value) == value


@pytest.mark.parametrize(
    "value", ["", "/devices", "devices/", "a//b", "$SYS", "a/+", 3]
)
def test_invalid_prefixes(value: object) -> None:
    with pytest.raises(IdentifierError):
        validate_prefix(value)


def test_empty_prefix_only_where_allowed() -> None:
    assert validate_prefix("", allow_empty=True) == ""


# MAC addresses -----------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "CC-BA-97-11-0E-84",
        "cc:ba:97:11:0e:84",
        "CC:BA:97:11:0E:84",
        "ccba97110e84",
        "ccba.9711.0e84",
        "  cc-ba-97-11-0e-84 ",
    ],
)
def test_mac_normalisation(value: str) -> None:
    assert normalize_mac(value) == "cc:ba:97:11:0e:84"


@pytest.mark.parametrize(
    "value",
    ["", "cc:ba:97:11:0e", "cc:ba-97:11:0e:84", "gg:ba:97:11:0e:84", "ccba97110e8"],
)
def test_malformed_macs(value: str) -> None:
    with pytest.raises(ValueError, match="not a MAC"):
        normalize_mac(value)


@given(st.binary(min_size=6, max_size=6), st.sampled_from([":", "-", ""]))
def test_mac_round_trip(raw: bytes, separator: str) -> None:
    text = separator.join(f"{byte:02X}" for byte in raw)
    normal = normalize_mac(text)
    assert normal == ":".join(f"{byte:02x}" for byte in raw)
    assert normalize_mac(normal) == normal


def test_timestamps() -> None:
    assert parse_timestamp(None) is None
    assert parse_timestamp(0) == datetime(1970, 1, 1, tzinfo=UTC)
    assert parse_timestamp("2025-01-02T03:04:05Z") == datetime(
        2025, 1, 2, 3, 4, 5, tzinfo=UTC
    )
    assert parse_timestamp("2025-01-02T05:04:05+02:00") == datetime(
        2025, 1, 2, 3, 4, 5, tzinfo=UTC
    )
    # Naive ISO strings are taken as UTC.
    assert parse_timestamp("2025-01-02T03:04:05") == datetime(
        2025, 1, 2, 3, 4, 5, tzinfo=UTC
    )
    with pytest.raises(ValueError, match="out of range"):
        parse_timestamp("9999-12-31T23:59:59-05:00")
    with pytest.raises(ValueError, match="out of range"):
        parse_timestamp(float("inf"))


@given(st.datetimes(timezones=st.just(UTC), min_value=datetime(1971, 1, 1)))  # noqa: DTZ001
def test_timestamp_forms_agree(moment: datetime) -> None:
    iso = parse_timestamp(moment.isoformat())
    epoch = parse_timestamp(protocol.epoch_ms(moment))
    assert iso == moment
    assert epoch is not None
    assert abs(epoch - moment) < timedelta(milliseconds=1)


# Hostile numbers -------------------------------------------------------------------

HUGE = 10**400  # a JSON integer: Python parses it, float() cannot hold it


def short(value: object) -> str:
    return repr(value)[:24]


@pytest.mark.parametrize(
    "value",
    [HUGE, -HUGE, 2**64, 2**1024, float("nan"), float("inf"), -float("inf"), 1e308],
    ids=short,
)
def test_timestamps_out_of_range_are_refused_not_crashed(value: float) -> None:
    with pytest.raises(ValueError, match="out of range"):
        parse_timestamp(value)


def test_zero_and_negative_zero_are_the_epoch() -> None:
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    assert parse_timestamp(-0.0) == parse_timestamp(0) == epoch
    assert parse_timestamp(5e-324) == epoch


@given(
    st.one_of(
        st.integers(),
        st.integers(min_value=2**60, max_value=10**400),
        st.integers(min_value=-(10**400), max_value=-(2**60)),
        st.floats(),
        st.text(max_size=40),
        st.booleans(),
        st.none(),
    )
)
def test_any_timestamp_is_a_datetime_or_a_value_error(value: object) -> None:
    try:
        parsed = parse_timestamp(value)
    except ValueError:
        return
    assert parsed is None or (isinstance(parsed, datetime) and parsed.tzinfo is UTC)


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0, 0), (-0.0, 0), (2.0, 2), (2**63 - 1, 2**63 - 1), (-(2**63), -(2**63))],
    ids=short,
)
def test_whole_numbers(value: float, expected: int) -> None:
    assert protocol.whole_number(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        2**63,
        -(2**63) - 1,
        HUGE,
        1.5,
        float("nan"),
        float("inf"),
        1e300,
        True,
        "1",
        None,
    ],
    ids=short,
)
def test_not_whole_numbers_of_64_bits(value: object) -> None:
    with pytest.raises(ValueError, match="must be"):
        protocol.whole_number(value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0.85, 0.85), (1, 1.0), (-0.0, -0.0), (1e308, 1e308), (2**63 - 1, 2.0**63)],
    ids=short,
)
def test_finite_numbers(value: float, expected: float) -> None:
    assert protocol.finite_number(value) == expected


@pytest.mark.parametrize(
    "value",
    [HUGE, 2**64, float("nan"), float("inf"), -float("inf"), False, "0.5"],
    ids=short,
)
def test_not_finite_numbers(value: object) -> None:
    with pytest.raises(ValueError, match="must be"):
        protocol.finite_number(value)


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        (0, 0),
        (-0.0, 0),
        (42, 42_000),
        (83.27164, 83_272),  # what the media control's slider sends
        (0.0004, 0),
        ((2**63 - 1) // 1000, (2**63 - 1) // 1000 * 1000),
    ],
    ids=short,
)
def test_seconds_become_whole_milliseconds(seconds: float, expected: int) -> None:
    assert protocol.milliseconds(seconds) == expected


@pytest.mark.parametrize(
    "seconds",
    [
        float("inf"),
        float("nan"),
        -1,
        -0.001,
        2**70,
        float(2**70),
        1e306,  # finite, but not once multiplied by 1000
        (2**63 - 1) // 1000 + 1,
        True,
        "12",
        None,
    ],
    ids=short,
)
def test_seconds_that_no_position_can_hold_are_refused(seconds: object) -> None:
    with pytest.raises(ValueError, match="must be"):
        protocol.milliseconds(seconds)


@pytest.mark.parametrize(
    "url",
    [
        "wss://voice.example/ws",
        "ws://192.168.1.10:8000/xiaozhi/v1/",
        "WSS://Voice.Example",
        "ws://[::1]:9001/mqtt",
    ],
)
def test_websocket_urls(url: str) -> None:
    assert protocol.is_websocket_url(url)


@pytest.mark.parametrize(
    "url",
    [
        "",
        "https://voice.example/ws",
        "voice.example/ws",
        "wss://",
        "wss:///ws",
        "wss://voice.example:99999/ws",
        "wss://voice example/ws",
        " wss://voice.example/ws",
        "wss://voice.example/\nws",
        "wss://voice.example/\tws",
        None,
        42,
    ],
    ids=short,
)
def test_not_websocket_urls(url: object) -> None:
    assert not protocol.is_websocket_url(url)


@given(
    st.one_of(
        st.integers(min_value=-(10**400), max_value=10**400),
        st.floats(),
        st.booleans(),
        st.text(max_size=5),
    )
)
def test_numbers_are_stored_by_home_assistant_or_refused(value: object) -> None:
    for convert in (
        protocol.whole_number,
        protocol.finite_number,
        protocol.milliseconds,
    ):
        try:
            number = convert(value)
        except ValueError:
            continue
        # What Home Assistant's encoder (orjson) takes, as a state attribute.
        assert json_bytes({"value": number})


# Data passed through to Home Assistant --------------------------------------------


def nested(depth: int) -> dict[str, object]:
    data: dict[str, object] = {"leaf": 1}
    for _ in range(depth - 1):
        data = {"a": data}
    return data


def test_storable_data_is_bounded() -> None:
    protocol.check_storable(nested(protocol.MAX_DATA_DEPTH))
    protocol.check_storable({"n": 2**63 - 1, "m": -(2**63), "f": 1e308, "l": []})
    protocol.check_storable({"text": "x" * (protocol.MAX_DATA_BYTES - 20)})


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (nested(protocol.MAX_DATA_DEPTH + 1), protocol.Rejection.TOO_DEEP),
        (nested(300), protocol.Rejection.TOO_DEEP),
        (
            {"a": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]},
            protocol.Rejection.TOO_DEEP,
        ),
        ({"n": 2**64}, protocol.Rejection.OUT_OF_RANGE),
        ({"n": [1, {"m": -(2**63) - 1}]}, protocol.Rejection.OUT_OF_RANGE),
        ({"n": 10**400}, protocol.Rejection.OUT_OF_RANGE),
        ({"f": float("inf")}, protocol.Rejection.OUT_OF_RANGE),
        ({"text": "x" * protocol.MAX_DATA_BYTES}, protocol.Rejection.TOO_LARGE),
    ],
    ids=short,
)
def test_unstorable_data_is_refused(data: object, reason: protocol.Rejection) -> None:
    with pytest.raises(protocol.ProtocolError) as err:
        protocol.check_storable(data)
    assert err.value.reason is reason


json_trees = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats()
    | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(st.text(max_size=4), children, max_size=3)
    ),
    max_leaves=40,
)


@given(st.one_of(json_trees, st.integers(1, 400).map(nested)))
def test_what_is_storable_is_stored_by_home_assistant(data: object) -> None:
    try:
        protocol.check_storable(data)
    except protocol.ProtocolError:
        return
    assert json_bytes({"data": data})
