"""A simulated voice fleet and voice backend on a real MQTT broker.

Run it with `python -m simulator` (see simulator/cli.py), or drive it from
Python, as the end-to-end tests do, through Simulator and SimulatorOptions.
"""

from .options import OptionError, SimulatorOptions
from .runtime import BrokerAddress, Kind, Received
from .script import DeviceSpec, DeviceState
from .simulation import Simulator

__all__ = [
    "BrokerAddress",
    "DeviceSpec",
    "DeviceState",
    "Kind",
    "OptionError",
    "Received",
    "Simulator",
    "SimulatorOptions",
]
