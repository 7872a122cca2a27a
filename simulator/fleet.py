"""The simulated fleet: every device, and the random drops and events among them."""

from __future__ import annotations

from collections.abc import Callable
from random import Random

from .device import Device
from .options import SimulatorOptions
from .runtime import Console, Inbox, Timers
from .script import event_payload, plan_fleet
from .wire import iso_now

__all__ = ["Device", "Fleet"]


class Fleet:
    """Every simulated device, and the random drops and events among them."""

    def __init__(
        self,
        options: SimulatorOptions,
        console: Console,
        inbox: Inbox,
        timers: Timers,
        rng: Random,
    ) -> None:
        """Make the devices the options describe; nothing connects yet."""
        self._options = options
        self._console = console
        self._timers = timers
        self._rng = rng
        self.devices = {
            spec.device_id: Device(spec, options, console, inbox)
            for spec in plan_fleet(options.devices, options.xiaozhi_macs)
        }

    def __getitem__(self, device_id: str) -> Device:
        """Return a device by id, or raise KeyError naming it."""
        try:
            return self.devices[device_id]
        except KeyError:
            raise KeyError(f"no simulated device {device_id!r}") from None

    def connect(self) -> None:
        """Connect every device."""
        for device in self.devices.values():
            device.connect()

    def not_ready(self) -> list[Device]:
        """Return the devices whose first messages are not acknowledged yet."""
        return [device for device in self.devices.values() if not device.ready.is_set()]

    def start_background(self) -> None:
        """Schedule heartbeats, events and drops, as far as the options ask."""
        options = self._options
        for device in self.devices.values():
            if options.heartbeat:
                # Devices that started together still beat at their own times.
                first = options.heartbeat * self._rng.uniform(0.5, 1)
                self._timers.call_later(first, self._heartbeat(device))
            if options.event_interval:
                self._schedule_event(device)
        if options.drop_interval and self.devices:
            self._schedule_drop()

    def _heartbeat(self, device: Device) -> Callable[[], None]:
        def beat() -> None:
            device.heartbeat()
            self._timers.call_later(self._options.heartbeat, beat)

        return beat

    def _schedule_event(self, device: Device) -> None:
        def send() -> None:
            device.send_event(event_payload(self._rng, device.spec, iso_now()))
            self._schedule_event(device)

        delay = self._rng.expovariate(1 / self._options.event_interval)
        self._timers.call_later(delay, send)

    def _schedule_drop(self) -> None:
        delay = self._rng.expovariate(1 / self._options.drop_interval)
        self._timers.call_later(delay, self._random_drop)

    def _random_drop(self) -> None:
        self._schedule_drop()
        online = [device for device in self.devices.values() if device.online]
        if not online:
            return
        device = self._rng.choice(online)
        try:
            device.drop()
        except RuntimeError:
            return  # it went offline by itself meanwhile
        self._timers.call_later(
            self._options.drop_duration, lambda: self._come_back(device)
        )

    def _come_back(self, device: Device) -> None:
        self._console.note(f"{device.device_id} reconnects")
        device.connect()

    def stop(self) -> None:
        """Disconnect every device cleanly (no will) and end their threads."""
        # All DISCONNECTs go out first; then the threads are joined together.
        for device in self.devices.values():
            device.disconnect()
        for device in self.devices.values():
            device.finish()
