"""What scripts/smoke looks for in Home Assistant's log: voice_mqtt's trouble.

A record fails the smoke when it is a warning or an error from voice_mqtt's
loggers, a warning or an error of anyone else that names voice_mqtt (a
traceback through its code, a setup failure, the frame helper's "Detected
that custom integration 'voice_mqtt' ..."), or a deprecation warning at any
level that names it (Python's DeprecationWarning, which Home Assistant logs
as py.warnings once the smoke turns them on). Home Assistant's notice that
voice_mqtt is a custom integration, at every start, is expected. The rest is
counted, not judged: it is Home Assistant's own business. Plain functions of
text, tested without Home Assistant.
"""

from __future__ import annotations

from dataclasses import dataclass, field
import re
from typing import Final

from devkit import DOMAIN
from devkit.hass.log import LogRecord, log_records

# Logged by homeassistant.loader for every custom integration, at every start.
CUSTOM_NOTICE: Final = f"We found a custom integration {DOMAIN} which has not been"
LOUD: Final = frozenset({"WARNING", "ERROR", "CRITICAL"})
# Python's own format for a warning it prints on stderr: `path:12: DeprecationWarning:`
_PRINTED_WARNING: Final = re.compile(r":\d+: \w*Warning: ")
_SHOWN: Final = 300  # characters of a failing record in the report


@dataclass
class LogVerdict:
    """What the log says: the records that fail the smoke, and the others."""

    problems: list[str] = field(default_factory=list)
    errors_elsewhere: int = 0
    warnings_elsewhere: int = 0
    first_error: str = ""  # elsewhere
    first_warning: str = ""  # elsewhere

    @property
    def passed(self) -> bool:
        """Tell whether nothing in the log fails the smoke."""
        return not self.problems


def is_deprecation(text: str) -> bool:
    """Tell whether a text is a deprecation warning that names voice_mqtt."""
    return DOMAIN in text and "deprecat" in text.lower()


def fails_smoke(record: LogRecord) -> bool:
    """Tell whether a record of home-assistant.log fails the smoke."""
    if is_deprecation(record.text):
        return True
    if record.level not in LOUD:
        return False
    if record.logger == f"custom_components.{DOMAIN}" or record.logger.startswith(
        f"custom_components.{DOMAIN}."
    ):
        return True
    return DOMAIN in record.text and CUSTOM_NOTICE not in record.text


def judge_log(log: str, output: str = "") -> LogVerdict:
    """Judge home-assistant.log, and what hass printed beside it.

    output is hass's stdout and stderr: the log's records again (not counted
    twice), and the warnings Python printed before the log was set up.
    """
    verdict = LogVerdict()
    for record in log_records(log):
        if CUSTOM_NOTICE in record.text:
            continue  # expected, at every start
        if fails_smoke(record):
            verdict.problems.append(shorten(record.text))
        elif record.level in LOUD:
            if record.level == "WARNING":
                verdict.warnings_elsewhere += 1
                verdict.first_warning = verdict.first_warning or shorten(record.text)
            else:
                verdict.errors_elsewhere += 1
                verdict.first_error = verdict.first_error or shorten(record.text)
    recorded = {record.text.partition("\n")[0] for record in log_records(output)}
    for line in output.splitlines():
        if line in recorded or not _PRINTED_WARNING.search(line):
            continue
        if is_deprecation(line) or DOMAIN in line:
            verdict.problems.append(f"(stderr) {shorten(line)}")
    return verdict


def shorten(text: str) -> str:
    """Return a record as one line: its first, and its last when it has more.

    For a traceback the last line is the exception.
    """
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    shown = lines[0] if len(lines) < 2 else f"{lines[0]} ... {lines[-1]}"
    return shown if len(shown) <= _SHOWN else shown[: _SHOWN - 3] + "..."
