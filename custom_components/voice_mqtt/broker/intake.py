"""Every message in: parsed once, counted, and dropped with a reason if bad.

The hub hands each message it cannot take on the cheap path to
Intake.parse, which runs the protocol's parser and keeps the diagnostics
counters: what came in, what was dropped and why. A dropped message is
logged once per reason at warning level, then at debug level: a misbehaving
publisher must not flood the log.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
import logging
from typing import Any

from ..protocol import ProtocolError, Rejection, TopicScheme

type Payload = str | bytes | bytearray
type Parser[MessageT] = Callable[[TopicScheme, str, Payload], MessageT | None]

_LOGGER = logging.getLogger(__name__)


def _printable(topic: str) -> str:
    """Shorten a topic for a log line; it may be hostile."""
    return repr(topic[:200])


@dataclass(slots=True)
class Intake:
    """Parses every message; counts what came in, what was dropped and why."""

    received: Counter[str] = field(default_factory=Counter)
    rejected: Counter[str] = field(default_factory=Counter)
    cleared: int = 0
    duplicates: int = 0
    id_mismatches: int = 0
    _logged: set[Rejection] = field(default_factory=set)

    def parse[MessageT](
        self,
        counter: str,
        parse: Parser[MessageT],
        scheme: TopicScheme,
        topic: str,
        payload: Payload,
    ) -> MessageT | None:
        """Count and parse one message; None when it was dropped or cleared."""
        self.received[counter] += 1
        try:
            message = parse(scheme, topic, payload)
        except ProtocolError as err:
            self.reject(err, topic)
            return None
        if message is None:
            self.cleared += 1  # an empty payload: a retained topic was cleared
        return message

    def reject(self, err: ProtocolError, topic: str) -> None:
        """Count a dropped message; log the first of each reason loudly."""
        self.rejected[err.reason] += 1
        if err.reason in self._logged:
            _LOGGER.debug("Dropped message on %s: %s", _printable(topic), err)
            return
        self._logged.add(err.reason)
        _LOGGER.warning(
            "Dropped message on %s: %s (further drops for this reason are logged"
            " at debug level)",
            _printable(topic),
            err,
        )

    def as_dict(self) -> dict[str, Any]:
        """Return plain data for diagnostics."""
        return {
            "received": dict(self.received),
            "rejected": dict(self.rejected),
            "cleared": self.cleared,
            "duplicates": self.duplicates,
            "id_mismatches": self.id_mismatches,
        }
