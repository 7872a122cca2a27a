"""Commands that answer: protocol.md section 4, request and response.

send_command may wait for a device's answer: the command carries a messageId,
the device answers on devices/{id}/response with the same id. Answers arrive on
the device wildcard the hub already has, so waiting costs no subscription.
Only the device that was asked can answer; anything else (nobody waits, the
answer came twice, too late, or from another device) is dropped and counted.
"""

from __future__ import annotations

import asyncio
from collections import Counter, OrderedDict
from dataclasses import dataclass
from enum import StrEnum
import logging
from typing import Final

from ..protocol import CommandAnswer

_LOGGER = logging.getLogger(__name__)

# Ids of answered and given-up requests are kept this long, to tell a late
# or repeated answer from one nobody asked for; bounded, whatever arrives.
REMEMBERED_IDS: Final = 256


class AnswerDrop(StrEnum):
    """Why an answer was not given to anybody."""

    UNEXPECTED = "unexpected"  # no request with that messageId
    DUPLICATE = "duplicate"  # the request was answered already
    LATE = "late"  # the caller stopped waiting (its timeout passed)
    WRONG_DEVICE = "wrong_device"  # a device that was not asked


class MessageIdInUseError(ValueError):
    """A request with that messageId is still waiting."""


class NoLongerListeningError(RuntimeError):
    """The entry unloaded while a request waited: no answer can arrive."""


@dataclass(slots=True)
class _Request:
    device_id: str
    answer: asyncio.Future[CommandAnswer]


class PendingAnswers:
    """The requests waiting for an answer, per messageId."""

    def __init__(self) -> None:
        """Wait for nothing yet."""
        self._waiting: dict[str, _Request] = {}
        self._ended: OrderedDict[str, AnswerDrop] = OrderedDict()
        self.answered = 0
        self.dropped: Counter[AnswerDrop] = Counter()

    def expect(self, device_id: str, message_id: str) -> asyncio.Future[CommandAnswer]:
        """Start waiting for device_id's answer to message_id (before publishing)."""
        if message_id in self._waiting:
            raise MessageIdInUseError(message_id)
        self._ended.pop(message_id, None)
        future: asyncio.Future[CommandAnswer] = (
            asyncio.get_running_loop().create_future()
        )
        self._waiting[message_id] = _Request(device_id, future)
        return future

    def stop_waiting(self, message_id: str) -> None:
        """The caller is done: an answer from now on is late (or a duplicate)."""
        if (request := self._waiting.pop(message_id, None)) is None:
            return
        answered = request.answer.done() and not request.answer.cancelled()
        request.answer.cancel()
        self._end(message_id, AnswerDrop.DUPLICATE if answered else AnswerDrop.LATE)

    def take(self, device_id: str, answer: CommandAnswer) -> bool:
        """Give an answer to the request waiting for it; False when dropped."""
        request = self._waiting.get(answer.message_id)
        if request is None:
            drop = self._ended.get(answer.message_id, AnswerDrop.UNEXPECTED)
        elif request.device_id != device_id:
            drop = AnswerDrop.WRONG_DEVICE  # the real answer may still come
        elif request.answer.done():
            drop = AnswerDrop.DUPLICATE
        else:
            request.answer.set_result(answer)
            self.answered += 1
            return True
        self.dropped[drop] += 1
        _LOGGER.debug(
            "Dropped the answer of %s to %r: %s", device_id, answer.message_id, drop
        )
        return False

    def cancel(self) -> None:
        """The entry unloads: nobody is answered any more."""
        for request in self._waiting.values():
            if not request.answer.done():
                request.answer.set_exception(NoLongerListeningError())
        self._waiting.clear()

    def _end(self, message_id: str, outcome: AnswerDrop) -> None:
        self._ended[message_id] = outcome
        while len(self._ended) > REMEMBERED_IDS:
            self._ended.popitem(last=False)

    def as_dict(self) -> dict[str, object]:
        """Return plain data for diagnostics."""
        return {
            "waiting": len(self._waiting),
            "answered": self.answered,
            "dropped": {str(drop): count for drop, count in self.dropped.items()},
        }
