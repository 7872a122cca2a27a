"""The simulated voice backend: conversations in rooms, on one MQTT connection."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from random import Random
import threading
import time

from paho.mqtt.client import (
    Client,
    ConnectFlags,
    DisconnectFlags,
    MQTTMessage,
    MQTTMessageInfo,
)
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from .options import SimulatorOptions
from .runtime import Console, Inbox, Kind, Received, Timers
from .script import (
    ConversationPlan,
    Step,
    plan_conversation,
    room_ids,
    step_messages,
    step_timestamp,
    voice_schemes,
)
from .wire import ms_now, protocol

CLIENT_ID = "voice-sim-backend"
RECEIVER = "backend"
VoiceType = protocol.VoiceType


@dataclass(eq=False, slots=True)
class Conversation:
    """A conversation being played, one timer per step."""

    plan: ConversationPlan
    started: float  # monotonic
    index: int = 0
    chunks: int = 0
    aborted: bool = False
    finished: threading.Event = field(default_factory=threading.Event)
    # The last message published: when the broker acknowledged it, it had
    # every earlier one (QoS 1 messages of one client are acknowledged in order).
    last: MQTTMessageInfo | None = None
    on_done: Callable[[], None] | None = None  # called unless aborted


class Backend:
    """Plays conversations and reports display actions it did not send itself."""

    def __init__(
        self,
        options: SimulatorOptions,
        console: Console,
        inbox: Inbox,
        timers: Timers,
        rng: Random,
    ) -> None:
        """Prepare; nothing is connected before connect()."""
        self._options = options
        self._console = console
        self._inbox = inbox
        self._timers = timers
        self._rng = rng
        self.rooms = room_ids(options.rooms)
        self._schemes = voice_schemes(options.scheme, options.also_legacy)
        self._client = options.broker.new_client(CLIENT_ID)
        self._client.on_connect = self._on_connect
        self._client.on_connect_fail = self._on_connect_fail
        self._client.on_disconnect = self._on_disconnect
        self._client.on_subscribe = self._on_subscribe
        self._client.on_message = self._on_message
        self.ready = threading.Event()
        self.last_error = ""
        self._lock = threading.Lock()
        self._active: set[Conversation] = set()
        # (topic, payload) of display actions sent and not yet heard back.
        self._own_actions: set[tuple[str, bytes]] = set()
        self._subscribe_mid: int | None = None
        self._stopping = False

    # Connection ---------------------------------------------------------------

    def connect(self) -> None:
        """Connect (paho retries until the broker answers)."""
        self._options.broker.connect(self._client)

    def disconnect(self) -> None:
        """Abort conversations and start a clean disconnect; see finish()."""
        self._stopping = True
        with self._lock:
            active, self._active = self._active, set()
        for conversation in active:
            conversation.aborted = True
            conversation.finished.set()
        self._client.disconnect()

    def finish(self) -> None:
        """Wait for paho's thread to end after disconnect()."""
        self._client.loop_stop()

    def _on_connect(
        self,
        client: Client,
        _userdata: object,
        _flags: ConnectFlags,
        reason: ReasonCode,
        _properties: Properties | None,
    ) -> None:
        if reason.is_failure:
            self.last_error = f"the broker refused the connection: {reason}"
            self._console.warn(f"backend: {self.last_error}")
            return
        # The protocol has no filter for one message type, so the backend
        # listens to every voice topic and keeps the display actions.
        _, self._subscribe_mid = client.subscribe(
            [(scheme.voice_filter, 1) for scheme in self._schemes]
        )
        self._console.note(f"backend online, rooms: {', '.join(self.rooms) or 'none'}")

    def _on_connect_fail(self, _client: Client, _userdata: object) -> None:
        self.last_error = "the broker is unreachable"

    def _on_disconnect(
        self,
        _client: Client,
        _userdata: object,
        _flags: DisconnectFlags,
        reason: ReasonCode,
        _properties: Properties | None,
    ) -> None:
        if not self._stopping:
            self._console.warn(f"backend lost its connection ({reason}); retrying")

    def _on_subscribe(
        self,
        _client: Client,
        _userdata: object,
        mid: int,
        _reasons: list[ReasonCode],
        _properties: Properties | None,
    ) -> None:
        if mid == self._subscribe_mid:
            self.ready.set()

    # Display actions from others ------------------------------------------------

    def _on_message(
        self, _client: Client, _userdata: object, message: MQTTMessage
    ) -> None:
        topic = message.topic
        # Most traffic is the backend's own chunks: skip it before parsing.
        if not topic.endswith(f"/{VoiceType.DISPLAY_ACTION}"):
            return
        with self._lock:
            key = (topic, message.payload)
            if key in self._own_actions:
                self._own_actions.discard(key)
                return
        for scheme in self._schemes:
            try:
                parsed = protocol.parse_voice_message(scheme, topic, message.payload)
            except protocol.ProtocolError as err:
                if err.reason is protocol.Rejection.INVALID_TOPIC:
                    continue  # the other layout's topic
                self._console.received(f"backend ignored {topic}: {err}")
                return
            if parsed is None:
                return  # an empty (retained-clearing) payload
            data = protocol.decode_object(message.payload) or {}
            self._inbox.add(Received(Kind.DISPLAY_ACTION, RECEIVER, topic, data))
            self._console.received(
                f"display_action for {parsed.room_id} "
                f"(session {parsed.session_id}): {protocol.encode(data)}"
            )
            return

    # Conversations ------------------------------------------------------------------

    def begin(
        self,
        room_id: str,
        *,
        streamed: bool | None = None,
        chunks: int | None = None,
        on_done: Callable[[], None] | None = None,
        pause: float | None = None,
    ) -> Conversation:
        """Start a conversation in a room; it plays on the timer thread.

        pause, when given, replaces the options' phase_pause for this one
        conversation: a slower or quicker backend.
        """
        if not self._timers.running:
            raise RuntimeError("the simulator is not running")
        options = self._options
        plan = plan_conversation(
            self._rng,
            room_id,
            streamed=streamed,
            chunks=chunks,
            interim_rate=options.interim_rate,
            chunk_rate=options.chunk_rate,
            pause=options.phase_pause if pause is None else pause,
        )
        conversation = Conversation(plan, time.monotonic(), on_done=on_done)
        with self._lock:
            self._active.add(conversation)
        self._console.note(
            f"{room_id}: conversation {plan.session_id} begins "
            f"({plan.intent.action}, "
            f"{'streamed' if plan.streamed else 'single'} response)"
        )
        self._timers.call_at(conversation.started, partial(self._play, conversation))
        return conversation

    def run_conversation(
        self,
        room_id: str,
        *,
        streamed: bool | None = True,
        chunks: int | None = None,
        timeout: float = 10.0,
        pause: float | None = None,
    ) -> str:
        """Play a whole conversation; return its session id once acknowledged.

        Raises:
            TimeoutError: it did not finish within its length plus timeout.
            RuntimeError: the simulator stopped meanwhile.
        """
        conversation = self.begin(
            room_id, streamed=streamed, chunks=chunks, pause=pause
        )
        if not conversation.finished.wait(conversation.plan.duration + timeout):
            raise TimeoutError(f"the conversation in {room_id} did not finish")
        if conversation.aborted:
            raise RuntimeError("the simulator stopped during the conversation")
        if conversation.last is not None:
            conversation.last.wait_for_publish(timeout)
            if not conversation.last.is_published():
                raise TimeoutError("the broker did not acknowledge the conversation")
        return conversation.plan.session_id

    def _play(self, conversation: Conversation) -> None:
        if conversation.aborted:
            return
        plan = conversation.plan
        step = plan.steps[conversation.index]
        stamp = step_timestamp(step, ms_now(), self._options.clock_skew)
        for topic, payload in step_messages(self._schemes, plan, step, stamp):
            encoded = protocol.encode(payload).encode()
            if step.message_type is VoiceType.DISPLAY_ACTION:
                # Noted before publishing: the echo may come back at once.
                with self._lock:
                    self._own_actions.add((topic, encoded))
            conversation.last = self._client.publish(topic, encoded, qos=1)
        self._describe(conversation, step)
        conversation.index += 1
        if conversation.index < len(plan.steps):
            due = conversation.started + plan.steps[conversation.index].at
            self._timers.call_at(due, partial(self._play, conversation))
            return
        with self._lock:
            self._active.discard(conversation)
        conversation.finished.set()
        self._console.note(
            f"{plan.room_id}: conversation {plan.session_id} done in "
            f"{time.monotonic() - conversation.started:.1f} s"
        )
        if conversation.on_done is not None:
            conversation.on_done()

    def _describe(self, conversation: Conversation, step: Step) -> None:
        room = conversation.plan.room_id
        data = step.payload
        match step.message_type:
            case VoiceType.STATE:
                self._console.note(f"{room}: state {data['state']}")
            case VoiceType.TRANSCRIPT_FINAL:
                self._console.note(
                    f"{room}: heard {data['text']!r} ({data['confidence']})"
                )
            case VoiceType.TRANSCRIPT_REFINED:
                self._console.note(f"{room}: refined to {data['text']!r}")
            case VoiceType.DISPLAY_ACTION:
                self._console.note(f"{room}: display_action {data['type']}")
            case VoiceType.TOOL_EXECUTED:
                outcome = "succeeded" if data["success"] else "failed"
                self._console.note(f"{room}: tool {data['tool_name']} {outcome}")
            case VoiceType.RESPONSE:
                self._console.note(f"{room}: says {data['text']!r}")
            case VoiceType.STREAM_CHUNK:
                conversation.chunks += 1
            case VoiceType.STREAM_COMPLETE:
                self._console.note(f"{room}: streamed {conversation.chunks} chunks")
            case VoiceType.OVERLAY_HINT:
                self._console.note(f"{room}: overlay keep_open={data['keep_open']}")
            case _:
                pass  # interim transcripts and the stream start: too many to print

    def start_background(self) -> None:
        """Schedule conversations in every room, if the options ask for them."""
        if self._options.conversation_interval:
            for room_id in self.rooms:
                self._schedule(room_id)

    def _schedule(self, room_id: str) -> None:
        # Jitter keeps rooms from talking in lockstep.
        delay = self._options.conversation_interval * self._rng.uniform(0.5, 1.5)
        self._timers.call_later(delay, partial(self._automatic, room_id))

    def _automatic(self, room_id: str) -> None:
        self.begin(room_id, on_done=partial(self._schedule, room_id))
