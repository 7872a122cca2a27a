"""What a room's voice sessions add up to: the rules of protocol.md section 1.

Pure Python (no Home Assistant imports). A Room takes parsed messages and says
which aspects changed, so the hub can wake only the entities concerned.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Final

from ..protocol import (
    IDLE,
    DisplayAction,
    OverlayHint,
    Response,
    StateUpdate,
    StreamChunk,
    StreamComplete,
    StreamStart,
    ToolExecuted,
    Transcript,
    TranscriptStage,
    VoiceMessage,
)
from .turn import Mark, Outcome, Turn, TurnRecorder, moment

# A session that says nothing for this long is over, whatever it last said.
QUIET_TIMEOUT: Final = 60.0
# An assembled answer stops growing here; far beyond any real answer.
MAX_RESPONSE_CHARS: Final = 64 * 1024
# Sessions that ended are remembered so a late message cannot revive them.
_REMEMBERED_SESSIONS: Final = 32

_STAGE_RANK: Final = {
    TranscriptStage.INTERIM: 0,
    TranscriptStage.FINAL: 1,
    TranscriptStage.REFINED: 2,
}


class RoomAspect(StrEnum):
    """A part of a room that entities show; what a change notifies."""

    STATE = "state"
    TRANSCRIPT = "transcript"
    RESPONSE = "response"
    DISPLAY_ACTION = "display_action"
    OVERLAY = "overlay"
    TOOL_EXECUTED = "tool_executed"
    TURN = "turn"  # a whole turn ended: last_turn


@dataclass(slots=True)
class TranscriptState:
    """The latest utterance of the room."""

    session_id: str
    text: str
    stage: TranscriptStage
    sequence: int | None = None
    confidence: float | None = None
    timestamp: datetime | None = None


@dataclass(slots=True)
class ResponseState:
    """The latest answer of the room, whole or still streaming."""

    session_id: str
    streaming: bool = False
    truncated: bool = False
    parts: list[str] = field(default_factory=list)
    length: int = 0

    @property
    def text(self) -> str:
        """Return the answer so far."""
        if len(self.parts) > 1:
            # Join once; later reads and appends start from the joined text.
            self.parts[:] = ["".join(self.parts)]
        return self.parts[0] if self.parts else ""

    def append(self, text: str) -> None:
        """Add text, stopping at MAX_RESPONSE_CHARS."""
        room = MAX_RESPONSE_CHARS - self.length
        if len(text) > room:
            text = text[:room]
            self.truncated = True
        if text:
            self.parts.append(text)
            self.length += len(text)


@dataclass(frozen=True, slots=True)
class RoomEvent:
    """A display action or tool run, as an event entity fires it."""

    session_id: str
    attributes: dict[str, Any]
    timestamp: datetime | None
    retained: bool
    success: bool = True


@dataclass(slots=True)
class Room:
    """One physical room and the state of its latest voice session."""

    room_id: str
    session_id: str | None = None
    state: str | None = None
    state_changed: datetime | None = None
    transcript: TranscriptState | None = None
    response: ResponseState | None = None
    display_action: RoomEvent | None = None
    tool_executed: RoomEvent | None = None
    keep_open: bool | None = None
    # Monotonic time at which a quiet, unfinished session is ended.
    deadline: float | None = None
    # Newest message timestamp of the current session.
    session_time: datetime | None = None
    # Monotonic time of the last message.
    heard: float | None = None
    last_turn: Turn | None = None
    turns: TurnRecorder = field(init=False)
    _ended_sessions: deque[str] = field(
        default_factory=lambda: deque(maxlen=_REMEMBERED_SESSIONS)
    )

    def __post_init__(self) -> None:
        """Record the turns of this room."""
        self.turns = TurnRecorder(self.room_id)

    @property
    def active(self) -> bool:
        """Tell whether a conversation is going on (not idle, not unknown)."""
        return self.state is not None and self.state != IDLE

    def apply(
        self,
        message: VoiceMessage,
        *,
        now: float,
        received: datetime,
        retained: bool = False,
    ) -> set[RoomAspect]:
        """Apply one message; return the aspects that changed.

        retained: delivered from the broker's store (a replay), not live.
        """
        self.heard = now
        payload = message.payload
        # Display actions and tool runs happened, whichever session they belong to.
        changes = self._record_event(message, retained)
        switched = self._follow_session(
            message.session_id, payload.timestamp, replayed=retained
        )
        if switched is None:
            return changes
        changes |= switched
        if payload.timestamp is not None and (
            self.session_time is None or payload.timestamp > self.session_time
        ):
            self.session_time = payload.timestamp
        mark = Mark(payload.timestamp, received, now, retained)
        self.turns.observe(message, now=now, received=received, replayed=retained)
        if (aspect := self._apply_to_session(message, mark)) is not None:
            changes.add(aspect)
        if isinstance(payload, StateUpdate) and payload.state == IDLE:
            changes |= self._end_turn(Outcome.COMPLETED)
        self._refresh_deadline(now)
        return changes

    def _record_event(self, message: VoiceMessage, retained: bool) -> set[RoomAspect]:
        payload = message.payload
        if isinstance(payload, DisplayAction):
            self.display_action = RoomEvent(
                message.session_id,
                {"type": payload.action_type, "data": payload.data},
                payload.timestamp,
                retained,
            )
            return {RoomAspect.DISPLAY_ACTION}
        if isinstance(payload, ToolExecuted):
            self.tool_executed = RoomEvent(
                message.session_id,
                {"tool_name": payload.tool_name, "success": payload.success},
                payload.timestamp,
                retained,
                payload.success,
            )
            return {RoomAspect.TOOL_EXECUTED}
        return set()

    def _apply_to_session(self, message: VoiceMessage, mark: Mark) -> RoomAspect | None:
        """Apply a message of the current session; return what it changed."""
        payload = message.payload
        match payload:
            case StateUpdate():
                if payload.state == self.state:
                    return None
                self.state = payload.state
                self.state_changed = moment(mark)
                return RoomAspect.STATE
            case Transcript():
                if self._apply_transcript(message.session_id, payload):
                    return RoomAspect.TRANSCRIPT
                return None
            case Response():
                self.response = ResponseState(message.session_id)
                self.response.append(payload.text)
                return RoomAspect.RESPONSE
            case StreamStart():
                self.response = ResponseState(message.session_id, streaming=True)
                return RoomAspect.RESPONSE
            case StreamChunk():
                self._append_chunk(message.session_id, payload.chunk)
                return RoomAspect.RESPONSE
            case StreamComplete():
                return RoomAspect.RESPONSE if self._stop_streaming() else None
            case OverlayHint():
                if payload.keep_open == self.keep_open:
                    return None
                self.keep_open = payload.keep_open
                return RoomAspect.OVERLAY
            case _:
                return None  # events were recorded before

    def _append_chunk(self, session_id: str, chunk: str) -> None:
        response = self.response
        if (
            response is None
            or not response.streaming
            or response.session_id != session_id
        ):
            # The start was before we listened: begin where we joined.
            response = self.response = ResponseState(session_id, streaming=True)
        response.append(chunk)

    def expire(self, now: float, at: datetime) -> set[RoomAspect]:
        """End a session that went quiet before finishing; return what changed."""
        if self.deadline is None or now < self.deadline:
            return set()
        self.deadline = None
        changes = self._end_turn(Outcome.TIMED_OUT, Mark(None, at, now))
        if self.active:
            self.state = IDLE
            self.state_changed = at
            changes.add(RoomAspect.STATE)
        if self._stop_streaming():
            changes.add(RoomAspect.RESPONSE)
        return changes

    def _end_turn(self, outcome: Outcome, end: Mark | None = None) -> set[RoomAspect]:
        """Close the turn under way, with what was heard and answered in it."""
        session = self.turns.session_id
        transcript, response = self.transcript, self.response
        heard = (
            transcript.text
            if transcript is not None
            and transcript.session_id == session
            and transcript.stage is not TranscriptStage.INTERIM
            else None
        )
        answer = (
            response.text
            if response is not None and response.session_id == session
            else None
        )
        turn = self.turns.finish(outcome, heard=heard, answer=answer, end=end)
        if turn is None:
            return set()
        self.last_turn = turn
        return {RoomAspect.TURN}

    def _follow_session(
        self, session_id: str, timestamp: datetime | None, *, replayed: bool
    ) -> set[RoomAspect] | None:
        """Make session_id current if it is the latest; None if it is not.

        A new session heard live is the latest, whatever its timestamps say:
        the backend's two services stamp two clocks, which differ by a second
        or more and are stepped back now and then. Timestamps decide only
        between replayed messages (the broker's store, in any order).
        """
        if session_id == self.session_id:
            return set()
        if session_id in self._ended_sessions:
            return None
        if (
            replayed
            and timestamp is not None
            and self.session_time is not None
            and timestamp < self.session_time
        ):
            # An older session replayed (retained messages on a (re)connect).
            self._ended_sessions.append(session_id)
            return None
        changes = {RoomAspect.STATE}
        if self.session_id is not None:
            self._ended_sessions.append(self.session_id)
            changes |= self._end_turn(Outcome.INTERRUPTED)
        self.session_id = session_id
        self.session_time = None
        if self.keep_open is not None:
            self.keep_open = None
            changes.add(RoomAspect.OVERLAY)
        if self._stop_streaming():
            changes.add(RoomAspect.RESPONSE)
        return changes

    def _apply_transcript(self, session_id: str, new: Transcript) -> bool:
        current = self.transcript
        if current is not None and current.session_id == session_id:
            newer = (
                new.timestamp is not None
                and current.timestamp is not None
                and new.timestamp > current.timestamp
            )
            older = (
                new.timestamp is not None
                and current.timestamp is not None
                and new.timestamp < current.timestamp
            )
            if older:
                return False
            if _STAGE_RANK[new.stage] < _STAGE_RANK[current.stage] and not newer:
                # A late interim never overwrites a final; a final never a refined.
                return False
            if (
                new.stage is current.stage is TranscriptStage.INTERIM
                and new.sequence is not None
                and current.sequence is not None
                and new.sequence <= current.sequence
                and not newer
            ):
                return False
        self.transcript = TranscriptState(
            session_id,
            new.text,
            new.stage,
            new.sequence,
            new.confidence,
            new.timestamp,
        )
        return True

    def _stop_streaming(self) -> bool:
        if self.response is None or not self.response.streaming:
            return False
        self.response.streaming = False
        return True

    def _refresh_deadline(self, now: float) -> None:
        streaming = self.response is not None and self.response.streaming
        waiting = self.active or streaming or self.turns.open
        self.deadline = now + QUIET_TIMEOUT if waiting else None
