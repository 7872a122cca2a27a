"""Fix flows of voice_mqtt's repair issues: the voice topics' version."""

from __future__ import annotations

from typing import Any

from homeassistant.components.repairs import RepairsFlow, RepairsFlowResult
from homeassistant.core import HomeAssistant

from .const import CONF_LEGACY_TOPICS, CONF_VERSION
from .protocol import LEGACY_VERSION


class VersionMismatchFlow(RepairsFlow):
    """Follow the traffic: switch the entry's version, or hear both layouts."""

    def __init__(self, entry_id: str, version: str) -> None:
        """Fix the entry that heard voice traffic on version."""
        self._entry_id = entry_id
        self._version = version

    async def async_step_init(
        self, user_input: dict[str, Any] | None = None
    ) -> RepairsFlowResult:
        """Offer what fits: migration mode only pairs v0 with another version."""
        entry = self.hass.config_entries.async_get_entry(self._entry_id)
        if entry is None:
            return self.async_abort(reason="entry_removed")
        options = ["switch"]
        if LEGACY_VERSION in (self._version, entry.data.get(CONF_VERSION)):
            options.append("migrate")
        return self.async_show_menu(
            menu_options=options,
            description_placeholders={"seen": self._version or "v0"},
        )

    async def async_step_switch(
        self, user_input: dict[str, Any] | None = None
    ) -> RepairsFlowResult:
        """Listen to the version the traffic is on, instead of the configured one."""
        entry = self.hass.config_entries.async_get_entry(self._entry_id)
        if entry is None:
            return self.async_abort(reason="entry_removed")
        self.hass.config_entries.async_update_entry(
            entry, data={**entry.data, CONF_VERSION: self._version}
        )
        await self.hass.config_entries.async_reload(entry.entry_id)
        return self.async_create_entry(data={})

    async def async_step_migrate(
        self, user_input: dict[str, Any] | None = None
    ) -> RepairsFlowResult:
        """Hear v0 and the configured version both, while publishers move."""
        entry = self.hass.config_entries.async_get_entry(self._entry_id)
        if entry is None:
            return self.async_abort(reason="entry_removed")
        if entry.data.get(CONF_VERSION) == LEGACY_VERSION:
            # Configured on v0 and traffic on another version: that one becomes
            # the version, and v0 is heard beside it.
            self.hass.config_entries.async_update_entry(
                entry, data={**entry.data, CONF_VERSION: self._version}
            )
        self.hass.config_entries.async_update_entry(
            entry, options={**entry.options, CONF_LEGACY_TOPICS: True}
        )
        await self.hass.config_entries.async_reload(entry.entry_id)
        return self.async_create_entry(data={})


async def async_create_fix_flow(
    hass: HomeAssistant, issue_id: str, data: dict[str, str | int | float | None] | None
) -> RepairsFlow:
    """Make the fix flow of a version-mismatch issue."""
    if not data or not isinstance(entry_id := data.get("entry_id"), str):
        raise ValueError(f"{issue_id} has no entry to fix")
    return VersionMismatchFlow(entry_id, str(data.get("version") or ""))
