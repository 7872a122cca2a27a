"""The logbook: a turn reads as what was heard, what was answered, how fast."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from homeassistant.components.logbook.const import (
    LOGBOOK_ENTRY_ENTITY_ID,
    LOGBOOK_ENTRY_MESSAGE,
    LOGBOOK_ENTRY_NAME,
)
from homeassistant.const import Platform
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers import device_registry as dr, entity_registry as er

from .const import DOMAIN
from .conversations import EVENT_CONVERSATION
from .registry import room_name
from .turns import Outcome

# Quotes in a logbook line are cut here; the event keeps the whole texts.
QUOTE_LENGTH = 80

_ENDINGS = {
    Outcome.TIMED_OUT: "went quiet",
    Outcome.ERROR: "ended in an error",
    Outcome.INTERRUPTED: "was cut short by a new conversation",
}


def _quoted(text: str) -> str:
    text = " ".join(text.split())
    if len(text) > QUOTE_LENGTH:
        text = text[: QUOTE_LENGTH - 1] + "…"
    return f"'{text}'"


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
    parts.extend(
        f"ran {tool['name']}" + ("" if tool["success"] else " (failed)")
        for tool in data.get("tools", ())
    )
    if shown := data.get("display_actions"):
        parts.append("showed " + ", ".join(shown))
    if (ending := _ENDINGS.get(data.get("outcome", ""))) is not None:
        parts.append(ending)
    return ", ".join(parts) or "had a conversation"


@callback
def async_describe_events(
    hass: HomeAssistant,
    async_describe_event: Callable[[str, str, Callable[[Event], dict[str, str]]], None],
) -> None:
    """Describe voice_mqtt's conversation events."""
    devices = dr.async_get(hass)
    entities = er.async_get(hass)

    @callback
    def describe(event: Event) -> dict[str, str]:
        data = event.data
        room = str(data.get("room", ""))
        device = devices.async_get(data.get("device_id") or "")
        name = (device and (device.name_by_user or device.name)) or room_name(room)
        entry = {LOGBOOK_ENTRY_NAME: name, LOGBOOK_ENTRY_MESSAGE: describe_turn(data)}
        unique_id = f"{data.get('config_entry_id')}_room_{room}_conversation"
        if entity_id := entities.async_get_entity_id(Platform.EVENT, DOMAIN, unique_id):
            entry[LOGBOOK_ENTRY_ENTITY_ID] = entity_id
        return entry

    async_describe_event(DOMAIN, EVENT_CONVERSATION, describe)
