"""Service actions: ws_start, display_action, send_command, get_history.

Registered once in async_setup, for every entry. Every failure is raised as a
translated error, and nothing fails silently: a call names its entry and its
room or device (by id, or picked in the UI as a registry device), every field
that reaches a topic is checked to be one topic level, and each publish waits
for the broker's acknowledgement.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
import logging
from typing import Any, Final

from homeassistant.components import mqtt
from homeassistant.core import (
    HomeAssistant,
    ServiceCall,
    ServiceResponse,
    SupportsResponse,
    callback,
)
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import (
    area_registry as ar,
    config_validation as cv,
    device_registry as dr,
    service,
)
from homeassistant.util import dt as dt_util
from homeassistant.util.json import JsonValueType
from homeassistant.util.ulid import ulid_now

from .compat import vol
from .const import ATTR_CONFIG_ENTRY_ID, DOMAIN, Scope
from .fleet.answers import MessageIdInUseError, NoLongerListeningError
from .hub import VoiceMqttConfigEntry, VoiceMqttHub
from .protocol import (
    MAX_NAME_LENGTH,
    MAX_PAYLOAD_BYTES,
    IdentifierError,
    ProtocolError,
    VoiceType,
    check_storable,
    command_payload,
    display_action_payload,
    encode,
    is_websocket_url,
    normalize_mac,
    validate_identifier,
    ws_start_payload,
)
from .registry.devices import mac_of

_LOGGER = logging.getLogger(__name__)

SERVICE_WS_START: Final = "ws_start"
SERVICE_DISPLAY_ACTION: Final = "display_action"
SERVICE_SEND_COMMAND: Final = "send_command"
SERVICE_GET_HISTORY: Final = "get_history"

ATTR_DEVICE: Final = "device"
ATTR_URL: Final = "url"
ATTR_VERSION: Final = "version"
ATTR_TIMEOUT: Final = "timeout"
ATTR_RETRIES: Final = "retries"
ATTR_ROOM: Final = "room"
ATTR_AREA: Final = "area"
ATTR_LIMIT: Final = "limit"
ATTR_SINCE: Final = "since"
ATTR_SESSION: Final = "session"
ATTR_TYPE: Final = "type"
ATTR_DATA: Final = "data"
ATTR_COMMAND: Final = "command"
ATTR_PAYLOAD: Final = "payload"
ATTR_WAIT_FOR_RESPONSE: Final = "wait_for_response"

DEFAULT_WS_VERSION: Final = 3
DEFAULT_TIMEOUT: Final = 5.0
DEFAULT_RETRIES: Final = 3
# Home Assistant's MQTT client stops waiting for an acknowledgement after 10 s
# and then returns as if all went well: a longer timeout could not tell.
MAX_TIMEOUT: Final = 9.0
MAX_RETRIES: Final = 10
# How long send_command may wait for a device's answer (not the broker's ack).
MAX_ANSWER_TIMEOUT: Final = 60.0
# The delay before retry n is RETRY_DELAY * 2 ** (n - 1), at most MAX_RETRY_DELAY.
RETRY_DELAY: Final = 1.0
MAX_RETRY_DELAY: Final = 10.0
# The protocol sends ws_start at QoS 1, whatever the entry's publish QoS.
WS_START_QOS: Final = 1
# Display actions and commands wait this long for the broker's acknowledgement.
PUBLISH_TIMEOUT: Final = 5.0
# get_history: how many turns, by default and at most.
DEFAULT_LIMIT: Final = 10
MAX_LIMIT: Final = 500

_ENTRY_FIELD = {vol.Optional(ATTR_CONFIG_ENTRY_ID): cv.string}

WS_START_SCHEMA = vol.Schema(
    {
        **_ENTRY_FIELD,
        vol.Required(ATTR_DEVICE): cv.string,
        # Optional when the entry has a voice server URL (option ws_url).
        vol.Optional(ATTR_URL): cv.string,
        vol.Optional(ATTR_VERSION, default=DEFAULT_WS_VERSION): vol.All(
            vol.Coerce(int), vol.Range(min=0, max=65535)
        ),
        vol.Optional(ATTR_TIMEOUT, default=DEFAULT_TIMEOUT): vol.All(
            vol.Coerce(float), vol.Range(min=0.1, max=MAX_TIMEOUT)
        ),
        vol.Optional(ATTR_RETRIES, default=DEFAULT_RETRIES): vol.All(
            vol.Coerce(int), vol.Range(min=0, max=MAX_RETRIES)
        ),
    }
)
DISPLAY_ACTION_SCHEMA = vol.All(
    vol.Schema(
        {
            **_ENTRY_FIELD,
            vol.Exclusive(ATTR_ROOM, "target"): cv.string,
            vol.Exclusive(ATTR_AREA, "target"): cv.string,
            vol.Optional(ATTR_SESSION): cv.string,
            vol.Required(ATTR_TYPE): cv.string,
            vol.Optional(ATTR_DATA, default=dict): dict,
        }
    ),
    cv.has_at_least_one_key(ATTR_ROOM, ATTR_AREA),
)
SEND_COMMAND_SCHEMA = vol.All(
    vol.Schema(
        {
            **_ENTRY_FIELD,
            vol.Exclusive(ATTR_DEVICE, "target"): cv.string,
            vol.Exclusive(ATTR_SESSION, "target"): cv.string,
            vol.Required(ATTR_COMMAND): cv.string,
            vol.Optional(ATTR_PAYLOAD, default=dict): dict,
            vol.Optional(ATTR_WAIT_FOR_RESPONSE, default=False): cv.boolean,
            vol.Optional(ATTR_TIMEOUT, default=DEFAULT_TIMEOUT): vol.All(
                vol.Coerce(float),
                vol.Range(min=0.1, max=MAX_ANSWER_TIMEOUT),
            ),
        }
    ),
    cv.has_at_least_one_key(ATTR_DEVICE, ATTR_SESSION),
)

LIMIT = vol.All(vol.Coerce(int), vol.Range(min=1, max=MAX_LIMIT))

GET_HISTORY_SCHEMA = vol.All(
    vol.Schema(
        {
            vol.Optional(ATTR_CONFIG_ENTRY_ID): cv.string,
            vol.Exclusive(ATTR_ROOM, "target"): cv.string,
            vol.Exclusive(ATTR_AREA, "target"): cv.string,
            vol.Optional(ATTR_LIMIT, default=DEFAULT_LIMIT): LIMIT,
            vol.Optional(ATTR_SINCE): cv.datetime,
        }
    ),
    cv.has_at_least_one_key(ATTR_ROOM, ATTR_AREA),
)


def invalid(key: str, **placeholders: str) -> ServiceValidationError:
    """Return the translated error of a call the user must change."""
    return ServiceValidationError(
        translation_domain=DOMAIN,
        translation_key=key,
        translation_placeholders=placeholders,
    )


def failed(key: str, **placeholders: str) -> HomeAssistantError:
    """Return the translated error of a call that was right but did not work."""
    return HomeAssistantError(
        translation_domain=DOMAIN,
        translation_key=key,
        translation_placeholders=placeholders,
    )


def shown(value: str) -> str:
    """Quote a value for an error message; it may be long or odd."""
    return repr(value[:60] + "…" if len(value) > 60 else value)


def topic_level(field: str, value: str) -> str:
    """Return value if it can be one topic level, or raise for field."""
    try:
        return validate_identifier(value)
    except IdentifierError as err:
        raise invalid(
            f"invalid_id_{err.reason}", field=field, value=shown(value)
        ) from None


def encoded(payload: dict[str, Any]) -> str:
    """Return the payload as JSON, or raise if no broker should carry it."""
    text = encode(payload)
    if (size := len(text.encode())) > MAX_PAYLOAD_BYTES:
        raise invalid("payload_too_large", size=str(size), limit=str(MAX_PAYLOAD_BYTES))
    return text


class Target:
    """What a call is about: its entry's hub and, if picked, a registry device."""

    def __init__(self, hass: HomeAssistant, call: ServiceCall, field: str) -> None:
        """Find the entry (and registry device) that call's field names, or raise."""
        value: str = call.data[field]
        found = dr.async_get(hass).async_get(value)
        self.device_entry = found if isinstance(found, dr.DeviceEntry) else None
        entry_id = call.data.get(ATTR_CONFIG_ENTRY_ID)
        if entry_id is None and self.device_entry is not None:
            # A device picked in the UI tells which entry it belongs to.
            entry_id = self.device_entry.config_entry_id
        entry: VoiceMqttConfigEntry = service.async_get_config_entry(
            hass, DOMAIN, entry_id
        )
        self.hub = entry.runtime_data
        self.field = field
        self.value = value
        if self.device_entry is not None and (
            self.device_entry.config_entry_id != entry.entry_id
        ):
            raise invalid("device_not_in_entry", field=field, entry=entry.title)

    def object_id(self, scope: Scope) -> str:
        """Return the room or device id the field names, or raise."""
        if self.device_entry is None:
            return topic_level(self.field, self.value)
        known = self.hub.registry.identify(self.device_entry)
        if known is None or known[0] is not scope:
            raise invalid(
                f"not_a_{scope}",
                field=self.field,
                device=self.device_entry.name_by_user or self.device_entry.name or "",
            )
        return known[1]


async def publish(hub: VoiceMqttHub, topic: str, payload: str, qos: int) -> None:
    """Publish once and wait for the broker's acknowledgement, or raise.

    Not while the bridge that carries the fleet is down: Home Assistant's
    broker would acknowledge the message, and no device would ever get it.
    """
    if not connected(hub.hass):
        raise failed("mqtt_not_connected", topic=topic)
    if hub.fleet_link.down:
        raise failed("fleet_link_down", topic=topic, bridge=hub.fleet_link.name or "")
    try:
        async with asyncio.timeout(PUBLISH_TIMEOUT):
            await mqtt.async_publish(hub.hass, topic, payload, qos, retain=False)
    except TimeoutError:
        raise failed(
            "publish_not_acknowledged", topic=topic, timeout=str(PUBLISH_TIMEOUT)
        ) from None
    except HomeAssistantError as err:
        raise failed("publish_failed", topic=topic, error=str(err)) from err


async def async_send_command(
    hub: VoiceMqttHub, topic: str, fields: Mapping[str, Any]
) -> None:
    """Publish a command stamped now, at the entry's QoS, acknowledged; or raise."""
    payload = encoded(command_payload(fields, dt_util.utcnow()))
    await publish(hub, topic, payload, hub.settings.qos)


def connected(hass: HomeAssistant) -> bool:
    """Return whether Home Assistant's MQTT client is connected now."""
    try:
        return mqtt.is_connected(hass)
    except KeyError:  # the MQTT integration is not loaded at all
        return False


def area_rooms(
    hass: HomeAssistant, call: ServiceCall
) -> tuple[VoiceMqttHub, list[str]]:
    """Return the entry's hub and the ids of its rooms in the call's area, or raise."""
    value: str = call.data[ATTR_AREA]
    areas = ar.async_get(hass)
    area = areas.async_get_area(value) or areas.async_get_area_by_name(value)
    if area is None:
        raise invalid("unknown_area", area=shown(value))
    entry: VoiceMqttConfigEntry = service.async_get_config_entry(
        hass, DOMAIN, call.data.get(ATTR_CONFIG_ENTRY_ID)
    )
    hub = entry.runtime_data
    rooms = sorted(
        known[1]
        for device in dr.async_entries_for_area(dr.async_get(hass), area.id)
        if isinstance(device, dr.DeviceEntry)
        and (known := hub.registry.identify(device)) is not None
        and known[0] is Scope.ROOM
    )
    if not rooms:
        raise invalid("no_room_in_area", area=area.name)
    return hub, rooms


async def _async_ws_start(call: ServiceCall) -> ServiceResponse:
    """Tell a xiaozhi device to open its voice WebSocket; retry, then raise."""
    target = Target(call.hass, call, ATTR_DEVICE)
    mac = _device_mac(target)
    settings = target.hub.settings
    url: str | None = call.data.get(ATTR_URL, settings.ws_url)
    if url is None:
        raise invalid("ws_start_no_url", entry=target.hub.entry.title)
    if not is_websocket_url(url):
        raise invalid("invalid_url", url=shown(url))
    return await async_ws_start(
        target.hub,
        mac,
        encoded(ws_start_payload(url, call.data[ATTR_VERSION])),
        attempt_timeout=call.data[ATTR_TIMEOUT],
        attempts=call.data[ATTR_RETRIES] + 1,
    )


async def async_ws_start(
    hub: VoiceMqttHub,
    mac: str,
    payload: str,
    *,
    attempt_timeout: float = DEFAULT_TIMEOUT,
    attempts: int = DEFAULT_RETRIES + 1,
) -> dict[str, Any]:
    """Publish ws_start to a device until the broker acknowledges it, or raise.

    Each attempt waits attempt_timeout seconds for the acknowledgement; between
    attempts the delay grows (1 s, 2 s, 4 s…). Every failed attempt is logged
    with its reason, the last as an error, and raised translated. Returns the
    topic, the attempts made and the milliseconds it took.
    """
    hass = hub.hass
    topic = hub.settings.scheme.ws_start_topic(mac)
    started = hass.loop.time()
    for attempt in range(1, attempts + 1):
        try:
            if not connected(hass):
                reason, error = "not_connected", ""
            elif hub.fleet_link.down:
                # Acknowledged by Home Assistant's broker, and lost: the link
                # may be back by the next attempt.
                reason, error = "fleet_link_down", ""
            else:
                async with asyncio.timeout(attempt_timeout):
                    await mqtt.async_publish(
                        hass, topic, payload, WS_START_QOS, retain=False
                    )
                return {
                    "topic": topic,
                    "attempts": attempt,
                    "elapsed_ms": round((hass.loop.time() - started) * 1000),
                }
        except TimeoutError:
            reason, error = "timeout", ""
        except HomeAssistantError as err:
            reason, error = "error", str(err)
        _LOGGER.warning(
            "ws_start to %s, attempt %s of %s failed: %s",
            mac,
            attempt,
            attempts,
            error or reason.replace("_", " "),
        )
        if attempt < attempts:
            await asyncio.sleep(min(RETRY_DELAY * 2 ** (attempt - 1), MAX_RETRY_DELAY))
    _LOGGER.error("ws_start to %s failed after %s attempts", mac, attempts)
    raise failed(
        f"ws_start_{reason}",
        device=mac,
        attempts=str(attempts),
        timeout=str(attempt_timeout),
        error=error,
    )


def _device_mac(target: Target) -> str:
    """Read a MAC from the field, or from the voice device it picks."""
    if target.device_entry is None:
        try:
            return normalize_mac(target.value)
        except ValueError:
            raise invalid("invalid_mac", value=shown(target.value)) from None
    device_id = target.object_id(Scope.DEVICE)
    if (mac := mac_of(target.device_entry)) is None:
        raise invalid("device_without_mac", device=device_id)
    return mac


async def _async_display_action(call: ServiceCall) -> ServiceResponse:
    """Switch a room's UI panel (or every room's of an area) in its session."""
    payload = _display_payload(call)
    if ATTR_AREA in call.data:
        if ATTR_SESSION in call.data:
            raise invalid("session_needs_room")
        hub, in_area = area_rooms(call.hass, call)
        # Each room in its current session; a room not talking is left alone.
        sessions = {
            room_id: room.session_id
            for room_id in in_area
            if (room := hub.rooms.get(room_id)) is not None and room.session_id
        }
        if not sessions:
            raise invalid("no_session_in_area", rooms=", ".join(in_area))
    else:
        target = Target(call.hass, call, ATTR_ROOM)
        room_id = target.object_id(Scope.ROOM)
        hub = target.hub
        if (session := call.data.get(ATTR_SESSION)) is None:
            room = hub.rooms.get(room_id)
            if room is None or room.session_id is None:
                raise invalid("no_current_session", room=room_id)
            session = room.session_id
        sessions = {room_id: topic_level(ATTR_SESSION, session)}
    schemes = [hub.settings.scheme]
    if hub.settings.migration:
        # Until every UI listens to v1, they get it on v0 too.
        schemes.append(hub.settings.scheme.legacy())
    topics: list[JsonValueType] = [
        scheme.voice_topic(room_id, session, VoiceType.DISPLAY_ACTION)
        for room_id, session in sessions.items()
        for scheme in schemes
    ]
    for topic in topics:
        await publish(hub, str(topic), payload, hub.settings.qos)
    if ATTR_AREA in call.data:
        return {"topics": topics, "rooms": list(sessions)}
    return {"topics": topics, "session": next(iter(sessions.values()))}


def _display_payload(call: ServiceCall) -> str:
    """Return the display_action payload the call asks for, or raise."""
    if not (action_type := call.data[ATTR_TYPE].strip()):
        raise invalid("empty_type")
    if len(action_type) > MAX_NAME_LENGTH:
        raise invalid("type_too_long", limit=str(MAX_NAME_LENGTH))
    payload = encoded(
        display_action_payload(action_type, call.data[ATTR_DATA], dt_util.utcnow())
    )
    try:
        # What UIs, and voice_mqtt's own event entity, must be able to store.
        check_storable(call.data[ATTR_DATA])
    except ProtocolError as err:
        raise invalid("data_not_storable", reason=err.detail) from None
    return payload


async def _async_send_command(call: ServiceCall) -> ServiceResponse:
    """Send a command to one device or to every device in a session."""
    command = topic_level(ATTR_COMMAND, call.data[ATTR_COMMAND])
    payload = command_payload(call.data[ATTR_PAYLOAD], dt_util.utcnow())
    if ATTR_DEVICE in call.data:
        target = Target(call.hass, call, ATTR_DEVICE)
        device_id = target.object_id(Scope.DEVICE)
        topic = target.hub.settings.scheme.device_command_topic(device_id, command)
        if call.data[ATTR_WAIT_FOR_RESPONSE]:
            return await _command_and_answer(
                target.hub,
                topic,
                payload,
                (device_id, command),
                call.data[ATTR_TIMEOUT],
            )
    else:
        if call.data[ATTR_WAIT_FOR_RESPONSE]:
            raise invalid("answer_needs_device")  # a session has many devices
        target = Target(call.hass, call, ATTR_SESSION)
        session = topic_level(ATTR_SESSION, target.value)
        topic = target.hub.settings.scheme.session_command_topic(session, command)
    await publish(target.hub, topic, encoded(payload), target.hub.settings.qos)
    return {"topic": topic}


async def _command_and_answer(
    hub: VoiceMqttHub,
    topic: str,
    payload: dict[str, Any],
    asked: tuple[str, str],
    wait: float,
) -> ServiceResponse:
    """Publish a command with a messageId; return the device's answer, or raise.

    asked is the device id and the command; wait is how long, in seconds.
    """
    device_id, command = asked
    message_id = payload.setdefault("messageId", ulid_now())
    if not isinstance(message_id, str) or not 0 < len(message_id) <= MAX_NAME_LENGTH:
        raise invalid("invalid_message_id", limit=str(MAX_NAME_LENGTH))
    named = {"device": device_id, "command": command}
    try:
        # Waiting starts before the publish: a quick answer must not be lost.
        waiting = hub.answers.expect(device_id, message_id)
    except MessageIdInUseError:
        raise invalid("message_id_in_use", message_id=shown(message_id)) from None
    try:
        await publish(hub, topic, encoded(payload), hub.settings.qos)
        async with asyncio.timeout(wait):
            answer = await waiting
    except TimeoutError:
        raise failed("no_answer", **named, timeout=f"{wait:g}") from None
    except NoLongerListeningError:
        raise failed("no_answer_unloaded", **named) from None
    finally:
        hub.answers.stop_waiting(message_id)
    if not answer.succeeded:
        raise failed("answer_error", **named, error=answer.error)
    return {
        "topic": topic,
        "message_id": message_id,
        "status": "success",
        "result": answer.result,
    }


async def _async_get_history(call: ServiceCall) -> ServiceResponse:
    """Return a room's last turns (or every room's of an area), oldest first."""
    since = call.data.get(ATTR_SINCE)
    if since is not None and since.tzinfo is None:
        since = since.replace(tzinfo=dt_util.get_default_time_zone())
    limit = call.data[ATTR_LIMIT]
    if ATTR_AREA in call.data:
        hub, rooms = area_rooms(call.hass, call)
        found: Any = {room: hub.history.turns(room, limit, since) for room in rooms}
        return {"rooms": found}
    target = Target(call.hass, call, ATTR_ROOM)
    room_id = target.object_id(Scope.ROOM)
    turns: Any = target.hub.history.turns(room_id, limit, since)
    return {"room": room_id, "turns": turns}


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    """Register the actions once for every entry (quality rule action-setup)."""
    for name, handler, schema in (
        (SERVICE_WS_START, _async_ws_start, WS_START_SCHEMA),
        (SERVICE_DISPLAY_ACTION, _async_display_action, DISPLAY_ACTION_SCHEMA),
        (SERVICE_SEND_COMMAND, _async_send_command, SEND_COMMAND_SCHEMA),
        (SERVICE_GET_HISTORY, _async_get_history, GET_HISTORY_SCHEMA),
    ):
        hass.services.async_register(
            DOMAIN,
            name,
            handler,
            schema=schema,
            supports_response=SupportsResponse.OPTIONAL,
        )
