"""Service actions: ws_start, display_action and send_command.

Every field that reaches a topic is checked to be one topic level, so no call
can publish outside the entry's namespaces; every failure is raised as a
translated error, and nothing fails silently.
"""

from __future__ import annotations

import asyncio
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
    config_validation as cv,
    device_registry as dr,
    service,
)
from homeassistant.util import dt as dt_util
from homeassistant.util.json import JsonValueType
from yarl import URL

from .compat import vol
from .const import DOMAIN
from .hub import VoiceMqttConfigEntry, VoiceMqttHub
from .listeners import Scope
from .protocol import (
    MAX_NAME_LENGTH,
    MAX_PAYLOAD_BYTES,
    IdentifierError,
    ProtocolError,
    VoiceType,
    check_storable,
    display_action_payload,
    encode,
    normalize_mac,
    validate_identifier,
    ws_start_payload,
)

_LOGGER = logging.getLogger(__name__)

SERVICE_WS_START: Final = "ws_start"
SERVICE_DISPLAY_ACTION: Final = "display_action"
SERVICE_SEND_COMMAND: Final = "send_command"

ATTR_CONFIG_ENTRY_ID: Final = "config_entry_id"
ATTR_DEVICE: Final = "device"
ATTR_URL: Final = "url"
ATTR_VERSION: Final = "version"
ATTR_TIMEOUT: Final = "timeout"
ATTR_RETRIES: Final = "retries"
ATTR_ROOM: Final = "room"
ATTR_SESSION: Final = "session"
ATTR_TYPE: Final = "type"
ATTR_DATA: Final = "data"
ATTR_COMMAND: Final = "command"
ATTR_PAYLOAD: Final = "payload"

DEFAULT_WS_VERSION: Final = 3
DEFAULT_TIMEOUT: Final = 5.0
DEFAULT_RETRIES: Final = 3
# Home Assistant's MQTT client stops waiting for an acknowledgement after 10 s
# and then returns as if all went well: a longer timeout could not tell.
MAX_TIMEOUT: Final = 9.0
MAX_RETRIES: Final = 10
# Display actions and commands wait this long for the broker's acknowledgement.
PUBLISH_TIMEOUT: Final = 5.0
# The delay before retry n is RETRY_DELAY * 2 ** (n - 1), at most MAX_RETRY_DELAY.
RETRY_DELAY: Final = 1.0
MAX_RETRY_DELAY: Final = 10.0
# The protocol sends ws_start at QoS 1, whatever the entry's publish QoS.
WS_START_QOS: Final = 1

_ENTRY_FIELD = {vol.Optional(ATTR_CONFIG_ENTRY_ID): cv.string}

WS_START_SCHEMA = vol.Schema(
    {
        **_ENTRY_FIELD,
        vol.Required(ATTR_DEVICE): cv.string,
        vol.Required(ATTR_URL): cv.string,
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
DISPLAY_ACTION_SCHEMA = vol.Schema(
    {
        **_ENTRY_FIELD,
        vol.Required(ATTR_ROOM): cv.string,
        vol.Optional(ATTR_SESSION): cv.string,
        vol.Required(ATTR_TYPE): cv.string,
        vol.Optional(ATTR_DATA, default=dict): dict,
    }
)
SEND_COMMAND_SCHEMA = vol.All(
    vol.Schema(
        {
            **_ENTRY_FIELD,
            vol.Exclusive(ATTR_DEVICE, "target"): cv.string,
            vol.Exclusive(ATTR_SESSION, "target"): cv.string,
            vol.Required(ATTR_COMMAND): cv.string,
            vol.Optional(ATTR_PAYLOAD, default=dict): dict,
        }
    ),
    cv.has_at_least_one_key(ATTR_DEVICE, ATTR_SESSION),
)


def _invalid(key: str, **placeholders: str) -> ServiceValidationError:
    return ServiceValidationError(
        translation_domain=DOMAIN,
        translation_key=key,
        translation_placeholders=placeholders,
    )


def _failed(key: str, **placeholders: str) -> HomeAssistantError:
    return HomeAssistantError(
        translation_domain=DOMAIN,
        translation_key=key,
        translation_placeholders=placeholders,
    )


def _shown(value: str) -> str:
    """Quote a value for an error message; it may be long or odd."""
    return repr(value[:60] + "…" if len(value) > 60 else value)


def _topic_level(field: str, value: str) -> str:
    try:
        return validate_identifier(value)
    except IdentifierError as err:
        raise _invalid(
            f"invalid_id_{err.reason}", field=field, value=_shown(value)
        ) from None


def _encoded(payload: dict[str, Any]) -> str:
    text = encode(payload)
    if (size := len(text.encode())) > MAX_PAYLOAD_BYTES:
        raise _invalid(
            "payload_too_large", size=str(size), limit=str(MAX_PAYLOAD_BYTES)
        )
    return text


class _Target:
    """What a call is about: its entry's hub and, if picked, a registry device."""

    def __init__(self, hass: HomeAssistant, call: ServiceCall, field: str) -> None:
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
            raise _invalid("device_not_in_entry", field=field, entry=entry.title)

    def object_id(self, scope: Scope) -> str:
        """Return the room or device id the field names, or raise."""
        if self.device_entry is None:
            return _topic_level(self.field, self.value)
        known = self.hub.registry.identify(self.device_entry)
        if known is None or known[0] is not scope:
            raise _invalid(
                f"not_a_{scope}",
                field=self.field,
                device=self.device_entry.name_by_user or self.device_entry.name or "",
            )
        return known[1]


async def _publish(hub: VoiceMqttHub, topic: str, payload: str, qos: int) -> None:
    """Publish once and wait for the broker's acknowledgement, or raise."""
    if not _connected(hub.hass):
        raise _failed("mqtt_not_connected", topic=topic)
    try:
        async with asyncio.timeout(PUBLISH_TIMEOUT):
            await mqtt.async_publish(hub.hass, topic, payload, qos, retain=False)
    except TimeoutError:
        raise _failed(
            "publish_not_acknowledged", topic=topic, timeout=str(PUBLISH_TIMEOUT)
        ) from None
    except HomeAssistantError as err:
        raise _failed("publish_failed", topic=topic, error=str(err)) from err


def _connected(hass: HomeAssistant) -> bool:
    try:
        return mqtt.is_connected(hass)
    except KeyError:  # the MQTT integration is not loaded at all
        return False


async def _async_ws_start(call: ServiceCall) -> ServiceResponse:
    """Tell a xiaozhi device to open its voice WebSocket; retry, then raise."""
    hass = call.hass
    target = _Target(hass, call, ATTR_DEVICE)
    mac = _device_mac(target)
    url: str = call.data[ATTR_URL]
    parsed = URL(url)
    if parsed.scheme not in ("ws", "wss") or not parsed.host:
        raise _invalid("invalid_url", url=_shown(url))
    topic = target.hub.settings.scheme.ws_start_topic(mac)
    payload = _encoded(ws_start_payload(url, call.data[ATTR_VERSION]))
    timeout: float = call.data[ATTR_TIMEOUT]
    attempts = call.data[ATTR_RETRIES] + 1
    started = hass.loop.time()
    for attempt in range(1, attempts + 1):
        try:
            if not _connected(hass):
                reason, error = "not_connected", ""
            else:
                async with asyncio.timeout(timeout):
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
    raise _failed(
        f"ws_start_{reason}",
        device=mac,
        attempts=str(attempts),
        timeout=str(timeout),
        error=error,
    )


def _device_mac(target: _Target) -> str:
    """Read a MAC from the field, or from the voice device it picks."""
    if target.device_entry is None:
        try:
            return normalize_mac(target.value)
        except ValueError:
            raise _invalid("invalid_mac", value=_shown(target.value)) from None
    device_id = target.object_id(Scope.DEVICE)
    for kind, value in target.device_entry.connections:
        if kind == dr.CONNECTION_NETWORK_MAC:
            return normalize_mac(value)
    raise _invalid("device_without_mac", device=device_id)


async def _async_display_action(call: ServiceCall) -> ServiceResponse:
    """Switch a room's UI panel, in its current session unless told otherwise."""
    target = _Target(call.hass, call, ATTR_ROOM)
    room_id = target.object_id(Scope.ROOM)
    hub = target.hub
    if (session := call.data.get(ATTR_SESSION)) is None:
        room = hub.rooms.get(room_id)
        if room is None or room.session_id is None:
            raise _invalid("no_current_session", room=room_id)
        session = room.session_id
    session = _topic_level(ATTR_SESSION, session)
    if not (action_type := call.data[ATTR_TYPE].strip()):
        raise _invalid("empty_type")
    if len(action_type) > MAX_NAME_LENGTH:
        raise _invalid("type_too_long", limit=str(MAX_NAME_LENGTH))
    payload = _encoded(
        display_action_payload(action_type, call.data[ATTR_DATA], dt_util.utcnow())
    )
    try:
        # What UIs, and voice_mqtt's own event entity, must be able to store.
        check_storable(call.data[ATTR_DATA])
    except ProtocolError as err:
        raise _invalid("data_not_storable", reason=err.detail) from None
    schemes = [hub.settings.scheme]
    if hub.settings.migration:
        # Until every UI listens to v1, they get it on v0 too.
        schemes.append(hub.settings.scheme.legacy())
    topics: list[JsonValueType] = [
        scheme.voice_topic(room_id, session, VoiceType.DISPLAY_ACTION)
        for scheme in schemes
    ]
    for topic in topics:
        await _publish(hub, str(topic), payload, hub.settings.qos)
    return {"topics": topics, "session": session}


async def _async_send_command(call: ServiceCall) -> ServiceResponse:
    """Send a command to one device or to every device in a session."""
    command = _topic_level(ATTR_COMMAND, call.data[ATTR_COMMAND])
    payload = dict(call.data[ATTR_PAYLOAD])
    # Devices stamp their own messages in ISO 8601; commands follow suit.
    payload.setdefault("timestamp", dt_util.utcnow().isoformat())
    if ATTR_DEVICE in call.data:
        target = _Target(call.hass, call, ATTR_DEVICE)
        device_id = target.object_id(Scope.DEVICE)
        topic = target.hub.settings.scheme.device_command_topic(device_id, command)
    else:
        target = _Target(call.hass, call, ATTR_SESSION)
        session = _topic_level(ATTR_SESSION, target.value)
        topic = target.hub.settings.scheme.session_command_topic(session, command)
    await _publish(target.hub, topic, _encoded(payload), target.hub.settings.qos)
    return {"topic": topic}


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    """Register the actions once for every entry (quality rule action-setup)."""
    for name, handler, schema in (
        (SERVICE_WS_START, _async_ws_start, WS_START_SCHEMA),
        (SERVICE_DISPLAY_ACTION, _async_display_action, DISPLAY_ACTION_SCHEMA),
        (SERVICE_SEND_COMMAND, _async_send_command, SEND_COMMAND_SCHEMA),
    ):
        hass.services.async_register(
            DOMAIN,
            name,
            handler,
            schema=schema,
            supports_response=SupportsResponse.OPTIONAL,
        )
