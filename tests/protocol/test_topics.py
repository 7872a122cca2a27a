"""The topic scheme of a namespace: every version built and parsed, bad topics refused."""

from __future__ import annotations

from hypothesis import given, strategies as st
import pytest

from custom_components.voice_mqtt.protocol import (
    DeviceTopicType,
    IdentifierError,
    ProtocolError,
    Rejection,
    TopicScheme,
    VoiceType,
)

V1 = TopicScheme()
V0 = V1.legacy()

# Identifiers that can be one topic level.
ids = st.text(
    alphabet=st.characters(
        blacklist_characters="/+#", blacklist_categories=("Cc", "Cs")
    ),
    min_size=1,
    max_size=128,
)
schemes = st.builds(
    TopicScheme,
    version=st.one_of(st.just(""), ids),
    base=ids,
    device_prefix=ids,
)


# Topics --------------------------------------------------------------------------


def test_default_topics() -> None:
    assert V1.voice_filter == "v1/voice_assistant/room/+/session/+/#"
    assert V0.voice_filter == "voice_assistant/room/+/session/+/#"
    assert V1.room_filter("salon") == "v1/voice_assistant/room/salon/session/+/#"
    assert (
        V1.voice_topic("salon", "S1", VoiceType.STREAM_CHUNK)
        == "v1/voice_assistant/room/salon/session/S1/response/stream/chunk"
    )
    assert V0.voice_topic("salon", "S1", VoiceType.STATE) == (
        "voice_assistant/room/salon/session/S1/state"
    )
    assert V1.device_filter == "devices/+/+"
    assert V1.announce_topic == "devices/discovery/announce"
    assert V1.device_topic("VR_1", DeviceTopicType.LWT) == "devices/VR_1/lwt"
    assert V1.device_topic("x", DeviceTopicType.ANNOUNCE) == V1.announce_topic
    assert V1.device_command_topic("VR_1", "play") == "devices/VR_1/commands/play"
    assert V1.session_command_topic("S_1", "play") == "sessions/S_1/commands/play"
    assert V1.admin_snapshot_topic == "admin/devices/snapshot"
    assert V1.admin_request_topic == "admin/request/snapshot"
    assert V1.ws_start_topic("CC-BA-97-11-0E-84") == "xiaozhi/cc:ba:97:11:0e:84/down"
    assert V1.validate() is V1
    assert V0.is_legacy
    assert not V1.is_legacy


def test_topic_building_refuses_bad_ids() -> None:
    with pytest.raises(IdentifierError):
        V1.voice_topic("a/b", "S1", VoiceType.STATE)
    with pytest.raises(IdentifierError):
        V1.device_command_topic("VR_1", "#")
    with pytest.raises(IdentifierError):
        TopicScheme(device_prefix="a/+").validate()
    with pytest.raises(IdentifierError):
        TopicScheme(version="v/1").validate()


@given(schemes, ids, ids, st.sampled_from(list(VoiceType)))
def test_voice_topic_round_trip(
    scheme: TopicScheme, room: str, session: str, message_type: VoiceType
) -> None:
    topic = scheme.voice_topic(room, session, message_type)
    parsed = scheme.parse_voice_topic(topic)
    assert (parsed.room_id, parsed.session_id, parsed.message_type) == (
        room,
        session,
        message_type,
    )


@given(schemes, ids, st.sampled_from(list(DeviceTopicType)))
def test_device_topic_round_trip(
    scheme: TopicScheme, device: str, topic_type: DeviceTopicType
) -> None:
    parsed = scheme.parse_device_topic(scheme.device_topic(device, topic_type))
    assert parsed.topic_type is topic_type
    if topic_type is DeviceTopicType.ANNOUNCE:
        assert parsed.device_id == ""
    else:
        assert parsed.device_id == device


@pytest.mark.parametrize(
    ("topic", "reason"),
    [
        ("v2/voice_assistant/room/a/session/b/state", Rejection.INVALID_TOPIC),
        ("v1/voice_assistant/room/a/state", Rejection.INVALID_TOPIC),
        ("v1/voice_assistant/room/a/sessions/b/state", Rejection.INVALID_TOPIC),
        ("v1/voice_assistant/room/a/session/b/weather", Rejection.UNKNOWN_TYPE),
        ("v1/voice_assistant/room/a/session/b/response/stream", Rejection.UNKNOWN_TYPE),
        ("v1/voice_assistant/room//session/b/state", Rejection.INVALID_ID),
        ("v1/voice_assistant/room/a/session/b\0/state", Rejection.INVALID_ID),
    ],
)
def test_bad_voice_topics(topic: str, reason: Rejection) -> None:
    with pytest.raises(ProtocolError) as err:
        V1.parse_voice_topic(topic)
    assert err.value.reason is reason


def test_v0_topics_are_not_v1_topics() -> None:
    with pytest.raises(ProtocolError):
        V1.parse_voice_topic("voice_assistant/room/a/session/b/state")
    assert V0.parse_voice_topic("voice_assistant/room/a/session/b/state").room_id == "a"


@pytest.mark.parametrize(
    ("topic", "reason"),
    [
        ("other/VR_1/status", Rejection.INVALID_TOPIC),
        ("devices/VR_1/commands/play", Rejection.INVALID_TOPIC),
        ("devices/VR_1", Rejection.INVALID_TOPIC),
        ("devices/VR_1/battery", Rejection.UNKNOWN_TYPE),
        ("devices/VR\x01/status", Rejection.INVALID_ID),
        ("devices/" + "x" * 129 + "/status", Rejection.INVALID_ID),
    ],
)
def test_bad_device_topics(topic: str, reason: Rejection) -> None:
    with pytest.raises(ProtocolError) as err:
        V1.parse_device_topic(topic)
    assert err.value.reason is reason
