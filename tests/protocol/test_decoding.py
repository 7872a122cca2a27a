"""Raw bytes to payload models: whatever arrives is parsed storably or refused."""

from __future__ import annotations

import contextlib
import dataclasses
from datetime import UTC, datetime, timedelta, timezone
import json

from homeassistant.helpers.json import json_bytes
from hypothesis import given, settings, strategies as st
import pytest

from custom_components.voice_mqtt import protocol
from custom_components.voice_mqtt.protocol import (
    MAX_PAYLOAD_BYTES,
    Announce,
    DeviceEvent,
    DeviceStatus,
    DeviceTopicType,
    DisplayAction,
    Heartbeat,
    LastWill,
    OverlayHint,
    ProtocolError,
    Rejection,
    Response,
    StateUpdate,
    StreamChunk,
    StreamComplete,
    StreamStart,
    ToolExecuted,
    TopicScheme,
    Transcript,
    TranscriptStage,
    VoiceType,
    decode_object,
    parse_device_message,
    parse_device_payload,
    parse_voice_message,
    parse_voice_payload,
)

V1 = TopicScheme()
V0 = V1.legacy()


@settings(max_examples=300)
@given(st.text(max_size=200), st.binary(max_size=300))
def test_garbage_never_raises_anything_but_protocol_errors(
    topic: str, payload: bytes
) -> None:
    for parse in (parse_voice_message, parse_device_message):
        for scheme in (V1, V0):
            with contextlib.suppress(ProtocolError):
                parse(scheme, topic, payload)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)
payload_objects = st.dictionaries(
    st.sampled_from(
        [
            "state",
            "text",
            "sequence",
            "confidence",
            "chunk",
            "type",
            "data",
            "tool_name",
            "success",
            "keep_open",
            "timestamp",
            "deviceId",
            "status",
            "positionMs",
            "durationMs",
            "sessionId",
            "name",
        ]
    ),
    json_values,
)


@settings(max_examples=300)
@given(
    payload_objects,
    st.sampled_from(list(VoiceType)),
    st.sampled_from(list(DeviceTopicType)),
)
def test_wrong_types_never_escape(
    data: dict[str, object], voice_type: VoiceType, device_type: DeviceTopicType
) -> None:
    raw = json.dumps(data)
    for parse in (
        lambda: parse_voice_payload(voice_type, raw),
        lambda: parse_device_payload(device_type, raw),
    ):
        with contextlib.suppress(ProtocolError):
            parse()


# Hostile numbers in every numeric field -----------------------------------------------

# Raw JSON number tokens: Python parses them all; some cannot become a float
# (1 followed by 400 zeros), some become infinity (1e400).
NUMBER_TOKENS = st.one_of(
    st.integers().map(str),
    st.integers(min_value=2**62, max_value=10**400).map(str),
    st.integers(min_value=-(10**400), max_value=-(2**62)).map(str),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.sampled_from(
        ["1e400", "-1e400", "-0", "-0.0", "1e308", "5e-324", "1" + "0" * 400]
    ),
)
NUMERIC_FIELDS = [
    (VoiceType.STATE, '"state": "idle"', "timestamp"),
    (VoiceType.TRANSCRIPT_INTERIM, '"text": "a"', "sequence"),
    (VoiceType.TRANSCRIPT_FINAL, '"text": "a"', "confidence"),
    (DeviceTopicType.STATUS, '"status": "idle"', "positionMs"),
    (DeviceTopicType.STATUS, '"status": "idle"', "durationMs"),
    (DeviceTopicType.HEARTBEAT, '"status": "idle"', "timestamp"),
    (DeviceTopicType.EVENTS, '"type": "button"', "timestamp"),
]


def parse_any(message_type: VoiceType | DeviceTopicType, raw: str) -> object:
    if isinstance(message_type, VoiceType):
        return parse_voice_payload(message_type, raw)
    return parse_device_payload(message_type, raw)


@pytest.mark.parametrize(("message_type", "other", "name"), NUMERIC_FIELDS)
def test_a_number_beyond_float_range_is_dropped_not_crashed(
    message_type: VoiceType | DeviceTopicType, other: str, name: str
) -> None:
    raw = f'{{{other}, "{name}": 1{"0" * 400}}}'
    with pytest.raises(ProtocolError) as err:
        parse_any(message_type, raw)
    assert err.value.reason is Rejection.OUT_OF_RANGE


@pytest.mark.parametrize(
    ("message_type", "fields"),
    [
        (VoiceType.STATE, {"state": "idle", "timestamp": -1}),
        (VoiceType.STATE, {"state": "idle", "timestamp": 1e20}),
        (VoiceType.STATE, {"state": "idle", "timestamp": "9999-12-31T23:59:59-05:00"}),
        (VoiceType.TRANSCRIPT_INTERIM, {"text": "a", "sequence": 2**63}),
        (VoiceType.TRANSCRIPT_FINAL, {"text": "a", "confidence": 2**64}),
    ],
)
def test_numbers_out_of_range_are_rejected(
    message_type: VoiceType, fields: dict[str, object]
) -> None:
    with pytest.raises(ProtocolError) as err:
        voice(message_type, **fields)
    assert err.value.reason is Rejection.OUT_OF_RANGE


@settings(max_examples=400)
@given(st.sampled_from(NUMERIC_FIELDS), NUMBER_TOKENS)
def test_any_number_in_any_field_is_parsed_storably_or_dropped(
    field: tuple[VoiceType | DeviceTopicType, str, str], token: str
) -> None:
    message_type, other, name = field
    try:
        payload = parse_any(message_type, f'{{{other}, "{name}": {token}}}')
    except ProtocolError:
        return
    # Whatever is parsed can be stored by Home Assistant's encoder.
    assert json_bytes(dataclasses.asdict(payload))  # type: ignore[call-overload]


# What is passed through must be storable -------------------------------------------

DEEP = "[" * 300 + "]" * 300  # json.loads takes it; orjson cannot store it


@pytest.mark.parametrize(
    ("message_type", "raw", "reason"),
    [
        (
            VoiceType.DISPLAY_ACTION,
            f'{{"type": "x", "data": {{"a": {DEEP}}}}}',
            Rejection.TOO_DEEP,
        ),
        (
            VoiceType.DISPLAY_ACTION,
            '{"type": "x", "data": {"n": 18446744073709551616}}',
            Rejection.OUT_OF_RANGE,
        ),
        (
            VoiceType.DISPLAY_ACTION,
            '{"type": "x", "data": {"n": 1e400}}',
            Rejection.OUT_OF_RANGE,
        ),
        (
            VoiceType.DISPLAY_ACTION,
            f'{{"type": "x", "data": {{"t": "{"x" * 9000}"}}}}',
            Rejection.TOO_LARGE,
        ),
        (
            VoiceType.DISPLAY_ACTION,
            f'{{"type": "{"x" * 256}"}}',
            Rejection.INVALID_FIELD,
        ),
        (
            VoiceType.TOOL_EXECUTED,
            f'{{"tool_name": "{"x" * 256}", "success": true}}',
            Rejection.INVALID_FIELD,
        ),
        (
            DeviceTopicType.EVENTS,
            f'{{"type": "button", "deep": {DEEP}}}',
            Rejection.TOO_DEEP,
        ),
        (
            DeviceTopicType.EVENTS,
            '{"type": "button", "n": -9223372036854775809}',
            Rejection.OUT_OF_RANGE,
        ),
        (DeviceTopicType.EVENTS, f'{{"blob": "{"x" * 9000}"}}', Rejection.TOO_LARGE),
        (
            DeviceTopicType.ANNOUNCE,
            f'{{"deviceId": "d", "name": "{"x" * 256}"}}',
            Rejection.INVALID_FIELD,
        ),
        (
            DeviceTopicType.STATUS,
            f'{{"status": "idle", "type": "{"x" * 256}"}}',
            Rejection.INVALID_FIELD,
        ),
    ],
    ids=lambda value: str(value)[:30],
)
def test_data_home_assistant_cannot_store_is_dropped(
    message_type: VoiceType | DeviceTopicType, raw: str, reason: Rejection
) -> None:
    with pytest.raises(ProtocolError) as err:
        parse_any(message_type, raw)
    assert err.value.reason is reason


def test_names_and_data_at_their_limits_are_kept() -> None:
    name = "x" * 255
    assert voice(VoiceType.TOOL_EXECUTED, tool_name=name, success=True) == (
        ToolExecuted(name, True)
    )
    data = {"t": "x" * 8000}
    assert voice(VoiceType.DISPLAY_ACTION, type=name, data=data) == DisplayAction(
        name, data
    )


# Payloads ---------------------------------------------------------------------------


def voice(message_type: VoiceType, **fields: object) -> object:
    return parse_voice_payload(message_type, json.dumps(fields).encode())


def test_voice_payloads() -> None:
    at = datetime(2023, 11, 29, 5, 9, 27, 890000, tzinfo=UTC)
    ms = 1701234567890
    assert voice(VoiceType.STATE, state="listening", timestamp=ms) == StateUpdate(
        "listening", at
    )
    assert voice(VoiceType.TRANSCRIPT, text="turn on lights") == Transcript(
        "turn on lights", TranscriptStage.FINAL
    )
    assert voice(
        VoiceType.TRANSCRIPT_INTERIM, text="turn on", sequence=1
    ) == Transcript("turn on", TranscriptStage.INTERIM, sequence=1)
    assert voice(VoiceType.TRANSCRIPT_FINAL, text="x", confidence=0.85) == Transcript(
        "x", TranscriptStage.FINAL, confidence=0.85
    )
    refined = voice(VoiceType.TRANSCRIPT_REFINED, text="X")
    assert refined == Transcript("X", TranscriptStage.REFINED)
    assert voice(VoiceType.RESPONSE, text="ok") == Response("ok")
    assert voice(VoiceType.STREAM_START, timestamp=ms) == StreamStart(at)
    assert voice(VoiceType.STREAM_CHUNK, chunk=" lights") == StreamChunk(" lights")
    assert voice(VoiceType.STREAM_COMPLETE) == StreamComplete()
    assert voice(
        VoiceType.DISPLAY_ACTION, type="light_control", data={"room": "salon"}
    ) == DisplayAction("light_control", {"room": "salon"})
    assert voice(VoiceType.DISPLAY_ACTION, type="clock") == DisplayAction("clock", {})
    assert voice(
        VoiceType.TOOL_EXECUTED, tool_name="control_light", success=False
    ) == ToolExecuted("control_light", False)
    assert voice(VoiceType.OVERLAY_HINT, keep_open=True) == OverlayHint(True)


def test_unknown_fields_are_ignored_and_floats_that_are_whole_are_ints() -> None:
    assert voice(
        VoiceType.TRANSCRIPT_INTERIM, text="a", sequence=2.0, extra={"x": 1}
    ) == Transcript("a", TranscriptStage.INTERIM, sequence=2)


@pytest.mark.parametrize(
    ("message_type", "fields"),
    [
        (VoiceType.STATE, {}),
        (VoiceType.STATE, {"state": ""}),
        (VoiceType.STATE, {"state": 3}),
        (VoiceType.TRANSCRIPT_FINAL, {"text": None}),
        (VoiceType.TRANSCRIPT_FINAL, {"text": "a", "confidence": "high"}),
        (VoiceType.TRANSCRIPT_FINAL, {"text": "a", "confidence": True}),
        (VoiceType.TRANSCRIPT_INTERIM, {"text": "a", "sequence": 1.5}),
        (VoiceType.TRANSCRIPT_INTERIM, {"text": "a", "sequence": "1"}),
        (VoiceType.STREAM_CHUNK, {"chunk": 5}),
        (VoiceType.DISPLAY_ACTION, {"type": "x", "data": [1]}),
        (VoiceType.DISPLAY_ACTION, {"data": {}}),
        (VoiceType.TOOL_EXECUTED, {"tool_name": "x", "success": "yes"}),
        (VoiceType.OVERLAY_HINT, {"keep_open": 1}),
        (VoiceType.STATE, {"state": "idle", "timestamp": "yesterday"}),
        (VoiceType.STATE, {"state": "idle", "timestamp": True}),
        (VoiceType.STATE, {"state": "idle", "timestamp": [1]}),
    ],
)
def test_wrong_fields_are_rejected(
    message_type: VoiceType, fields: dict[str, object]
) -> None:
    with pytest.raises(ProtocolError) as err:
        voice(message_type, **fields)
    assert err.value.reason is Rejection.INVALID_FIELD


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"{", Rejection.INVALID_JSON),
        (b"\xff\xfe", Rejection.NOT_UTF8),
        (b"[1, 2]", Rejection.NOT_AN_OBJECT),
        (b'"text"', Rejection.NOT_AN_OBJECT),
        (b'{"confidence": NaN}', Rejection.INVALID_JSON),
        (b'{"a": Infinity}', Rejection.INVALID_JSON),
        (b"[" * 100_000, Rejection.OVERSIZE),
        (b"[" * 60_000, Rejection.INVALID_JSON),  # too deep: RecursionError
        (b'{"a": ' + b"9" * 5000 + b"}", Rejection.INVALID_JSON),
        # A lone surrogate: valid JSON, but no UTF-8 (nor Home Assistant) holds it.
        (b'{"state": "\\ud800"}', Rejection.NOT_UTF8),
        (b'{"data": {"\\udfff": 1}}', Rejection.NOT_UTF8),
        ('{"state": "\ud800"}', Rejection.NOT_UTF8),
        (b" " * (MAX_PAYLOAD_BYTES + 1), Rejection.OVERSIZE),
        ("é" * (MAX_PAYLOAD_BYTES // 2 + 1), Rejection.OVERSIZE),
    ],
)
def test_undecodable_payloads(raw: bytes | str, reason: Rejection) -> None:
    with pytest.raises(ProtocolError) as err:
        decode_object(raw)
    assert err.value.reason is reason


def test_escaped_characters_that_utf8_holds_are_kept() -> None:
    raw = b'{"state": "caf\\u00e9 \\ud83d\\ude00"}'
    assert parse_voice_payload(VoiceType.STATE, raw) == StateUpdate("café 😀")


@pytest.mark.parametrize("raw", [b"", b"  ", "", bytearray()])
def test_empty_payload_clears(raw: bytes | str) -> None:
    assert decode_object(raw) is None
    assert parse_voice_payload(VoiceType.STATE, raw) is None
    assert parse_device_payload(DeviceTopicType.LWT, raw) is None


def test_device_payloads() -> None:
    assert parse_device_payload(
        DeviceTopicType.ANNOUNCE,
        b'{"deviceId": "VR_1", "type": "vr", "name": "My VR", "timestamp": "2025-01-01T00:00:00Z"}',
    ) == Announce("VR_1", "vr", "My VR", datetime(2025, 1, 1, tzinfo=UTC))
    assert parse_device_payload(
        DeviceTopicType.STATUS,
        b'{"deviceId": "VR_1", "type": "vr", "status": "idle", "positionMs": 0, "sessionId": ""}',
    ) == DeviceStatus("idle", "VR_1", "vr", 0, None)
    assert parse_device_payload(
        DeviceTopicType.STATUS, b'{"status": "playing", "sessionId": "S_1"}'
    ) == DeviceStatus("playing", session_id="S_1")
    assert parse_device_payload(
        DeviceTopicType.STATUS,
        b'{"status": "paused", "positionMs": 1500, "durationMs": 5400000.0}',
    ) == DeviceStatus("paused", position_ms=1500, duration_ms=5_400_000)
    assert parse_device_payload(DeviceTopicType.HEARTBEAT, b"{}") == Heartbeat()
    assert parse_device_payload(
        DeviceTopicType.EVENTS, b'{"type": "button", "id": 2}'
    ) == DeviceEvent({"type": "button", "id": 2})
    assert parse_device_payload(
        DeviceTopicType.LWT, b'{"deviceId": "VR_1", "status": "offline"}'
    ) == LastWill(False, "VR_1")
    assert parse_device_payload(DeviceTopicType.LWT, b"{}") == LastWill(False)
    assert parse_device_payload(
        DeviceTopicType.LWT, b'{"status": "online"}'
    ) == LastWill(True)


@pytest.mark.parametrize(
    ("topic_type", "raw", "reason"),
    [
        (DeviceTopicType.ANNOUNCE, b'{"type": "vr"}', Rejection.INVALID_FIELD),
        (DeviceTopicType.ANNOUNCE, b'{"deviceId": "a/b"}', Rejection.INVALID_ID),
        (DeviceTopicType.ANNOUNCE, b'{"deviceId": 7}', Rejection.INVALID_FIELD),
        (
            DeviceTopicType.STATUS,
            b'{"status": "idle", "positionMs": -1}',
            Rejection.INVALID_FIELD,
        ),
        (
            DeviceTopicType.STATUS,
            b'{"status": "idle", "durationMs": -1}',
            Rejection.INVALID_FIELD,
        ),
        (
            DeviceTopicType.STATUS,
            b'{"status": "idle", "durationMs": 1.5}',
            Rejection.INVALID_FIELD,
        ),
        (
            DeviceTopicType.STATUS,
            b'{"status": "idle", "durationMs": 9223372036854775808}',
            Rejection.OUT_OF_RANGE,
        ),
        (
            DeviceTopicType.STATUS,
            b'{"status": "idle", "durationMs": "600000"}',
            Rejection.INVALID_FIELD,
        ),
        (
            DeviceTopicType.STATUS,
            b'{"status": "idle", "sessionId": "#"}',
            Rejection.INVALID_ID,
        ),
        (DeviceTopicType.STATUS, b"{}", Rejection.INVALID_FIELD),
        (DeviceTopicType.HEARTBEAT, b'{"status": 1}', Rejection.INVALID_FIELD),
    ],
)
def test_bad_device_payloads(
    topic_type: DeviceTopicType, raw: bytes, reason: Rejection
) -> None:
    with pytest.raises(ProtocolError) as err:
        parse_device_payload(topic_type, raw)
    assert err.value.reason is reason


def test_device_messages_take_the_topic_id() -> None:
    message = parse_device_message(
        V1, "devices/VR_1/status", b'{"deviceId": "VR_2", "status": "idle"}'
    )
    assert message is not None
    assert (message.device_id, message.id_mismatch) == ("VR_1", True)
    message = parse_device_message(V1, "devices/VR_1/heartbeat", b"{}")
    assert message is not None
    assert (message.device_id, message.id_mismatch) == ("VR_1", False)
    message = parse_device_message(
        V1, "devices/discovery/announce", b'{"deviceId": "VR_3"}'
    )
    assert message is not None
    assert (message.device_id, message.topic_type) == ("VR_3", DeviceTopicType.ANNOUNCE)
    assert parse_device_message(V1, "devices/VR_1/lwt", b"") is None


def test_voice_messages() -> None:
    message = parse_voice_message(
        V0, "voice_assistant/room/salon/session/S1/state", '{"state": "idle"}'
    )
    assert message is not None
    assert (message.room_id, message.session_id, message.payload) == (
        "salon",
        "S1",
        StateUpdate("idle"),
    )
    assert (
        parse_voice_message(V1, "v1/voice_assistant/room/a/session/b/state", b"")
        is None
    )


def test_outbound_payloads() -> None:
    moment = datetime(2025, 1, 1, tzinfo=timezone(timedelta(hours=1)))
    assert protocol.ws_start_payload("wss://voice.example/ws", 3) == {
        "type": "ws_start",
        "wss": "wss://voice.example/ws",
        "version": 3,
    }
    assert protocol.display_action_payload("clock", {"a": 1}, moment) == {
        "type": "clock",
        "data": {"a": 1},
        "timestamp": 1735686000000,
    }
    assert protocol.encode({"a": "é", "b": [1]}) == '{"a":"é","b":[1]}'
