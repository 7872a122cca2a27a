"""A local MQTT broker for scripts/develop and the end-to-end tests.

mosquitto when it is installed, with persistence so retained messages survive
a restart as on a real broker; otherwise amqtt, a pure-Python broker (pinned
in requirements_test.txt), whose retained messages live in memory only.
Either listens on a loopback port, and on a second one for MQTT over WebSocket
when asked (the fleet's browser clients: admin panels, HTML simulators).
VOICE_MQTT_BROKER=amqtt (or mosquitto) picks one explicitly.

With users, mosquitto lets only them in (a password file made with
mosquitto_passwd); with an ACL file, it enforces it (docs/broker-acl.md).
mosquitto also listens for MQTT over TLS when given a certificate (a fleet's
broker across the internet, docs/bridge.md), saves every change at once when
asked (retained messages then survive kill(), SIGKILL, as on a crash), and
runs any more configuration lines, such as a bridge section. amqtt does none
of that: asking it to raises.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
import os
from pathlib import Path
import shutil
import signal
import socket
import subprocess
import sys
import time

from .tls import ServerCertificate


def free_port(preferred: int | None = None) -> int:
    """Return preferred if nobody listens there, else a free loopback port."""
    if preferred is not None:
        with socket.socket() as probe:
            # As servers do: a port left in TIME_WAIT by a stopped one is free.
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(("127.0.0.1", preferred))
            except OSError:
                pass
            else:
                return preferred
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for_port(port: int, timeout: float = 10.0) -> None:
    """Block until something accepts connections on the loopback port."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise TimeoutError(f"nothing listens on 127.0.0.1:{port}") from None
            time.sleep(0.05)


def find_mosquitto() -> str | None:
    """Return the mosquitto executable, which Debian keeps in /usr/sbin."""
    return _find("mosquitto", "/usr/sbin", "/usr/local/sbin")


def find_mosquitto_passwd() -> str | None:
    """Return mosquitto_passwd, which Debian keeps in /usr/bin beside mosquitto."""
    return _find("mosquitto_passwd", "/usr/bin", "/usr/local/bin")


def _find(name: str, *folders: str) -> str | None:
    """Return an executable on PATH, else in one of folders (not always on PATH)."""
    return shutil.which(name) or shutil.which(name, path=os.pathsep.join(folders))


def default_kind() -> str:
    """Return the broker to run: as asked, else mosquitto if installed, else amqtt."""
    if asked := os.environ.get("VOICE_MQTT_BROKER"):
        if asked not in ("mosquitto", "amqtt"):
            raise RuntimeError(f"VOICE_MQTT_BROKER={asked}: use mosquitto or amqtt")
        return asked
    return "mosquitto" if find_mosquitto() else "amqtt"


@dataclass
class Broker:
    """A broker process on 127.0.0.1; start() and stop() may be repeated."""

    workdir: Path
    port: int = 0
    # MQTT over WebSocket on this port as well; 0 picks a free one, None: none.
    ws_port: int | None = None
    kind: str = field(default_factory=default_kind)
    # More lines for mosquitto's configuration (amqtt ignores them), e.g.
    # "max_queued_messages 0" so that a slow subscriber loses nothing.
    extra_config: tuple[str, ...] = ()
    # mosquitto only: the users let in (name: password), anonymous clients
    # refused; and the ACL file it enforces (a copy is read, not this path).
    users: Mapping[str, str] = field(default_factory=dict)
    acl_file: Path | None = None
    # mosquitto only: MQTT over TLS on tls_port (0 picks a free one) with
    # this certificate, as a fleet's broker across the internet listens.
    tls: ServerCertificate | None = None
    tls_port: int = 0
    # mosquitto only: write the persistence file after every change (a
    # retained message, a subscription), not only at a clean stop, so that
    # retained messages survive kill(). Costly under a flood: off by default.
    save_on_change: bool = False
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def keeps_retained_across_restarts(self) -> bool:
        """Tell whether retained messages survive stop() and start()."""
        return self.kind == "mosquitto"

    def start(self) -> None:
        """Start (or restart) the broker on the same port."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        if not self.port:
            self.port = free_port()
        if self.ws_port == 0:
            self.ws_port = free_port()
        if self.tls is not None and not self.tls_port:
            self.tls_port = free_port()
        if self.kind != "mosquitto" and (self.users or self.acl_file):
            raise RuntimeError("users and an ACL file need mosquitto, not amqtt")
        if self.kind != "mosquitto" and (self.tls or self.save_on_change):
            raise RuntimeError("TLS and saving on change need mosquitto, not amqtt")
        command = self._mosquitto() if self.kind == "mosquitto" else self._amqtt()
        log = (self.workdir / f"{self.kind}.out").open("ab")
        self.process = subprocess.Popen(  # noqa: S603 - our own config
            command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT
        )
        log.close()
        try:
            for port in (self.port, self.ws_port, self.tls_port or None):
                if port is not None:
                    wait_for_port(port)
        except TimeoutError:
            self.stop()
            output = (self.workdir / f"{self.kind}.out").read_text(errors="replace")
            raise RuntimeError(
                f"{self.kind} did not start:\n{output[-2000:]}"
            ) from None

    def _mosquitto(self) -> list[str]:
        executable = find_mosquitto()
        if executable is None:
            raise RuntimeError("mosquitto is not installed (apt install mosquitto)")
        config = self.workdir / "mosquitto.conf"
        # Run as root, mosquitto would switch to its own user, which cannot
        # write its persistence file into our folder.
        user = "user root\n" if os.geteuid() == 0 else ""
        websocket = (
            ""
            if self.ws_port is None
            else f"listener {self.ws_port} 127.0.0.1\nprotocol websockets\n"
        )
        tls = (
            ""
            if self.tls is None
            else f"listener {self.tls_port} 127.0.0.1\n"
            f"certfile {self.tls.certfile}\nkeyfile {self.tls.keyfile}\n"
        )
        # mosquitto counts changes and saves once autosave_interval of them
        # have happened: one.
        autosave = (
            "autosave_on_changes true\nautosave_interval 1\n"
            if self.save_on_change
            else ""
        )
        config.write_text(
            f"{user}listener {self.port} 127.0.0.1\n"
            f"{websocket}"
            f"{tls}"
            f"{self._security()}"
            "persistence true\n"
            f"persistence_location {self.workdir}/\n"
            f"{autosave}"
            "log_dest stdout\n"
            "log_type error\nlog_type warning\nlog_type notice\n"
            + "".join(f"{line}\n" for line in self.extra_config),
            encoding="utf-8",
        )
        return [executable, "-c", str(config)]

    def _security(self) -> str:
        """Return the configuration lines of the users and the ACL."""
        if not self.users:
            lines = "allow_anonymous true\n"
        else:
            passwd = self.workdir / "passwd"
            passwd.unlink(missing_ok=True)
            for name, password in self.users.items():
                _add_password(passwd, name, password)
            lines = f"allow_anonymous false\npassword_file {passwd}\n"
        if self.acl_file is not None:
            # A private copy: mosquitto warns about files others can read.
            acl = self.workdir / "acl"
            acl.write_bytes(self.acl_file.read_bytes())
            acl.chmod(0o600)
            lines += f"acl_file {acl}\n"
        return lines

    def _amqtt(self) -> list[str]:
        config = self.workdir / "amqtt.yaml"
        config.write_text(
            "listeners:\n"
            "  default:\n"
            "    type: tcp\n"
            f"    bind: 127.0.0.1:{self.port}\n"
            + (
                ""
                if self.ws_port is None
                else f"  ws:\n    type: ws\n    bind: 127.0.0.1:{self.ws_port}\n"
            )
            + "plugins:\n"
            "  amqtt.plugins.authentication.AnonymousAuthPlugin:\n"
            "    allow_anonymous: true\n",
            encoding="utf-8",
        )
        return [sys.executable, "-m", "amqtt.scripts.broker_script", "-c", str(config)]

    def stop(self) -> None:
        """Stop the broker cleanly, so mosquitto saves retained messages."""
        if self.process is None:
            return
        # amqtt shuts down on Ctrl-C only; mosquitto on either.
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None

    def kill(self) -> None:
        """Kill the broker (SIGKILL) as a crash would: it saves nothing, says nothing.

        Its clients' connections are closed by the system at once; start()
        brings it back on the same ports.
        """
        if self.process is None:
            return
        self.process.kill()
        self.process.wait()
        self.process = None

    def __enter__(self) -> Broker:
        """Start for a with block."""
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        """Stop at the end of a with block."""
        self.stop()


def _add_password(passwd: Path, name: str, password: str) -> None:
    """Add one user to a mosquitto password file, hashed by mosquitto_passwd."""
    executable = find_mosquitto_passwd()
    if executable is None:
        raise RuntimeError("mosquitto_passwd is not installed (apt install mosquitto)")
    create = [] if passwd.exists() else ["-c"]
    done = subprocess.run(  # noqa: S603 - our own arguments
        [executable, *create, "-b", str(passwd), name, password],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode:
        raise RuntimeError(f"mosquitto_passwd refused {name!r}: {done.stderr.strip()}")
    passwd.chmod(0o600)
