"""Two brokers and the bridge between them, as docs/bridge.md sets them up.

The fleet's broker: mosquitto with a TLS listener whose certificate a CA of
our own signed (devkit.tls), beside a plain loopback listener for the fleet
(the simulator), saving every change so that its retained messages survive a
kill. Home Assistant's broker: mosquitto running docs/mosquitto/bridge.conf,
the very section users copy, with two lines replaced: `address` (the fleet's
TLS port on loopback) and `bridge_cafile` (our CA). mosquitto only: amqtt has
no bridges.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from . import REPO
from .broker import Broker
from .tls import make_server_certificate

RECIPE: Final = REPO / "docs" / "mosquitto" / "bridge.conf"
# The two lines a user adapts besides the logins and the client id; found by
# their first word, as the recipe writes one directive a line.
REPLACED: Final = ("address", "bridge_cafile")


def recipe_value(name: str, recipe: Path = RECIPE) -> str:
    """Return the value of one directive of the recipe, e.g. remote_clientid.

    Raises:
        ValueError: the recipe has it not exactly once.
    """
    values = [
        line.removeprefix(f"{name} ")
        for line in recipe.read_text(encoding="utf-8").splitlines()
        if line.startswith(f"{name} ")
    ]
    if len(values) != 1:
        raise ValueError(f"{recipe.name} has {len(values)} {name} lines, not one")
    return values[0]


def state_topic(recipe: Path = RECIPE) -> str:
    """Return where mosquitto publishes the bridge's state (notifications)."""
    return f"$SYS/broker/connection/{recipe_value('remote_clientid', recipe)}/state"


def recipe_lines(address: str, cafile: Path, recipe: Path = RECIPE) -> list[str]:
    """Return the recipe's lines with its address and bridge_cafile replaced.

    Raises:
        ValueError: the recipe has either line not exactly once.
    """
    lines = recipe.read_text(encoding="utf-8").splitlines()
    given = {"address": address, "bridge_cafile": str(cafile)}
    for name in REPLACED:
        recipe_value(name, recipe)  # exactly once, or raise
        lines = [
            f"{name} {given[name]}" if line.startswith(f"{name} ") else line
            for line in lines
        ]
    return lines


@dataclass
class BridgedBrokers:
    """The fleet's broker and Home Assistant's, bridged by the recipe.

    start() starts the fleet's first, so the bridge connects at once;
    kill_fleet() and restart_fleet() crash the fleet's broker and bring it back
    on the same ports, with its retained messages. Home Assistant connects to
    home.port, the fleet to fleet.port (plain) or fleet.ws_port (WebSocket).
    """

    workdir: Path
    home_port: int = 0
    fleet_port: int = 0
    # The fleet broker's WebSocket port (0: a free one), for the fleet's
    # browser clients; None: none.
    fleet_ws_port: int | None = None
    # Where the bridge connects: the fleet broker's TLS port; 0: a free one.
    fleet_tls_port: int = 0
    # The fleet's logins and ACL (docs/broker-acl.md); none: anonymous. The
    # bridge logs in with the recipe's remote_username and remote_password.
    fleet_users: Mapping[str, str] = field(default_factory=dict)
    fleet_acl: Path | None = None
    recipe: Path = RECIPE
    fleet: Broker = field(init=False)
    home: Broker = field(init=False)

    def __post_init__(self) -> None:
        """Describe both brokers; nothing runs before start()."""
        certificate = make_server_certificate(self.workdir / "tls")
        self.fleet = Broker(
            self.workdir / "fleet",
            port=self.fleet_port,
            ws_port=self.fleet_ws_port,
            kind="mosquitto",
            users=self.fleet_users,
            acl_file=self.fleet_acl,
            tls=certificate,
            tls_port=self.fleet_tls_port,
            save_on_change=True,
        )
        self.home = Broker(self.workdir / "home", port=self.home_port, kind="mosquitto")
        self._cafile = certificate.cafile

    @property
    def state_topic(self) -> str:
        """Return the bridge's state topic on Home Assistant's broker."""
        return state_topic(self.recipe)

    def start(self) -> None:
        """Start the fleet's broker, then Home Assistant's with the bridge."""
        self.fleet.start()
        self.home.extra_config = tuple(
            recipe_lines(f"127.0.0.1:{self.fleet.tls_port}", self._cafile, self.recipe)
        )
        try:
            self.home.start()
        except RuntimeError:
            self.fleet.stop()
            raise

    def stop(self) -> None:
        """Stop both, Home Assistant's first (its bridge then leaves cleanly)."""
        self.home.stop()
        self.fleet.stop()

    def kill_fleet(self) -> None:
        """Kill the fleet's broker (SIGKILL), as a crash or a power cut would."""
        self.fleet.kill()

    def restart_fleet(self) -> None:
        """Start the fleet's broker again on the same ports."""
        self.fleet.start()

    def __enter__(self) -> BridgedBrokers:
        """Start for a with block."""
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        """Stop at the end of a with block."""
        self.stop()
