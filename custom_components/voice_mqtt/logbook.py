"""The logbook: a turn, a tool run, a panel shown, a device gone, each in a line.

Home Assistant's logbook shows an event entity's state change by its event
type alone ("Tool executed: Failed", "Display action: Display action") and a
connectivity sensor's as "Disconnected": no tool, no panel, no reason. An
integration cannot reword those rows: the logbook builds them from the
states table and the frontend phrases them from the state and the event
type, the one attribute it exposes. What an integration can do is describe
bus events of its own, so next to each such change one event says the rest,
and each is described here:

- `voice_mqtt_conversation`, a whole turn (conversations/figures.py);
- `voice_mqtt_tool_executed` (tool_name, success) and
  `voice_mqtt_display_action` (type), fired by the room's event entity when
  it fires (event.py), so a retained message replayed after a restart logs
  nothing twice, as the entity fires nothing twice;
- `voice_mqtt_device_offline` (reason: last_will, status or
  heartbeat_timeout), when a device known online goes offline
  (fleet/health.py).

Each carries `entity_id` and `device_id`, which is how the logbook's queries
attach an event to an entity and a device: the row shows in the entity's and
the device's logbook, named after the entity, and reads "ran control_light
(failed)", "showed light_control", "went offline (Last Will)". The state rows
stay (nothing but the user's own logbook filter drops them); they remain the
history that triggers and graphs follow. The display action's `data` stays
out of the bus event: the recorder would store up to 8 KiB again, for every
panel shown.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from homeassistant.components.logbook.const import (
    LOGBOOK_ENTRY_ENTITY_ID,
    LOGBOOK_ENTRY_MESSAGE,
    LOGBOOK_ENTRY_NAME,
)
from homeassistant.const import ATTR_DEVICE_ID, ATTR_ENTITY_ID
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers import device_registry as dr

from .const import (
    ATTR_HEARTBEAT_TIMEOUT,
    DOMAIN,
    EVENT_CONVERSATION,
    EVENT_DEVICE_OFFLINE,
    EVENT_DISPLAY_ACTION,
    EVENT_TOOL_EXECUTED,
)
from .models.presence import OfflineReason
from .models.turn import Outcome
from .registry.devices import room_name

# Quotes in a logbook line are cut here; the event keeps the whole texts.
QUOTE_LENGTH = 80

_ENDINGS = {
    Outcome.TIMED_OUT: "went quiet",
    Outcome.ERROR: "ended in an error",
    Outcome.INTERRUPTED: "was cut short by a new conversation",
}

_OFFLINE_BECAUSE: dict[str, str] = {
    OfflineReason.LAST_WILL: "Last Will",
    OfflineReason.STATUS: "its status said so",
}


def _quoted(text: str) -> str:
    text = " ".join(text.split())
    if len(text) > QUOTE_LENGTH:
        text = text[: QUOTE_LENGTH - 1] + "…"
    return f"'{text}'"


def ran(tool_name: str, success: bool) -> str:
    """Say a tool run: `ran control_light`, `ran control_light (failed)`."""
    return f"ran {tool_name}" + ("" if success else " (failed)")


def showed(panels: list[str]) -> str:
    """Say the panels shown: `showed light_control, weather`."""
    return "showed " + ", ".join(panels)


def describe_turn(data: Mapping[str, Any]) -> str:
    """Say what a turn was in one line: heard, answered in, ran, showed."""
    parts: list[str] = []
    if heard := data.get("heard"):
        parts.append(f"heard {_quoted(heard)}")
    if answer := data.get("answer"):
        answered = f"answered {_quoted(answer)}"
        if (seconds := data.get("response_time")) is not None:
            answered += f" in {seconds:.1f} s"
        parts.append(answered)
    parts.extend(ran(tool["name"], tool["success"]) for tool in data.get("tools", ()))
    if shown := data.get("display_actions"):
        parts.append(showed(shown))
    if (ending := _ENDINGS.get(data.get("outcome", ""))) is not None:
        parts.append(ending)
    return ", ".join(parts) or "had a conversation"


def describe_offline(data: Mapping[str, Any]) -> str:
    """Say why a device went offline: its Last Will, its status, its silence."""
    reason = str(data.get("reason"))
    if reason == OfflineReason.HEARTBEAT_TIMEOUT:
        because = f"no heartbeat for {data.get(ATTR_HEARTBEAT_TIMEOUT, 0):g} s"
    elif (because_of := _OFFLINE_BECAUSE.get(reason)) is not None:
        because = because_of
    else:
        return "went offline"
    return f"went offline ({because})"


_MESSAGES: dict[str, Callable[[Mapping[str, Any]], str]] = {
    EVENT_CONVERSATION: describe_turn,
    EVENT_TOOL_EXECUTED: lambda data: ran(data["tool_name"], data["success"]),
    EVENT_DISPLAY_ACTION: lambda data: showed([data["type"]]),
    EVENT_DEVICE_OFFLINE: describe_offline,
}


@callback
def async_describe_events(
    hass: HomeAssistant,
    async_describe_event: Callable[[str, str, Callable[[Event], dict[str, str]]], None],
) -> None:
    """Describe voice_mqtt's bus events, each on the entity it is about."""
    devices = dr.async_get(hass)

    @callback
    def describe(event: Event) -> dict[str, str]:
        data = event.data
        # The frontend names a row after its entity; this name is for the
        # rows of an entity removed since, or of a room without entities yet.
        device = devices.async_get(data.get(ATTR_DEVICE_ID) or "")
        name = (device and (device.name_by_user or device.name)) or room_name(
            str(data.get("room") or data.get("voice_device_id") or DOMAIN)
        )
        entry = {
            LOGBOOK_ENTRY_NAME: name,
            LOGBOOK_ENTRY_MESSAGE: _MESSAGES[str(event.event_type)](data),
        }
        if entity_id := data.get(ATTR_ENTITY_ID):
            entry[LOGBOOK_ENTRY_ENTITY_ID] = entity_id
        return entry

    for event_type in _MESSAGES:
        async_describe_event(DOMAIN, event_type, describe)
