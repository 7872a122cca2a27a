"""The websocket command of the conversation card: a room's last turns.

`voice_mqtt/history` answers any logged-in user's frontend connection with
the turns a room keeps (conversations/history.py); the card has the room's
device id. Automations and scripts read the same through the get_history
action (services.py).
"""

from __future__ import annotations

from typing import Any

from homeassistant.components import websocket_api
from homeassistant.components.websocket_api.connection import ActiveConnection
from homeassistant.components.websocket_api.const import ERR_NOT_FOUND
from homeassistant.components.websocket_api.decorators import websocket_command
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import device_registry as dr

from .compat import vol
from .const import DOMAIN, Scope
from .services import ATTR_LIMIT, DEFAULT_LIMIT, LIMIT


@websocket_command(
    {
        vol.Required("type"): f"{DOMAIN}/history",
        vol.Required("device_id"): str,
        vol.Optional(ATTR_LIMIT, default=DEFAULT_LIMIT): LIMIT,
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
def async_setup_websocket_api(hass: HomeAssistant) -> None:
    """Register the websocket command, once for every entry."""
    websocket_api.async_register_command(hass, websocket_history)
