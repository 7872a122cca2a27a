"""Fixtures for the end-to-end tests: real sockets, on loopback only."""

from __future__ import annotations

from collections.abc import Generator

import pytest
import pytest_socket


@pytest.fixture(autouse=True)
def loopback_sockets() -> Generator[None]:
    """Let the test reach the broker on 127.0.0.1, and nothing else.

    Home Assistant's test plugin refuses every socket; a real broker needs one.
    """
    pytest_socket.enable_socket()
    pytest_socket.socket_allow_hosts(["127.0.0.1"], allow_unix_socket=True)
    yield
    pytest_socket.disable_socket(allow_unix_socket=True)
