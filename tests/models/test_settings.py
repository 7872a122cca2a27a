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


@pytest.mark.parametrize(
    ("stored", "read"), [(None, 1000), (1, 1), (1100, 1100), (1500, 1100)]
)
def test_most_devices_is_never_beyond_the_largest_cap(
    stored: int | None, read: int
) -> None:
    # An entry set when the cap was 1,500 would pass Home Assistant's 10,000
    # entities per entry now that a device has up to 7.
    options = {} if stored is None else {"max_devices": stored}
    assert Settings.from_entry({}, options).max_devices == read
