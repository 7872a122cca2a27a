"""The benchmarks run on the tests' fixtures (mocked paho, real Home Assistant)."""

from tests.conftest import *  # noqa: F403
