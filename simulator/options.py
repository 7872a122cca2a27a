"""Everything a simulation is configured with, and its validation."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
import math
from typing import Final

from .runtime import BrokerAddress
from .script import DEFAULT_XIAOZHI_MAC, DeviceSpec, voice_box_count
from .wire import protocol

# How far the wake-word service's clock may be from the gateway's: a day,
# beyond any NTP step or restored VM the tests play.
MAX_CLOCK_SKEW: Final = 86_400.0


class OptionError(ValueError):
    """An option that cannot work; option is its name as a command-line flag."""

    def __init__(self, option: str, message: str) -> None:
        """Name the option (e.g. "device-prefix") apart from the message."""
        super().__init__(f"--{option}: {message}")
        self.option = option
        self.message = message


@dataclass(frozen=True, slots=True, kw_only=True)
class SimulatorOptions:
    """What to simulate, against which broker; the defaults are the CLI's.

    Every background activity can be switched off with 0, so that tests drive
    the simulator only through its methods.
    """

    broker: BrokerAddress = field(default_factory=BrokerAddress)
    # Set, every device logs in as itself (DeviceSpec.username) with this
    # password, as a broker with per-device ACLs wants; None: devices log in
    # as the broker address says, like the backend.
    device_password: str | None = None
    scheme: protocol.TopicScheme = field(default_factory=protocol.TopicScheme)
    # Publish every voice message on the configured version and then on v0.
    also_legacy: bool = False
    devices: int = 3
    rooms: int = 2
    # Given to the voice boxes in order; each listens on its ws_start topic.
    xiaozhi_macs: tuple[str, ...] = (DEFAULT_XIAOZHI_MAC,)
    heartbeat: float = 15.0  # seconds between heartbeats; 0: none
    conversation_interval: float = 20.0  # mean seconds per room; 0: none
    interim_rate: float = 12.0  # interim transcripts a second
    chunk_rate: float = 25.0  # streamed chunks a second
    phase_pause: float = 0.3  # seconds between the other conversation steps
    # Seconds the wake-word service's clock is ahead of the gateway's (behind
    # when negative): protocol.md's two publishers, two clocks.
    clock_skew: float = 0.0
    drop_interval: float = 0.0  # mean seconds between drops in the fleet; 0: none
    drop_duration: float = 20.0  # seconds a dropped device stays away
    event_interval: float = 60.0  # mean seconds between events per device; 0: none
    seed: int | None = None
    quiet: bool = False

    def device_broker(self, spec: DeviceSpec) -> BrokerAddress:
        """Return the broker address, with the login, a device connects with."""
        if self.device_password is None:
            return self.broker
        return replace(
            self.broker, username=spec.username, password=self.device_password
        )

    def validated(self) -> SimulatorOptions:
        """Return these options with MACs normalised, or raise OptionError."""
        if not 0 < self.broker.port < 65536:
            raise OptionError("port", "must be between 1 and 65535")
        self._check_scheme()
        if self.also_legacy and self.scheme.is_legacy:
            raise OptionError("also-legacy", "the version is already the legacy v0")
        for name in ("devices", "rooms"):
            if getattr(self, name) < 0:
                raise OptionError(name, "must be 0 or more")
        for name in (
            "heartbeat",
            "conversation_interval",
            "phase_pause",
            "drop_interval",
            "drop_duration",
            "event_interval",
        ):
            if getattr(self, name) < 0:
                raise OptionError(name.replace("_", "-"), "must be 0 or more")
        for name in ("interim_rate", "chunk_rate"):
            if getattr(self, name) <= 0:
                raise OptionError(name.replace("_", "-"), "must be more than 0")
        if not (
            math.isfinite(self.clock_skew) and abs(self.clock_skew) <= MAX_CLOCK_SKEW
        ):
            raise OptionError(
                "clock-skew",
                f"must be between -{MAX_CLOCK_SKEW:.0f} and {MAX_CLOCK_SKEW:.0f}",
            )
        try:
            macs = tuple(protocol.normalize_mac(mac) for mac in self.xiaozhi_macs)
        except ValueError as err:
            raise OptionError("xiaozhi-mac", str(err)) from None
        if len(set(macs)) != len(macs):
            raise OptionError("xiaozhi-mac", "the same MAC is given twice")
        if len(macs) > (boxes := voice_box_count(self.devices)):
            raise OptionError(
                "xiaozhi-mac",
                f"{len(macs)} MACs need {len(macs)} voice boxes, but --devices "
                f"{self.devices} makes {boxes} (every third device is one)",
            )
        return replace(self, xiaozhi_macs=macs)

    def _check_scheme(self) -> None:
        scheme = self.scheme
        if scheme.version:
            try:
                protocol.validate_identifier(scheme.version)
            except protocol.IdentifierError as err:
                raise OptionError(
                    "version", f"{scheme.version!r} cannot be a topic level ({err})"
                ) from None
        for option, value in (
            ("base", scheme.base),
            ("device-prefix", scheme.device_prefix),
            ("session-prefix", scheme.session_prefix),
            ("admin-prefix", scheme.admin_prefix),
            ("xiaozhi-prefix", scheme.xiaozhi_prefix),
        ):
            try:
                protocol.validate_prefix(value)
            except protocol.IdentifierError as err:
                raise OptionError(
                    option, f"{value!r} cannot be a topic prefix ({err})"
                ) from None
