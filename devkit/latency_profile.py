"""Where Home Assistant's time goes: py-spy on the hass process, summed up.

py-spy samples the running process from outside (ptrace, which root has),
without pausing it (--nonblocking), so the profiled process runs as it would.
Its raw output is one line per distinct stack, `frame;frame;... count`, the
outermost first; own time is the innermost frame, cumulative time every
function on the stack. Only busy threads are sampled.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
import re
import shutil
import subprocess
from typing import Final

TOP: Final = 15

# What a frame's file says about who spends the time, first match wins;
# (name, marker, whether time spent below it means anything). Everything
# runs below the event loop, so "below asyncio" says nothing.
AREAS: Final = (
    ("voice_mqtt", "custom_components/voice_mqtt/", True),
    ("HA MQTT sensors (the hand-made ones)", "components/mqtt/sensor.py", True),
    ("HA MQTT client and entities", "components/mqtt/", True),
    ("paho (HA's MQTT client)", "paho/", True),
    ("templates", "helpers/template", True),
    ("templates", "jinja2/", True),
    ("websocket API", "components/websocket_api/", True),
    ("HTTP and aiohttp", "aiohttp/", True),
    ("recorder", "components/recorder/", True),
    ("SQLAlchemy", "sqlalchemy/", True),
    ("entity state writes", "helpers/entity.py", True),
    ("state machine and bus (core.py)", "homeassistant/core.py", True),
    ("other Home Assistant", "homeassistant/", False),
    ("event loop (asyncio, selectors)", "asyncio/", False),
    ("event loop (asyncio, selectors)", "selectors.py", False),
)
INCLUSIVE: Final = {name for name, _, inclusive in AREAS if inclusive}
# Frames below which everything runs: left out of the cumulative top list.
ROOTS: Final = (
    "<frozen runpy>",
    "homeassistant/__main__.py",
    "homeassistant/runner.py",
    "asyncio/",
    "threading.py",
)
_FRAME: Final = re.compile(r"^(?P<function>.*) \((?P<file>.*?)(?::(?P<line>\d+))?\)$")


def find_py_spy() -> str | None:
    """Return py-spy on PATH, if any."""
    return shutil.which("py-spy")


def area(frame: str) -> str:
    """Return who a frame belongs to (its file decides)."""
    found = _FRAME.match(frame)
    path = found["file"] if found else frame
    for name, marker, _ in AREAS:
        if marker in path:
            return name
    return "other"


def short(frame: str) -> str:
    """Return a frame as `function (package/module.py:line)`."""
    found = _FRAME.match(frame)
    if not found:
        return frame
    path = found["file"]
    for anchor in ("site-packages/", "custom_components/", "/lib/python3"):
        if anchor in path:
            path = path[path.index(anchor) :].removeprefix("site-packages/")
            break
    line = f":{found['line']}" if found["line"] else ""
    return f"{found['function']} ({path}{line})"


@dataclass
class Profile:
    """Samples by function: own time, cumulative time, and by area."""

    samples: int = 0
    seconds: float = 0.0
    rate: int = 0
    own: Counter[str] = field(default_factory=Counter)
    cumulative: Counter[str] = field(default_factory=Counter)
    own_area: Counter[str] = field(default_factory=Counter)
    cumulative_area: Counter[str] = field(default_factory=Counter)
    threads: Counter[str] = field(default_factory=Counter)

    @classmethod
    def parse(cls, raw: str, seconds: float = 0.0, rate: int = 0) -> Profile:
        """Sum up py-spy's raw output (recorded with --threads)."""
        profile = cls(seconds=seconds, rate=rate)
        for line in raw.splitlines():
            stack, _, count_text = line.rpartition(" ")
            if not stack or not count_text.isdigit():
                continue
            count = int(count_text)
            thread, *frames = stack.split(";")
            if not frames:
                continue
            profile.samples += count
            profile.threads[thread] += count
            profile.own[short(frames[-1])] += count
            profile.own_area[area(frames[-1])] += count
            for name in {short(frame) for frame in frames}:
                profile.cumulative[name] += count
            for name in {area(frame) for frame in frames}:
                profile.cumulative_area[name] += count
        return profile

    def percent(self, count: int) -> float:
        """Return a count of samples as a % of all of them."""
        return 100 * count / self.samples if self.samples else 0.0

    def lines(self) -> list[str]:
        """Return the summary: areas, then the top functions both ways."""
        busy = self.samples / (self.seconds * self.rate) if self.seconds else 0.0
        threads = ", ".join(
            f"{name.partition(': ')[2] or name} {self.percent(count):.0f} %"
            for name, count in self.threads.most_common(3)
        )
        lines = [
            (
                f"where Home Assistant's time went: py-spy, {self.seconds:.0f} s"
                f" at {self.rate} Hz, {self.samples:,} samples of busy threads"
                f" (about {100 * busy:.0f} % of a core); % of those samples"
            ),
            f"  threads: {threads}",
            f"  {'area (by file)':<40}{'own':>7}{'with callees':>14}",
        ]
        for name, count in self.own_area.most_common():
            below = self.cumulative_area[name]
            shown = f"{self.percent(below):>13.1f}%" if name in INCLUSIVE else ""
            lines.append(f"  {name:<40}{self.percent(count):>6.1f}%{shown}")
        lines.append(f"  top {TOP} functions by own time:")
        lines.extend(
            f"  {self.percent(count):>6.1f}%  {name}"
            for name, count in self.own.most_common(TOP)
        )
        lines.append(
            f"  top {TOP} functions by cumulative time (start-up and event loop"
            " frames, on every stack, left out):"
        )
        inner = (
            (name, count)
            for name, count in self.cumulative.most_common()
            if not any(root in name for root in ROOTS)
        )
        lines.extend(
            f"  {self.percent(count):>6.1f}%  {name}"
            for name, count in islice(inner, TOP)
        )
        return lines


class PySpy:
    """py-spy record on one process, for a while, in the background."""

    def __init__(self, executable: str, pid: int, output: Path) -> None:
        """Record pid into output (raw format) with executable."""
        self.executable = executable
        self.pid = pid
        self.output = output
        self.process: subprocess.Popen[bytes] | None = None
        self.seconds = 0.0
        self.rate = 0

    def start(self, seconds: float, rate: int) -> None:
        """Begin sampling for seconds, rate times a second."""
        self.seconds, self.rate = seconds, rate
        command = [self.executable, "record", "--pid", str(self.pid)]
        command += ["--duration", str(max(1, round(seconds))), "--rate", str(rate)]
        # --nonblocking: never pause hass; --function: one name per function.
        command += ["--nonblocking", "--function", "--threads", "--format", "raw"]
        command += ["--output", str(self.output)]
        with (self.output.parent / "py-spy.out").open("wb") as log:
            self.process = subprocess.Popen(  # noqa: S603 - our own command
                command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT
            )

    def finish(self) -> tuple[Profile | None, str]:
        """Wait for py-spy; return the profile, or why there is none."""
        if self.process is None:
            return None, "py-spy was not started"
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        if self.process.returncode != 0 or not self.output.exists():
            said = (self.output.parent / "py-spy.out").read_text(errors="replace")
            return None, f"py-spy failed ({self.process.returncode}): {said[-500:]}"
        raw = self.output.read_text(errors="replace")
        return Profile.parse(raw, self.seconds, self.rate), ""
