"""The integration's protocol package, loaded on its own, and small wire helpers.

The protocol package is pure Python, but importing it as
`custom_components.voice_mqtt.protocol` would first run the integration's
`__init__`, which imports Home Assistant. Loading the package by path gives the
simulator the very same topic scheme and payload rules without that weight.
"""

from __future__ import annotations

from datetime import UTC, datetime
import importlib.util
from pathlib import Path
import sys
from types import ModuleType
from typing import TYPE_CHECKING

__all__ = ["command_filter", "iso_now", "ms_now", "protocol"]

MODULE_NAME = "voice_mqtt_protocol"
PROTOCOL_PATH = (
    Path(__file__).resolve().parents[1] / "custom_components/voice_mqtt/protocol"
)


def _load_protocol() -> ModuleType:
    if (loaded := sys.modules.get(MODULE_NAME)) is not None:
        return loaded
    # A package: its modules import each other relatively, as MODULE_NAME.*.
    spec = importlib.util.spec_from_file_location(
        MODULE_NAME,
        PROTOCOL_PATH / "__init__.py",
        submodule_search_locations=[str(PROTOCOL_PATH)],
    )
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {PROTOCOL_PATH}")
    module = importlib.util.module_from_spec(spec)
    # dataclasses look their module up in sys.modules while the class is made.
    sys.modules[MODULE_NAME] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        for name in [n for n in sys.modules if n.partition(".")[0] == MODULE_NAME]:
            del sys.modules[name]
        raise
    return module


if TYPE_CHECKING:
    # Type checkers may follow the package import; at run time it never happens.
    from custom_components.voice_mqtt import protocol
else:
    protocol = _load_protocol()


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
