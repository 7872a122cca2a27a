"""What a config entry's data and options ask of the hub."""

from __future__ import annotations

import pytest

from custom_components.voice_mqtt.models.settings import Settings


@pytest.mark.parametrize(
    ("stored", "read"),
    [
        ({}, None),
        ({"ws_url": "wss://voice.example/ws"}, "wss://voice.example/ws"),
        # The options flow stores only a valid URL; an entry edited by hand
        # may hold anything, which is no URL rather than a broken button.
        ({"ws_url": "https://voice.example/ws"}, None),
        ({"ws_url": ""}, None),
        ({"ws_url": 42}, None),
    ],
)
def test_the_voice_server_url(stored: dict[str, object], read: str | None) -> None:
    assert Settings.from_entry({}, stored).ws_url == read
