"""Reading the conversation history: the get_history action and a websocket command.

The action is for automations and scripts (response data); the websocket
command `voice_mqtt/history` is for the dashboard card, which has the room's
device id and any logged-in user's connection.
"""

from __future__ import annotations

from typing import Any, Final

from homeassistant.components import websocket_api
from homeassistant.components.websocket_api.connection import ActiveConnection
from homeassistant.components.websocket_api.const import ERR_NOT_FOUND
from homeassistant.components.websocket_api.decorators import websocket_command
from homeassistant.core import HomeAssistant, ServiceCall, ServiceResponse, callback
from homeassistant.helpers import config_validation as cv, device_registry as dr
from homeassistant.util import dt as dt_util

from .calls import ATTR_AREA, ATTR_CONFIG_ENTRY_ID, Target, area_rooms
from .compat import vol
from .const import DOMAIN
from .listeners import Scope

SERVICE_GET_HISTORY: Final = "get_history"
ATTR_ROOM: Final = "room"
ATTR_LIMIT: Final = "limit"
ATTR_SINCE: Final = "since"
DEFAULT_LIMIT: Final = 10
MAX_LIMIT: Final = 500

_LIMIT = vol.All(vol.Coerce(int), vol.Range(min=1, max=MAX_LIMIT))

GET_HISTORY_SCHEMA = vol.All(
    vol.Schema(
        {
            vol.Optional(ATTR_CONFIG_ENTRY_ID): cv.string,
            vol.Exclusive(ATTR_ROOM, "target"): cv.string,
            vol.Exclusive(ATTR_AREA, "target"): cv.string,
            vol.Optional(ATTR_LIMIT, default=DEFAULT_LIMIT): _LIMIT,
            vol.Optional(ATTR_SINCE): cv.datetime,
        }
    ),
    cv.has_at_least_one_key(ATTR_ROOM, ATTR_AREA),
)


async def async_get_history(call: ServiceCall) -> ServiceResponse:
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


@websocket_command(
    {
        vol.Required("type"): f"{DOMAIN}/history",
        vol.Required("device_id"): str,
        vol.Optional(ATTR_LIMIT, default=DEFAULT_LIMIT): _LIMIT,
    }
)
@callback
def websocket_history(
    hass: HomeAssistant,
    connection: ActiveConnection,
    msg: dict[str, Any],
) -> None:
    """Send the last turns of the room whose device is device_id."""
    device = dr.async_get(hass).async_get(msg["device_id"])
    entry = (
        None
        if device is None or device.config_entry_id is None
        else hass.config_entries.async_get_entry(device.config_entry_id)
    )
    if device is None or entry is None or entry.domain != DOMAIN:
        connection.send_error(msg["id"], ERR_NOT_FOUND, "No such voice_mqtt device")
        return
    hub = getattr(entry, "runtime_data", None)
    known = None if hub is None else hub.registry.identify(device)
    if hub is None or known is None or known[0] is not Scope.ROOM:
        connection.send_error(
            msg["id"], ERR_NOT_FOUND, "That device is not a loaded room"
        )
        return
    room_id = known[1]
    connection.send_result(
        msg["id"], {"room": room_id, "turns": hub.history.turns(room_id, msg["limit"])}
    )


@callback
def async_setup_history_api(hass: HomeAssistant) -> None:
    """Register the websocket command (the action is registered with the others)."""
    websocket_api.async_register_command(hass, websocket_history)
