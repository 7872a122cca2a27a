"""Turns: one per conversation, with what was heard and answered, and how fast."""

from __future__ import annotations

from datetime import datetime

import pytest

from custom_components.voice_mqtt.models.room import QUIET_TIMEOUT, Room, RoomAspect
from custom_components.voice_mqtt.models.turn import (
    MAX_RECORDED,
    Mark,
    Outcome,
    ToolRun,
    TurnRecorder,
    moment,
    seconds_between,
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

from .test_room import TYPES, at


def feed(
    room: Room, payload: VoicePayload, now: float, session: str = "S1"
) -> set[RoomAspect]:
    message = VoiceMessage(room.room_id, session, TYPES[type(payload)], payload)
    return room.apply(message, now=now, received=at(now))


def conversation(
    room: Room,
    *,
    stamped: bool,
    session: str = "S1",
    start: float = 0.0,
    gateway: float = 0.0,
    wake_word: float = 0.0,
) -> None:
    """The protocol's typical command, with backend timestamps or without.

    Received at start + the step's time; the gateway and the wake-word service
    stamp it with their own clocks, gateway and wake_word seconds off Home
    Assistant's.
    """

    def ts(seconds: float, skew: float) -> datetime | None:
        return at(start + seconds + skew) if stamped else None

    def heard(seconds: float) -> datetime | None:  # the wake-word service
        return ts(seconds, wake_word)

    def said(seconds: float) -> datetime | None:  # the AI gateway
        return ts(seconds, gateway)

    steps: list[tuple[float, VoicePayload]] = [
        (0.0, StateUpdate("wake_detected", heard(0))),
        (0.5, Transcript("turn on", TranscriptStage.INTERIM, timestamp=heard(0.5))),
        (
            1.0,
            Transcript("turn on lights", TranscriptStage.FINAL, timestamp=heard(1.0)),
        ),
        (1.1, StateUpdate("processing", said(1.1))),
        (
            1.5,
            Transcript(
                "Turn on the lights", TranscriptStage.REFINED, timestamp=heard(1.5)
            ),
        ),
        (1.6, DisplayAction("light_control", {}, said(1.6))),
        (1.7, ToolExecuted("control_light", True, said(1.7))),
        (1.8, StateUpdate("responding", said(1.8))),
        (2.0, StreamStart(said(2.0))),
        (2.2, StreamChunk("Turning", said(2.2))),
        (2.3, StreamChunk(" on the lights", said(2.3))),
        (2.4, StreamComplete(said(2.4))),
        (3.0, StateUpdate("idle", said(3.0))),
    ]
    for now, payload in steps:
        feed(room, payload, start + now, session)


def test_a_conversation_is_one_turn_timed_on_the_backends_clock() -> None:
    room = Room("kitchen")
    # Delivered 0.2 s after the backend stamped each message: its clock is
    # believed, and it says when things happened.
    conversation(room, stamped=True, gateway=-0.2, wake_word=-0.2)
    turn = room.last_turn
    assert turn is not None
    assert (turn.room_id, turn.session_id, turn.outcome) == (
        "kitchen",
        "S1",
        Outcome.COMPLETED,
    )
    assert turn.heard == "Turn on the lights", "refined, else final"
    assert turn.answer == "Turning on the lights"
    assert turn.tools == (ToolRun("control_light", True),)
    assert turn.display_actions == ("light_control",)
    assert (turn.started, turn.ended) == (at(-0.2), at(2.8))
    # From the final transcript to the first chunk; the whole turn.
    assert turn.response_time is not None
    assert round(turn.response_time, 3) == 1.2
    assert turn.duration == 3.0


def test_a_backend_clock_far_from_home_assistants_dates_turns_on_receipt() -> None:
    room = Room("kitchen")
    conversation(room, stamped=True, gateway=100, wake_word=100)
    turn = room.last_turn
    assert turn is not None
    assert (turn.started, turn.ended) == (at(0), at(3)), "not 100 s in the future"
    assert turn.response_time is not None
    assert round(turn.response_time, 3) == 1.2, "one clock at both ends"
    assert turn.duration == 3.0


def test_without_timestamps_turns_are_timed_on_receipt() -> None:
    room = Room("kitchen")
    conversation(room, stamped=False)
    turn = room.last_turn
    assert turn is not None
    assert (turn.started, turn.ended) == (at(0), at(3))
    assert turn.response_time is not None
    assert round(turn.response_time, 3) == 1.2
    assert turn.duration == 3.0


@pytest.mark.parametrize("skew", [-1.0, 1.0, -3600.0])
def test_two_services_on_two_clocks_time_the_turn_on_receipt(skew: float) -> None:
    """What was heard is stamped by the wake-word service, the answer by the gateway."""
    room = Room("kitchen")
    conversation(room, stamped=True, wake_word=skew)
    turn = room.last_turn
    assert turn is not None
    assert turn.response_time is not None
    assert round(turn.response_time, 3) == 1.2, "not 1.2 - skew"
    assert turn.duration == 3.0
    assert turn.started == at(0), "the wake-word's clock is not believed"
    assert turn.ended == at(3), "the gateway's is"


@pytest.mark.parametrize("skew", [-1.0, 1.0])
def test_back_to_back_sessions_on_two_clocks_are_both_followed(skew: float) -> None:
    """The next wake word comes within the clocks' difference of the last answer."""
    room = Room("kitchen")
    conversation(room, stamped=True, wake_word=skew, session="S1")
    conversation(room, stamped=True, wake_word=skew, session="S2", start=3.2)
    assert room.last_turn is not None
    assert (room.last_turn.session_id, room.last_turn.outcome) == (
        "S2",
        Outcome.COMPLETED,
    )
    assert room.last_turn.heard == "Turn on the lights"


def test_a_clock_stepped_back_an_hour_between_turns_loses_no_turn() -> None:
    room = Room("kitchen")
    turns = []
    conversation(room, stamped=True, session="S1")
    turns.append(room.last_turn)
    # NTP, or a restored VM: the backend's clock is an hour behind from now on.
    conversation(
        room, stamped=True, session="S2", start=10, gateway=-3600, wake_word=-3600
    )
    turns.append(room.last_turn)
    assert [turn.session_id for turn in turns if turn is not None] == ["S1", "S2"]
    second = turns[1]
    assert second is not None
    assert (second.started, second.duration) == (at(10), 3.0)
    assert room.state == "idle"


def test_the_turn_ends_with_the_idle_state_and_says_so() -> None:
    room = Room("kitchen")
    assert feed(room, StateUpdate("listening"), 0) == {RoomAspect.STATE}
    assert room.last_turn is None
    assert feed(room, StateUpdate("idle"), 1) == {RoomAspect.STATE, RoomAspect.TURN}
    assert room.last_turn is not None
    assert room.last_turn.response_time is None, "nothing was answered"
    assert feed(room, StateUpdate("idle"), 2) == set(), "idle again: no new turn"


def test_an_error_turn() -> None:
    room = Room("kitchen")
    feed(room, StateUpdate("listening"), 0)
    feed(room, StateUpdate("error"), 1)
    feed(room, StateUpdate("idle"), 2)
    assert room.last_turn is not None
    assert room.last_turn.outcome is Outcome.ERROR


def test_a_quiet_turn_times_out() -> None:
    room = Room("kitchen")
    feed(room, StateUpdate("listening"), 0)
    feed(room, Transcript("hello", TranscriptStage.FINAL), 1)
    assert room.expire(1 + QUIET_TIMEOUT, at(61)) == {RoomAspect.STATE, RoomAspect.TURN}
    turn = room.last_turn
    assert turn is not None
    assert (turn.outcome, turn.heard, turn.ended) == (
        Outcome.TIMED_OUT,
        "hello",
        at(61),
    )
    assert turn.duration == 1 + QUIET_TIMEOUT


def test_a_transcript_alone_opens_a_turn_that_times_out() -> None:
    room = Room("kitchen")
    feed(room, StateUpdate("idle"), 0)
    feed(room, Transcript("hm", TranscriptStage.INTERIM), 1)
    assert room.deadline == 1 + QUIET_TIMEOUT, "an open turn keeps a deadline"
    assert room.expire(1 + QUIET_TIMEOUT, at(61)) == {RoomAspect.TURN}
    assert room.last_turn is not None
    assert room.last_turn.heard is None, "an interim is not what was heard"


def test_a_new_session_interrupts_the_turn_before() -> None:
    room = Room("kitchen")
    feed(room, StateUpdate("listening"), 0, "S1")
    feed(room, Response("half an answer"), 1, "S1")
    changes = feed(room, StateUpdate("listening"), 2, "S2")
    assert RoomAspect.TURN in changes
    turn = room.last_turn
    assert turn is not None
    assert (turn.session_id, turn.outcome) == ("S1", Outcome.INTERRUPTED)
    assert turn.answer == "half an answer"
    feed(room, StateUpdate("idle"), 3, "S2")
    assert room.last_turn is not None
    assert room.last_turn.session_id == "S2"


def test_an_overlay_hint_alone_is_no_conversation() -> None:
    room = Room("kitchen")
    feed(room, OverlayHint(True), 0)
    assert not room.turns.open


def test_tools_and_panels_are_bounded() -> None:
    recorder = TurnRecorder("kitchen")
    for index in range(MAX_RECORDED + 5):
        for payload, message_type in (
            (ToolExecuted(f"t{index}", True), VoiceType.TOOL_EXECUTED),
            (DisplayAction(f"p{index}", {}), VoiceType.DISPLAY_ACTION),
        ):
            message = VoiceMessage("kitchen", "S1", message_type, payload)
            recorder.observe(message, now=index, received=at(index))
    turn = recorder.finish(Outcome.COMPLETED, heard=None, answer=None)
    assert turn is not None
    assert (len(turn.tools), len(turn.display_actions)) == (MAX_RECORDED, MAX_RECORDED)
    assert recorder.finish(Outcome.COMPLETED, heard=None, answer=None) is None


def test_a_backend_clock_that_runs_backwards_falls_back_to_receipt() -> None:
    start = Mark(at(10), at(0), 0.0)
    end = Mark(at(5), at(2), 2.0)
    assert seconds_between(start, end) == 2.0
    assert seconds_between(Mark(None, at(0), 5.0), Mark(None, at(0), 1.0)) == 0.0


def test_the_payloads_clock_is_believed_within_half_a_second() -> None:
    start = Mark(at(0), at(0), 0.0)
    assert seconds_between(start, Mark(at(2.4), at(2), 2.0)) == 2.4, "0.4 s off"
    assert seconds_between(start, Mark(at(2.6), at(2), 2.0)) == 2.0, "0.6 s off"
    assert moment(Mark(at(0.5), at(0), 0.0)) == at(0.5)
    assert moment(Mark(at(0.6), at(0), 0.0)) == at(0)


def test_replayed_messages_are_timed_on_their_payloads() -> None:
    """Replayed at once on a reconnect: their receipt says nothing of when."""
    start = Mark(at(0), at(100), 100.0, replayed=True)
    end = Mark(at(5), at(100), 100.001, replayed=True)
    assert seconds_between(start, end) == 5.0
    assert moment(start) == at(0)
