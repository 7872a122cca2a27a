"""The integration's pure packages, loaded on their own, and small wire helpers.

The protocol (and the models) are pure Python, but importing them as
`custom_components.voice_mqtt.protocol` would first run the integration's
`__init__`, which imports Home Assistant. Here the integration's folder is
given a stand-in parent package of another name, whose `__init__` never runs:
its pure packages load from it, relative imports and all, and the simulator
gets the very same topic scheme and payload rules without that weight.
"""

from __future__ import annotations

from datetime import UTC, datetime
import importlib
from pathlib import Path
import sys
from types import ModuleType
from typing import TYPE_CHECKING

__all__ = ["command_filter", "iso_now", "ms_now", "protocol"]

PARENT = "voice_mqtt_pure"
INTEGRATION_PATH = Path(__file__).resolve().parents[1] / "custom_components/voice_mqtt"


def load_pure(package: str) -> ModuleType:
    """Return one of the integration's pure packages, loaded without Home Assistant."""
    if PARENT not in sys.modules:
        parent = ModuleType(PARENT, "voice_mqtt's folder, without its __init__")
        parent.__path__ = [str(INTEGRATION_PATH)]
        sys.modules[PARENT] = parent
    return importlib.import_module(f"{PARENT}.{package}")


if TYPE_CHECKING:
    # Type checkers may follow the package import; at run time it never happens.
    from custom_components.voice_mqtt import protocol
else:
    protocol = load_pure("protocol")


def iso_now() -> str:
    """Return the current UTC time in ISO 8601, the devices' timestamp form."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def ms_now() -> int:
    """Return the current time in epoch milliseconds, the backend's form."""
    return protocol.epoch_ms(datetime.now(UTC))


def command_filter(command_topic: str) -> str:
    """Return the filter for every command sent where command_topic points.

    The protocol builds command topics, not filters for them (`#` is no id), so
    the filter is derived from a built topic to follow the configured scheme:
    `devices/VB_0001/commands/any` becomes `devices/VB_0001/commands/#`.
    """
    return f"{command_topic.rpartition('/')[0]}/#"
