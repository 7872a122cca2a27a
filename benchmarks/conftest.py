"""The benchmarks run on the tests' fixtures (mocked paho, real Home Assistant)."""

from collections.abc import Generator
import logging

from homeassistant.core import HomeAssistant
import pytest

from tests.conftest import *  # noqa: F403


@pytest.fixture(autouse=True)
def production_loop(hass: HomeAssistant) -> Generator[None]:
    """Measure the event loop as users run it: not in asyncio's debug mode.

    The test plugin turns debug mode on, which records a stack trace for
    every future and every task: that alone made an entry's unload 18 times
    slower than in production. It also logs at INFO, where Home Assistant
    logs at WARNING unless started with --verbose: one line per new entity,
    written to the terminal, is not what a user's set-up pays.
    """
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.WARNING)
    hass.loop.set_debug(False)
    yield
    hass.loop.set_debug(True)
    root.setLevel(level)
