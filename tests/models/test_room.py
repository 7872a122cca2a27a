"""The pure room model: sessions, transcripts, streams, events and timeouts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from custom_components.voice_mqtt.models.room import (
    MAX_RESPONSE_CHARS,
    QUIET_TIMEOUT,
    Room,
    RoomAspect,
)
from custom_components.voice_mqtt.protocol import (
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
    VoicePayload,
    VoiceType,
)

T0 = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)
TYPES = {
    StateUpdate: VoiceType.STATE,
    Transcript: VoiceType.TRANSCRIPT_FINAL,
    Response: VoiceType.RESPONSE,
    StreamStart: VoiceType.STREAM_START,
    StreamChunk: VoiceType.STREAM_CHUNK,
    StreamComplete: VoiceType.STREAM_COMPLETE,
    DisplayAction: VoiceType.DISPLAY_ACTION,
    ToolExecuted: VoiceType.TOOL_EXECUTED,
    OverlayHint: VoiceType.OVERLAY_HINT,
}


def apply(
    room: Room, payload: VoicePayload, session: str = "S1", now: float = 0.0
) -> set[RoomAspect]:
    message = VoiceMessage(room.room_id, session, TYPES[type(payload)], payload)
    return room.apply(message, now=now, received=T0)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_state_changes_notify_once() -> None:
    room = Room("salon")
    assert room.state is None
    assert not room.active
    assert apply(room, StateUpdate("listening", at(-0.2))) == {RoomAspect.STATE}
    assert room.active
    assert room.state_changed == at(-0.2), "stamped 0.2 s before it came: believed"
    assert apply(room, StateUpdate("listening", at(2))) == set()
    assert room.state_changed == at(-0.2), "no change, no new change time"
    assert apply(room, StateUpdate("processing", at(-5))) == {RoomAspect.STATE}
    assert room.state_changed == T0, "5 s off: another clock, not believed"
    # Back to idle: the turn is over too.
    assert apply(room, StateUpdate("idle")) == {RoomAspect.STATE, RoomAspect.TURN}
    assert room.state_changed == T0, "received time when the message has none"
    assert not room.active


def test_a_new_session_becomes_current() -> None:
    room = Room("salon")
    apply(room, StateUpdate("idle", at(1)), "S1")
    apply(room, OverlayHint(True, at(2)), "S1")
    assert room.keep_open is True
    changes = apply(room, StateUpdate("wake_detected", at(10)), "S2")
    assert changes == {RoomAspect.STATE, RoomAspect.OVERLAY}
    assert room.session_id == "S2"
    assert room.keep_open is None, "a hint holds for its session only"


def test_an_ended_session_cannot_come_back() -> None:
    room = Room("salon")
    apply(room, StateUpdate("listening", at(1)), "S1")
    apply(room, StateUpdate("listening", at(10)), "S2")
    assert apply(room, StateUpdate("idle", at(11)), "S1") == set()
    assert (room.session_id, room.state) == ("S2", "listening")


def replay(room: Room, payload: VoicePayload, session: str = "S1") -> set[RoomAspect]:
    """Deliver a message from the broker's store, as on a (re)connect."""
    message = VoiceMessage(room.room_id, session, TYPES[type(payload)], payload)
    return room.apply(message, now=0.0, received=T0, retained=True)


def test_an_older_session_replayed_does_not_take_over() -> None:
    room = Room("salon")
    apply(room, StateUpdate("processing", at(100)), "S2")
    assert replay(room, StateUpdate("idle", at(5)), "S1") == set()
    assert room.session_id == "S2"
    # A newer one replayed does; so does one without timestamps (the later
    # arrival is the latest session), and either ends the turn before it.
    assert replay(room, StateUpdate("listening", at(200)), "S3") == {
        RoomAspect.STATE,
        RoomAspect.TURN,
    }
    assert apply(room, StateUpdate("idle"), "S4") == {RoomAspect.STATE, RoomAspect.TURN}
    assert room.session_id == "S4"


def test_replays_in_any_order_leave_the_newest_session() -> None:
    room = Room("salon")
    replay(room, StateUpdate("listening", at(300)), "S3")
    replay(room, StateUpdate("idle", at(100)), "S1")
    replay(room, StateUpdate("processing", at(200)), "S2")
    assert (room.session_id, room.state) == ("S3", "listening")


@pytest.mark.parametrize("behind", [1.0, 3600.0])
def test_a_new_session_heard_live_takes_over_whatever_its_clock(
    behind: float,
) -> None:
    """Its service's clock is behind the last session's newest timestamp."""
    room = Room("salon")
    apply(room, StateUpdate("processing", at(100)), "S1")
    apply(room, StateUpdate("idle", at(101)), "S1")
    changes = apply(room, StateUpdate("wake_detected", at(101.5 - behind)), "S2")
    assert RoomAspect.STATE in changes
    assert (room.session_id, room.state) == ("S2", "wake_detected")


def test_events_fire_whatever_the_session() -> None:
    room = Room("salon")
    apply(room, StateUpdate("listening", at(1)), "S1")
    apply(room, StateUpdate("listening", at(10)), "S2")
    changes = apply(room, DisplayAction("clock", {"tz": "UTC"}, at(1)), "S1")
    assert changes == {RoomAspect.DISPLAY_ACTION}
    assert room.display_action is not None
    assert room.display_action.attributes == {"type": "clock", "data": {"tz": "UTC"}}
    assert room.display_action.session_id == "S1"
    assert apply(room, ToolExecuted("control_light", False), "S2") == {
        RoomAspect.TOOL_EXECUTED
    }
    assert room.tool_executed is not None
    assert not room.tool_executed.success
    assert room.tool_executed.attributes == {
        "tool_name": "control_light",
        "success": False,
    }


def transcript(
    text: str,
    stage: TranscriptStage,
    seconds: float | None = None,
    sequence: int | None = None,
) -> Transcript:
    return Transcript(
        text, stage, sequence, None, None if seconds is None else at(seconds)
    )


def test_refined_replaces_final_and_late_interims_are_ignored() -> None:
    room = Room("salon")
    interim, final, refined = (
        TranscriptStage.INTERIM,
        TranscriptStage.FINAL,
        TranscriptStage.REFINED,
    )
    assert apply(room, transcript("turn", interim, 1, 1))
    assert apply(room, transcript("turn on", interim, 2, 2))
    assert not apply(room, transcript("turn", interim, 1.5, 1)), "older interim"
    assert not apply(room, transcript("turn", interim, None, 1)), "lower sequence"
    assert apply(room, transcript("turn on lights", final, 3))
    assert not apply(room, transcript("turn on", interim, 2.5, 3)), "late interim"
    assert not apply(room, transcript("turn on", interim, None, 4))
    assert apply(room, transcript("Turn on the lights", refined, 4))
    assert not apply(room, transcript("turn on lights", final, 3)), (
        "final after refined"
    )
    assert room.transcript is not None
    assert (room.transcript.text, room.transcript.stage) == (
        "Turn on the lights",
        refined,
    )
    # A newer utterance in the same session starts over.
    assert apply(room, transcript("and", interim, 10, 1))
    # Another session's transcript is always news.
    assert apply(room, transcript("hello", interim, None, 1), "S2")


def test_response_and_stream_assembly() -> None:
    room = Room("salon")
    # The first message of a session also changes the session shown.
    assert apply(room, Response("Done.")) == {RoomAspect.STATE, RoomAspect.RESPONSE}
    assert room.response is not None
    assert (room.response.text, room.response.streaming) == ("Done.", False)
    assert apply(room, StreamStart()) == {RoomAspect.RESPONSE}
    assert (room.response.text, room.response.streaming) == ("", True)
    for chunk in ("Turning", " on", " the", " the", " lights"):
        assert apply(room, StreamChunk(chunk)) == {RoomAspect.RESPONSE}
    assert room.response.text == "Turning on the the lights"
    assert apply(room, StreamComplete()) == {RoomAspect.RESPONSE}
    assert room.response.streaming is False
    assert apply(room, StreamComplete()) == set(), "complete twice changes nothing"


def test_a_chunk_without_its_start_begins_the_stream() -> None:
    room = Room("salon")
    apply(room, Response("old answer"))
    apply(room, StreamChunk("joined"))
    assert room.response is not None
    assert (room.response.text, room.response.streaming) == ("joined", True)


def test_a_new_session_ends_the_old_stream() -> None:
    room = Room("salon")
    apply(room, StreamStart(), "S1")
    apply(room, StreamChunk("half"), "S1")
    changes = apply(room, StateUpdate("listening"), "S2")
    assert RoomAspect.RESPONSE in changes
    assert room.response is not None
    assert (room.response.text, room.response.streaming) == ("half", False)


def test_an_assembled_answer_stops_growing() -> None:
    room = Room("salon")
    apply(room, StreamStart())
    chunk = "x" * 1000
    for _ in range(MAX_RESPONSE_CHARS // 1000 + 5):
        apply(room, StreamChunk(chunk))
    assert room.response is not None
    assert len(room.response.text) == MAX_RESPONSE_CHARS
    assert room.response.truncated


def test_quiet_sessions_end() -> None:
    room = Room("salon")
    apply(room, StateUpdate("responding"), now=0)
    apply(room, StreamStart(), now=10)
    assert room.deadline == 10 + QUIET_TIMEOUT
    assert room.expire(10 + QUIET_TIMEOUT - 1, T0) == set()
    assert room.expire(10 + QUIET_TIMEOUT, at(70)) == {
        RoomAspect.STATE,
        RoomAspect.RESPONSE,
        RoomAspect.TURN,
    }
    assert (room.state, room.state_changed) == ("idle", at(70))
    assert room.response is not None
    assert not room.response.streaming
    assert room.deadline is None
    assert room.expire(1000, T0) == set()


def test_idle_rooms_have_no_deadline_and_streams_alone_keep_one() -> None:
    room = Room("salon")
    apply(room, StateUpdate("idle"), now=0)
    assert room.deadline is None
    apply(room, StreamStart(), now=5)
    assert room.deadline == 5 + QUIET_TIMEOUT
    # Expiry of a stream alone leaves the idle state alone (and ends its turn).
    assert room.expire(100, T0) == {RoomAspect.RESPONSE, RoomAspect.TURN}
