"""Media players: a voice device that plays, driven alone or through its session.

A device gets its player once it plays (models/device.py). Its session is its
group: the players of every device whose status names the same session, and
play, pause, stop and seek go to the session, so every member follows, as the
fleet's admin panels drive it (protocol.md section 4).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, override

from homeassistant.components.media_player import (
    MediaPlayerEntity,
    MediaPlayerEntityDescription,
)
from homeassistant.components.media_player.const import (
    MediaPlayerEntityFeature,
    MediaPlayerState,
)
from homeassistant.const import STATE_UNAVAILABLE, Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.util.ulid import ulid_now

from .const import DOMAIN, PLAYER_KEY, Scope
from .dispatch.timers import wall_clock
from .entity import HubEntityDescription, VoiceMqttEntity, async_add_hub_entities
from .hub import VoiceMqttConfigEntry
from .models.device import Device, DeviceAspect
from .protocol import IDLE, PAUSED, PLAYING, milliseconds
from .services import async_send_command, invalid

# Entities only read the hub's models; commands go out on MQTT one at a time
# per call, acknowledged by the broker: no limit is needed.
PARALLEL_UPDATES = 0

# How a device's status shows; any other status is on (the device is up and
# says something the media player has no word for).
_STATES: Final = {
    PLAYING: MediaPlayerState.PLAYING,
    PAUSED: MediaPlayerState.PAUSED,
    IDLE: MediaPlayerState.IDLE,
    "buffering": MediaPlayerState.BUFFERING,
}
# A new session's id: one topic level, unique, sortable by when it was made.
SESSION_PREFIX: Final = "S_"


@dataclass(frozen=True, kw_only=True)
class VoiceMqttMediaPlayerDescription(
    MediaPlayerEntityDescription, HubEntityDescription
):
    """The media player of a device that plays."""


PLAYER = VoiceMqttMediaPlayerDescription(
    key=PLAYER_KEY,
    translation_key=PLAYER_KEY,
    # The device's main feature: it takes the device's name.
    name=None,
    # Its status (state, position, duration, session), and its session's
    # members coming and going.
    aspects=(DeviceAspect.STATUS, DeviceAspect.GROUP),
    exists_fn=lambda _hub, device: device.plays,
)


class VoiceMqttMediaPlayer(VoiceMqttEntity[Device], MediaPlayerEntity):
    """A voice device that plays media; its session is its group."""

    platform_domain = Platform.MEDIA_PLAYER

    entity_description: VoiceMqttMediaPlayerDescription
    _attr_supported_features = (
        MediaPlayerEntityFeature.PLAY
        | MediaPlayerEntityFeature.PAUSE
        | MediaPlayerEntityFeature.STOP
        | MediaPlayerEntityFeature.SEEK
        | MediaPlayerEntityFeature.GROUPING
    )
    # The wall-clock moment of the status heard at a monotonic moment: worked
    # out once per status, not at every write (so the attribute holds still).
    _position_moment: tuple[float, datetime] | None = None

    @property
    @override
    def state(self) -> MediaPlayerState | None:
        """Show the status: unknown until a status is heard."""
        if (status := self.model.status) is None:
            return None
        return _STATES.get(status, MediaPlayerState.ON)

    # Home Assistant annotates positions and durations as whole seconds; its
    # frontend and its attributes take a fraction, which keeps the device's
    # milliseconds (a whole second off would make every progress bar lag).
    @property
    @override
    def media_position(self) -> float | None:  # type: ignore[override]
        """Return the position the status carried, in seconds."""
        position = self.model.position_ms
        return None if position is None else position / 1000

    @property
    @override
    def media_duration(self) -> float | None:  # type: ignore[override]
        """Return how long what plays lasts, in seconds, when the status says."""
        duration = self.model.duration_ms
        return None if duration is None else duration / 1000

    @property
    @override
    def media_position_updated_at(self) -> datetime | None:
        """Return when the status that carried the position was received."""
        heard = self.model.status_heard
        if heard is None or self.model.position_ms is None:
            return None
        if self._position_moment is None or self._position_moment[0] != heard:
            self._position_moment = (heard, wall_clock(self.hass, heard))
        return self._position_moment[1]

    @property
    @override
    def group_members(self) -> list[str] | None:
        """Return the players of the device's session, this one included.

        Sorted by entity id, so every member lists the same group in the same
        order: Home Assistant takes the first as the group's leader, and a
        session has none. A device in no session is in no group.
        """
        if (session := self.hub.sessions.session_of(self.object_id)) is None:
            return None
        players = (
            self.hub.registry.enabled_entity_id(
                Scope.DEVICE, member, Platform.MEDIA_PLAYER, PLAYER_KEY
            )
            for member in self.hub.sessions.members(session)
        )
        return sorted(player for player in players if player is not None)

    @override
    async def async_added_to_hass(self) -> None:
        """Join the group shown by the rest of the device's session."""
        await super().async_added_to_hass()
        if (session := self.hub.sessions.session_of(self.object_id)) is not None:
            self.hub.group_writes.changed(
                self.hub.sessions.members(session) - {self.object_id}
            )

    @override
    async def async_media_play(self) -> None:
        """Play, the device or its whole session."""
        await self._command("play")

    @override
    async def async_media_pause(self) -> None:
        """Pause, the device or its whole session."""
        await self._command("pause")

    @override
    async def async_media_stop(self) -> None:
        """Stop, the device or its whole session."""
        await self._command("stop")

    @override
    async def async_media_seek(self, position: float) -> None:
        """Go to position (seconds): playing on from there, or paused there."""
        try:
            position_ms = milliseconds(position)
        except ValueError as err:
            raise invalid(
                "invalid_seek_position", position=str(position), reason=str(err)
            ) from None
        command = "play" if self.model.status == PLAYING else "pause"
        await self._command(command, positionMs=position_ms)

    async def _command(self, command: str, **fields: Any) -> None:
        """Send a command to the device, or through its session to every member."""
        scheme = self.hub.settings.scheme
        if (session := self.model.session_id) is not None:
            topic = scheme.session_command_topic(session, command)
        else:
            topic = scheme.device_command_topic(self.object_id, command)
        await async_send_command(self.hub, topic, fields)

    @override
    async def async_join_players(self, group_members: list[str]) -> None:
        """Bring group_members into this device's session (made if it has none).

        Every member is checked before anything is sent: a voice_mqtt player of
        this entry, and available. Members already in the session are left be.
        """
        session = self.model.session_id
        members = {
            member.device_id: member for member in map(self._member, group_members)
        }
        joining = [
            member
            for member in members.values()
            if member is not self.model
            and (session is None or member.session_id != session)
        ]
        if not joining:
            return
        if session is None:
            session = f"{SESSION_PREFIX}{ulid_now()}"
            joining.insert(0, self.model)
        scheme = self.hub.settings.scheme
        for member in joining:
            await async_send_command(
                self.hub,
                scheme.device_command_topic(member.device_id, "join"),
                {"sessionId": session},
            )

    def _member(self, entity_id: str) -> Device:
        """Return the device of a player to join, or raise saying why not."""
        entity = self.platform.entities.get(entity_id)
        if isinstance(entity, VoiceMqttMediaPlayer):
            state = self.hass.states.get(entity_id)
            if state is None or state.state == STATE_UNAVAILABLE:
                raise invalid("join_unavailable", entity=entity_id)
            return entity.model
        registry_entry = er.async_get(self.hass).async_get(entity_id)
        if (
            registry_entry is None
            or registry_entry.platform != DOMAIN
            or registry_entry.domain != Platform.MEDIA_PLAYER
        ):
            raise invalid("join_not_a_player", entity=entity_id)
        if registry_entry.config_entry_id != self.hub.entry.entry_id:
            raise invalid(
                "join_other_entry", entity=entity_id, entry=self.hub.entry.title
            )
        # Ours, but not made: disabled, or its device is gone.
        raise invalid("join_unavailable", entity=entity_id)

    @override
    async def async_unjoin_player(self) -> None:
        """Take the device out of its session."""
        topic = self.hub.settings.scheme.device_command_topic(self.object_id, "leave")
        await async_send_command(self.hub, topic, {})


async def async_setup_entry(
    hass: HomeAssistant,
    entry: VoiceMqttConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add a player for each device that plays, and for each that begins to."""
    async_add_hub_entities(
        entry,
        async_add_entities,
        VoiceMqttMediaPlayer,
        device=(PLAYER,),
        device_arrivals=entry.runtime_data.player_arrivals,
    )
