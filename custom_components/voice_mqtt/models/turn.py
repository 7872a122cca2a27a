"""One conversation turn: what was heard, what was answered, and how fast.

Pure Python (no Home Assistant imports). A room's TurnRecorder gathers what
the current session does from its first sign of activity until the room is
idle again, the session goes quiet, or another session takes over; then it
hands back one Turn.

A session's messages come from two services on two hosts, the wake-word
service (wake_detected, the transcript) and the AI gateway (processing,
actions, the answer), each stamping its own clock (protocol.md section 4).
So a payload timestamp is used only where it agrees with the moment Home
Assistant received the message, within CLOCK_TOLERANCE: then it is the better
figure, free of delivery jitter. Where it does not, the clocks differ, and the
moments of receipt are the one clock there is. A replayed message (from the
broker's store) has no moment of receipt worth the name: its timestamp is all
there is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Final

from ..protocol import (
    ERROR,
    IDLE,
    DisplayAction,
    OverlayHint,
    Response,
    StateUpdate,
    StreamChunk,
    ToolExecuted,
    Transcript,
    TranscriptStage,
    VoiceMessage,
)

# A turn remembers at most this many tool runs and display actions.
MAX_RECORDED: Final = 32
# Seconds by which a payload's clock may differ from the moments of receipt
# and still be believed. Half a second: above delivery jitter and a busy Home
# Assistant's pauses (full garbage collections take 0.2-0.45 s,
# docs/performance.md), below the skews seen between the backend's two
# services (a second or more, protocol.md section 4).
CLOCK_TOLERANCE: Final = 0.5


class Outcome(StrEnum):
    """How a turn ended; the event types of a room's Conversation entity."""

    COMPLETED = "completed"  # back to idle
    ERROR = "error"  # back to idle after the assistant said error
    TIMED_OUT = "timed_out"  # the session went quiet before it was idle
    INTERRUPTED = "interrupted"  # another session took the room over


@dataclass(frozen=True, slots=True)
class ToolRun:
    """A tool the backend ran during a turn."""

    name: str
    success: bool


@dataclass(frozen=True, slots=True)
class Mark:
    """A moment of a turn: the message's own timestamp, and when it came."""

    timestamp: datetime | None
    received: datetime
    monotonic: float
    # Delivered from the broker's store: received says nothing of when.
    replayed: bool = False


def moment(mark: Mark) -> datetime:
    """Return when it happened: its timestamp where that agrees with its receipt."""
    if mark.timestamp is not None and (
        mark.replayed
        or abs((mark.timestamp - mark.received).total_seconds()) <= CLOCK_TOLERANCE
    ):
        return mark.timestamp
    return mark.received


def seconds_between(start: Mark, end: Mark) -> float:
    """Return the time from start to end, on one clock.

    The payloads' clock where both ends carry one and it agrees with the
    moments of receipt (the two ends may come from the two services, whose
    clocks differ); else the moments of receipt.
    """
    received = max(0.0, end.monotonic - start.monotonic)
    if start.timestamp is None or end.timestamp is None:
        return received
    stamped = (end.timestamp - start.timestamp).total_seconds()
    if stamped < 0:
        return received
    if start.replayed or end.replayed or abs(stamped - received) <= CLOCK_TOLERANCE:
        return stamped
    return received


@dataclass(frozen=True, slots=True)
class Turn:
    """One whole turn of a room's conversation."""

    room_id: str
    session_id: str
    outcome: Outcome
    heard: str | None
    answer: str | None
    tools: tuple[ToolRun, ...]
    display_actions: tuple[str, ...]
    started: datetime
    ended: datetime
    # From the end of what was heard to the first word of the answer.
    response_time: float | None
    duration: float


@dataclass(slots=True)
class TurnRecorder:
    """Gathers the current turn of one room."""

    room_id: str
    session_id: str | None = None
    start: Mark | None = None
    last: Mark | None = None
    heard_end: Mark | None = None
    first_word: Mark | None = None
    error: bool = False
    tools: list[ToolRun] = field(default_factory=list)
    display_actions: list[str] = field(default_factory=list)

    @property
    def open(self) -> bool:
        """Tell whether a turn is under way."""
        return self.start is not None

    def observe(
        self,
        message: VoiceMessage,
        *,
        now: float,
        received: datetime,
        replayed: bool = False,
    ) -> None:
        """Note a message of the room's current session."""
        payload = message.payload
        mark = Mark(payload.timestamp, received, now, replayed)
        if self.start is None or self.session_id != message.session_id:
            if isinstance(payload, OverlayHint) or (
                isinstance(payload, StateUpdate) and payload.state == IDLE
            ):
                return  # neither says that a conversation is happening
            self._begin(message.session_id, mark)
        self.last = mark
        match payload:
            case StateUpdate(state=state) if state == ERROR:
                self.error = True
            case Transcript(stage=stage) if stage is not TranscriptStage.INTERIM:
                if self.heard_end is None:
                    self.heard_end = mark
            case Response() | StreamChunk():
                if self.first_word is None and self.heard_end is not None:
                    self.first_word = mark
            case ToolExecuted() if len(self.tools) < MAX_RECORDED:
                self.tools.append(ToolRun(payload.tool_name, payload.success))
            case DisplayAction() if len(self.display_actions) < MAX_RECORDED:
                self.display_actions.append(payload.action_type)
            case _:
                pass

    def finish(
        self,
        outcome: Outcome,
        *,
        heard: str | None,
        answer: str | None,
        end: Mark | None = None,
    ) -> Turn | None:
        """End the turn under way; None if there is none."""
        start, session_id = self.start, self.session_id
        if start is None or session_id is None:
            return None
        end = end or self.last or start
        if outcome is Outcome.COMPLETED and self.error:
            outcome = Outcome.ERROR
        turn = Turn(
            room_id=self.room_id,
            session_id=session_id,
            outcome=outcome,
            heard=heard,
            answer=answer,
            tools=tuple(self.tools),
            display_actions=tuple(self.display_actions),
            started=moment(start),
            ended=moment(end),
            response_time=(
                None
                if self.heard_end is None or self.first_word is None
                else seconds_between(self.heard_end, self.first_word)
            ),
            duration=seconds_between(start, end),
        )
        self._begin(None, None)
        return turn

    def _begin(self, session_id: str | None, mark: Mark | None) -> None:
        self.session_id = session_id
        self.start = self.last = mark
        self.heard_end = self.first_word = None
        self.error = False
        self.tools = []
        self.display_actions = []
