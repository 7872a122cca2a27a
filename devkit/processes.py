"""The child processes the devkit starts: how they start, stop and grow.

Each child runs in a session of its own, as a user would run it, so that
Ctrl-C in a terminal reaches the tool only, and the tool stops its children
itself, in its own order.
"""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path
import signal
import subprocess
import sys
from typing import Final

from . import REPO

MIB: Final = 1024 * 1024


def spawn_simulator(
    host: str, port: int, *options: str, output: Path | None = None
) -> subprocess.Popen[bytes]:
    """Start the fleet simulator (python -m simulator) on the broker at host:port.

    From the repository; its output goes to the file output when given,
    else where this process's goes.
    """
    command = [sys.executable, "-m", "simulator", "--host", host, "--port", str(port)]
    with ExitStack() as stack:
        log = None if output is None else stack.enter_context(output.open("wb"))
        return subprocess.Popen(  # noqa: S603 - our own simulator
            [*command, *options],
            cwd=REPO,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=None if log is None else subprocess.STDOUT,
            start_new_session=True,
        )


def stop_process(process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    """Ask a child to stop, then insist."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def rss_bytes(pid: int) -> int:
    """Return the resident memory of a process (VmRSS), 0 once it is gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024  # in kB
    return 0
