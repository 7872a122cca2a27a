"""A local MQTT broker for scripts/develop and the end-to-end tests.

mosquitto when it is installed, on a loopback port, with persistence so
retained messages survive a restart as they would on a real broker.
"""

from __future__ import annotations

from dataclasses import dataclass, field
import os
from pathlib import Path
import shutil
import socket
import subprocess
import time


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
    return shutil.which("mosquitto") or next(
        (
            path
            for path in ("/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto")
            if os.access(path, os.X_OK)
        ),
        None,
    )


@dataclass
class Broker:
    """A broker process on 127.0.0.1; start() and stop() may be repeated."""

    workdir: Path
    port: int = 0
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def kind(self) -> str:
        """Say which broker runs."""
        return "mosquitto"

    def start(self) -> None:
        """Start (or restart) the broker on the same port."""
        executable = find_mosquitto()
        if executable is None:
            raise RuntimeError(
                "mosquitto is not installed (apt install mosquitto), or pass --broker"
            )
        self.workdir.mkdir(parents=True, exist_ok=True)
        if not self.port:
            self.port = free_port()
        config = self.workdir / "mosquitto.conf"
        config.write_text(
            f"listener {self.port} 127.0.0.1\n"
            "allow_anonymous true\n"
            "persistence true\n"
            f"persistence_location {self.workdir}/\n"
            f"log_dest file {self.workdir}/mosquitto.log\n"
            "log_type error\nlog_type warning\nlog_type notice\n",
            encoding="utf-8",
        )
        self.process = subprocess.Popen(  # noqa: S603 - our own config
            [executable, "-c", str(config)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_for_port(self.port)
        except TimeoutError:
            self.stop()
            log = (self.workdir / "mosquitto.log").read_text(errors="replace")
            raise RuntimeError(f"mosquitto did not start:\n{log[-2000:]}") from None

    def stop(self) -> None:
        """Stop the broker cleanly, so it saves retained messages."""
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
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
