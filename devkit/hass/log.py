"""home-assistant.log, read as records: each with its level, logger and text.

Plain functions of text, tested without Home Assistant: scripts/soak counts
tracebacks with them, scripts/smoke judges voice_mqtt's records, the demo's
end-to-end test looks for errors.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
import re
from typing import Final

from devkit import DOMAIN

# `2026-12-01 07:06:35.024 ERROR (MainThread) [logger] message`, since 2026.11
# with the offset: `07:06:35.024+00:00`; thread names may hold parentheses
# themselves: `(Thread-1 (_monitor))`.
_RECORD: Final = re.compile(
    r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+(?:[+-]\d\d:?\d\d|Z)? (?P<level>[A-Z]+) "
    r"\((?:[^()]|\([^()]*\))*\) \[(?P<logger>[^\]]+)\] ",
    re.MULTILINE,
)
_TRACEBACK: Final = "Traceback (most recent call last)"
_FRAME: Final = re.compile(r'File "(?P<path>[^"]+)", line (?P<line>\d+)')


@dataclass(frozen=True, slots=True)
class LogRecord:
    """One record of home-assistant.log, continuation lines included."""

    level: str
    logger: str
    text: str
    offset: int  # where it starts in the file

    @property
    def has_traceback(self) -> bool:
        """Tell whether the record carries a traceback."""
        return _TRACEBACK in self.text

    @property
    def about_voice_mqtt(self) -> bool:
        """Tell whether it comes from voice_mqtt or mentions it."""
        return DOMAIN in self.text

    def signature(self) -> str:
        """Return what tells one traceback from another: error and where.

        The last line (the exception) and the innermost frame of voice_mqtt,
        or else the innermost frame.
        """
        lines = [line for line in self.text.splitlines() if line.strip()]
        error = lines[-1].strip() if lines else ""
        frames = list(_FRAME.finditer(self.text))
        ours = [frame for frame in frames if DOMAIN in frame["path"]]
        if where := (ours or frames)[-1:]:
            path = where[0]["path"]
            if DOMAIN in path:
                path = path[path.rindex(DOMAIN) :]
            else:
                path = path.rpartition("site-packages/")[2]
            return f"{error[:160]} at {path}:{where[0]['line']} [{self.logger}]"
        return f"{error[:200]} [{self.logger}]"


def log_records(text: str) -> Iterator[LogRecord]:
    """Split a log into its records; text before the first one is skipped."""
    starts = list(_RECORD.finditer(text))
    for index, match in enumerate(starts):
        end = starts[index + 1].start() if index + 1 < len(starts) else len(text)
        yield LogRecord(
            match["level"], match["logger"], text[match.start() : end], match.start()
        )


def read_logs(config_dir: Path) -> str:
    """Return home-assistant.log, with any rotated part before it."""
    parts = sorted(config_dir.glob("home-assistant.log.*"), reverse=True)
    parts.append(config_dir / "home-assistant.log")
    return "".join(path.read_text(errors="replace") for path in parts if path.exists())
