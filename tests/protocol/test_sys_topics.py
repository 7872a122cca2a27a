"""The broker's own topics: a bridge's state, as mosquitto notifies it."""

from __future__ import annotations

import pytest

from custom_components.voice_mqtt.protocol import (
    ProtocolError,
    Rejection,
    parse_bridge_state,
)


@pytest.mark.parametrize(
    ("payload", "connected"), [(b"1", True), (b"0", False), ("1\n", True)]
)
def test_a_bridge_state(payload: bytes | str, connected: bool) -> None:
    assert parse_bridge_state("$SYS/broker/connection/ha-1/state", payload) == (
        "ha-1",
        connected,
    )


@pytest.mark.parametrize(
    ("topic", "payload", "reason"),
    [
        ("$SYS/broker/connection/ha-1/state", b"2", Rejection.INVALID_FIELD),
        ("$SYS/broker/connection/ha-1/state", b"\xff", Rejection.INVALID_FIELD),
        ("$SYS/broker/connection/ha-1/state", b"", Rejection.INVALID_FIELD),
        ("$SYS/broker/connection//state", b"1", Rejection.INVALID_ID),
        ("$SYS/broker/connection/a/b/state", b"1", Rejection.INVALID_ID),
        ("$SYS/broker/uptime", b"1", Rejection.INVALID_TOPIC),
    ],
)
def test_anything_else_is_refused(
    topic: str, payload: bytes, reason: Rejection
) -> None:
    with pytest.raises(ProtocolError) as err:
        parse_bridge_state(topic, payload)
    assert err.value.reason is reason
