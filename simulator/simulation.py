"""A whole simulation, for the command line and for tests."""

from __future__ import annotations

from collections.abc import Callable
from random import Random
import time
from types import TracebackType
from typing import Any, Self

from .backend import Backend
from .fleet import Device, Fleet
from .options import SimulatorOptions
from .runtime import Console, Inbox, Kind, Received, Timers
from .script import DeviceSpec, DeviceState, event_payload
from .wire import iso_now


class Simulator:
    """A fleet of devices and a voice backend against one broker.

    A simulator runs once: start(), use, stop() (or a with block). With the
    background activities switched off in the options (0), it does nothing
    but connect, announce and answer until told to, e.g. by a test:

        options = SimulatorOptions(
            broker=BrokerAddress(port=port), devices=2, rooms=1,
            heartbeat=0, conversation_interval=0, event_interval=0,
        )
        with Simulator(options) as simulator:
            session_id = simulator.run_conversation("living_room")
            simulator.drop_device("VR_0001")
    """

    def __init__(self, options: SimulatorOptions | None = None) -> None:
        """Check the options (OptionError) and prepare; nothing connects yet."""
        self.options = (options or SimulatorOptions()).validated()
        self.console = Console(quiet=self.options.quiet)
        self.inbox = Inbox()
        self._timers = Timers()
        # One generator per part, so that each part's choices depend on the
        # seed only, not on how the threads happen to interleave.
        seeds = Random(self.options.seed)
        self.fleet = Fleet(
            self.options,
            self.console,
            self.inbox,
            self._timers,
            Random(seeds.getrandbits(64)),
        )
        self.backend = Backend(
            self.options,
            self.console,
            self.inbox,
            self._timers,
            Random(seeds.getrandbits(64)),
        )
        self._events_rng = Random(seeds.getrandbits(64))
        self._started = False

    @property
    def devices(self) -> list[DeviceSpec]:
        """Return who the simulated devices are."""
        return [device.spec for device in self.fleet.devices.values()]

    @property
    def rooms(self) -> list[str]:
        """Return the rooms of automatic conversations."""
        return list(self.backend.rooms)

    def start(self, timeout: float = 10.0) -> None:
        """Connect everything; return once every device has announced itself.

        Then the background activities the options ask for begin.

        Raises:
            TimeoutError: not everyone was connected within timeout seconds
                (the simulator is stopped again).
        """
        if self._started:
            raise RuntimeError("a simulator runs once")
        self._started = True
        self._timers.start()
        self.backend.connect()
        self.fleet.connect()
        deadline = time.monotonic() + timeout
        waiting: list[tuple[str, Device | Backend]] = [
            (device_id, device) for device_id, device in self.fleet.devices.items()
        ]
        waiting.append(("the backend", self.backend))
        for name, part in waiting:
            if not part.ready.wait(max(0.0, deadline - time.monotonic())):
                self.stop()
                reason = part.last_error or "no answer"
                raise TimeoutError(
                    f"{name} was not connected to {self.options.broker} "
                    f"within {timeout} s: {reason}"
                )
        self.fleet.start_background()
        self.backend.start_background()

    def stop(self) -> None:
        """Stop everything; every connection ends cleanly, so no will is sent.

        After a clean stop, retained statuses stay as they were: subscribers
        learn that the devices are gone from the missing heartbeats.
        """
        self._timers.stop()
        self.backend.disconnect()
        self.fleet.stop()
        self.backend.finish()

    def __enter__(self) -> Self:
        """Start for a with block."""
        self.start()
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        """Stop at the end of a with block."""
        self.stop()

    # Devices ---------------------------------------------------------------

    def device_state(self, device_id: str) -> DeviceState:
        """Return what a device reports in its status."""
        return self.fleet[device_id].state

    def device_online(self, device_id: str) -> bool:
        """Tell whether a device's connection is up."""
        return self.fleet[device_id].online

    def drop_device(self, device_id: str) -> None:
        """Kill a device's connection; the broker publishes its Last Will.

        It stays offline until reconnect_device().

        Raises:
            KeyError: no such device.
            RuntimeError: the device is not online.
        """
        self.fleet[device_id].drop()

    def reconnect_device(self, device_id: str, timeout: float = 10.0) -> None:
        """Reconnect a dropped device; return once it announced itself again.

        Raises:
            KeyError: no such device.
            RuntimeError: the device is connected already.
            TimeoutError: it did not come back within timeout seconds.
        """
        device = self.fleet[device_id]
        device.connect()
        if not device.ready.wait(timeout):
            raise TimeoutError(f"{device_id} did not reconnect: {device.last_error}")

    def send_heartbeat(self, device_id: str) -> bool:
        """Publish a heartbeat now; False (nothing sent) while it is offline."""
        return self.fleet[device_id].heartbeat()

    def send_event(self, device_id: str, event: dict[str, Any] | None = None) -> bool:
        """Publish a device event (a random one by default); False while offline."""
        device = self.fleet[device_id]
        if event is None:
            event = event_payload(self._events_rng, device.spec, iso_now())
        return device.send_event(event)

    # Conversations ------------------------------------------------------------

    def run_conversation(
        self,
        room_id: str,
        streamed: bool = True,
        chunks: int | None = None,
        pause: float | None = None,
    ) -> str:
        """Play one full conversation in any room; return its session id.

        pause, when given, is this conversation's gap between steps instead of
        the options' phase_pause: how quickly the backend answers. Returns
        once the broker acknowledged the last message.
        """
        return self.backend.run_conversation(
            room_id, streamed=streamed, chunks=chunks, pause=pause
        )

    # What was received ----------------------------------------------------------

    def received(self, kind: Kind | None = None) -> list[Received]:
        """Return the commands, ws_starts and display actions received so far."""
        return self.inbox.items(kind)

    def wait_for(
        self, predicate: Callable[[Received], bool], timeout: float = 5.0
    ) -> Received:
        """Return the first received message that matches, waiting if needed.

        Raises:
            TimeoutError: nothing matched within timeout seconds.
        """
        return self.inbox.wait_for(predicate, timeout)
