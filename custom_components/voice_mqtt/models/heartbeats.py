"""Repeated heartbeats, taken without a parse: the cheap path of the hub.

Pure Python (no Home Assistant imports). Devices send the same heartbeat
every 15 s, with or without a clock; one whose bytes have the shape of the
last one (protocol/shapes.py) only moves its device's deadline.
"""

from __future__ import annotations

from typing import Final

from ..protocol import HeartbeatShape
from .device import Device
from .presence import Presence


def still_here(device: Device, now: float) -> bool:
    """Take a heartbeat identical to the last one: only the clock moves.

    Return False when more than that is to be done (the device is not known
    online), so the heartbeat goes the whole way instead.
    """
    presence = device.presence
    if presence.presence is not Presence.ONLINE or presence.suspended:
        return False
    presence.deadline = now + presence.timeout
    device.heard = now
    return True


class _Heard(HeartbeatShape):
    """One topic's last heartbeat: its shape, and whose it is."""

    __slots__ = ("device", "device_type", "fitted", "misses")

    device: Device
    device_type: str | None  # the type it says; None: it says none
    fitted: bool  # a later heartbeat had its shape
    misses: int


# A device whose heartbeats change more than their timestamps (an uptime, a
# signal level) would have its shape learned for nothing every time.
_LEARN_EVERY: Final = 16


class QuietHeartbeats:
    """Knows each device's last heartbeat, to take the next one cheaply.

    A heartbeat can only say "still here" when it has the shape of the last
    one (the same bytes, or the same but for a valid timestamp, see
    protocol/shapes.py) and its device is online: then only the device's
    clock moves and nothing is parsed. At most one heartbeat is kept per known
    device.
    """

    def __init__(self) -> None:
        """Know no heartbeat yet."""
        self._last: dict[str, _Heard] = {}

    def take(
        self,
        topic: str,
        payload: bytes | bytearray | str,
        now: float,
        retained: bool = False,
    ) -> bool:
        """Apply a heartbeat of the known shape; False when it must go the whole way.

        A replayed (retained) heartbeat goes the whole way: its timestamp counts.
        """
        if retained or (heard := self._last.get(topic)) is None:
            return False
        if not heard.fits(payload):
            return False
        device = heard.device
        if heard.device_type is not None and heard.device_type != device.device_type:
            return False  # it would set the type it says again
        if not still_here(device, now):
            return False
        heard.fitted = True
        return True

    def remember(
        self,
        topic: str,
        payload: bytes | bytearray | str,
        device: Device,
        device_type: str | None = None,
    ) -> None:
        """Keep a heartbeat that was parsed and applied, and the type it said."""
        if not isinstance(payload, bytes):
            return
        heard = self._last.get(topic)
        if heard is not None and heard.device is device:
            if heard.fits(payload):
                return  # the device was not online: the same shape, and type
            heard.misses += 1
            if not heard.fitted and heard.misses % _LEARN_EVERY:
                return
        heard = _Heard.learn(payload)
        heard.device, heard.device_type = device, device_type
        heard.fitted, heard.misses = False, 0
        self._last[topic] = heard

    def forget(self, device: Device) -> None:
        """Drop a removed device's heartbeat."""
        self._last = {
            topic: heard
            for topic, heard in self._last.items()
            if heard.device is not device
        }
