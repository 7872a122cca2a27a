"""What the soak's garbage is aimed at: valid topics and the payload for each.

A target is a topic inside one voice_mqtt namespace, the valid payload that
belongs on it and the room or device it names. devkit/fuzz.py spoils the
payload (or the topic) in one way or another. The ids are from a small pool,
so that garbage lands on the same rooms and devices again and again, or new.
Every choice comes from the generator given, in a fixed order: the same seed
aims at the same targets.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
import json
from random import Random
import time
from typing import Any, Final, NamedTuple

from simulator.wire import protocol

VoiceType = protocol.VoiceType
DeviceType = protocol.DeviceTopicType

POOL_ROOMS: Final = 20  # rooms and devices that most garbage is aimed at
POOL_DEVICES: Final = 50


class Target(NamedTuple):
    """A topic, a valid payload for it and what it names."""

    topic: str
    body: dict[str, Any]
    names: tuple[str, str]  # ("room" | "device", id)


class Targets:
    """Picks targets, ids, sessions and timestamps from one seeded generator."""

    def __init__(
        self,
        rng: Random,
        scheme: protocol.TopicScheme,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """Aim inside scheme's namespace; timestamps are read from clock."""
        self.rng = rng
        self.scheme = scheme
        self.clock = clock

    def pick(self, *, fresh: bool = False) -> Target:
        """Return a voice or device target.

        The room or device is one of a small pool, or (fresh) a random new id.
        """
        if self.rng.random() < 0.5:
            room = self.fresh_id() if fresh else self.pool_room()
            message_type = self.rng.choice(list(VoiceType))
            topic = self.scheme.voice_topic(room, self.session(), message_type)
            return Target(topic, self.voice_body(message_type), ("room", room))
        device = self.fresh_id() if fresh else self.pool_device()
        topic_type = self.rng.choice(list(DeviceType))
        topic = self.scheme.device_topic(device, topic_type)
        return Target(topic, self.device_body(topic_type, device), ("device", device))

    def voice_body(self, message_type: protocol.VoiceType) -> dict[str, Any]:
        """Return a valid payload of a voice message of message_type."""
        body: dict[str, Any] = {"timestamp": self.ms()}
        match message_type:
            case VoiceType.STATE:
                body["state"] = self.rng.choice(
                    ("idle", "wake_detected", "listening", "processing", "responding")
                )
            case (
                VoiceType.RESPONSE | VoiceType.TRANSCRIPT | VoiceType.TRANSCRIPT_REFINED
            ):
                body["text"] = "turn on the lights"
            case VoiceType.TRANSCRIPT_INTERIM:
                body.update(text="turn on", sequence=self.rng.randrange(50))
            case VoiceType.TRANSCRIPT_FINAL:
                body.update(text="turn on the lights", confidence=0.85)
            case VoiceType.STREAM_CHUNK:
                body["chunk"] = " lights"
            case VoiceType.DISPLAY_ACTION:
                body.update(type="light_control", data={"room": "kitchen", "on": True})
            case VoiceType.TOOL_EXECUTED:
                body.update(tool_name="control_light", success=True)
            case VoiceType.OVERLAY_HINT:
                body["keep_open"] = True
        return body

    def device_body(
        self, topic_type: protocol.DeviceTopicType, device: str
    ) -> dict[str, Any]:
        """Return a valid payload of device's topic of topic_type."""
        body: dict[str, Any] = {"deviceId": device, "timestamp": self.iso()}
        match topic_type:
            case DeviceType.ANNOUNCE:
                body.update(type="vr", name=f"Fuzz {device}")
            case DeviceType.STATUS:
                body.update(type="vr", status="idle", positionMs=0, sessionId="")
            case DeviceType.HEARTBEAT:
                body.update(type="vr", status="idle")
            case DeviceType.EVENTS:
                body.update(event="button_pressed", button=1)
            case DeviceType.LWT:
                body["status"] = "offline"
            case DeviceType.RESPONSE:
                # An answer nobody waits for: dropped and counted, never a device.
                body.update(messageId=self.fresh_id(), status="success", result={})
        return body

    # Ids, sessions and times -------------------------------------------------

    def fresh_id(self) -> str:
        """Return a new random id, of the forms fleets use; valid, mostly new."""
        rng = self.rng
        match rng.randrange(5):
            case 0:
                return f"VR_{rng.randrange(10**6):06d}"
            case 1:
                return ":".join(f"{rng.randrange(256):02x}" for _ in range(6))
            case 2:
                return f"{rng.getrandbits(128):032x}"
            case 3:
                word = rng.choice(("кухня", "客厅", "salle_à_manger", "🙂"))
                return f"{word}_{rng.randrange(1000)}"
            case _:
                return f"room {rng.randrange(10**5)} $x"

    def pool_room(self) -> str:
        """Return one of the pool's rooms."""
        return f"fuzz_room_{self.rng.randrange(POOL_ROOMS)}"

    def pool_device(self) -> str:
        """Return one of the pool's devices."""
        return f"FUZZ_{self.rng.randrange(POOL_DEVICES):03d}"

    def session(self) -> str:
        """Return a new random session id."""
        return f"{self.rng.getrandbits(64):016x}"

    def ms(self) -> int:
        """Return the clock's time in epoch milliseconds (voice timestamps)."""
        return int(self.clock() * 1000)

    def iso(self) -> str:
        """Return the clock's time as ISO 8601 in UTC (device timestamps)."""
        moment = datetime.fromtimestamp(self.clock(), UTC)
        return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def dump(body: dict[str, Any]) -> bytes:
    """Return body as a JSON payload."""
    # ensure_ascii keeps lone surrogates as \ud800 escapes: valid JSON.
    return json.dumps(body).encode()
