"""Repair issues, raised the one way voice_mqtt raises them.

Every issue of voice_mqtt is a warning that lasts until it is cleared or
Home Assistant restarts (not persistent): the condition behind it is looked
at again after a restart.
"""

from __future__ import annotations

from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir

from .const import DOMAIN


def raise_issue(
    hass: HomeAssistant,
    issue_id: str,
    translation_key: str,
    placeholders: dict[str, str],
    *,
    fixable: bool = False,
    data: dict[str, Any] | None = None,
) -> None:
    """Create (or update) one of voice_mqtt's repair issues."""
    ir.async_create_issue(
        hass,
        DOMAIN,
        issue_id,
        is_fixable=fixable,
        is_persistent=False,
        severity=ir.IssueSeverity.WARNING,
        translation_key=translation_key,
        translation_placeholders=placeholders,
        data=data,
    )
