"""Every repair issue of voice_mqtt: its id, and the one way it is raised and cleared.

An issue's id is `{entry_id}_{kind}`, or `{entry_id}_{kind}_{subject}` when
it is about one device; its kind is also its translation key. Every issue is
a warning that lasts until it is cleared or Home Assistant restarts (not
persistent): the condition behind it is looked at again after a restart.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir

from ..const import DOMAIN


class IssueKind(StrEnum):
    """What an issue is about; its translation key in translations/en.json."""

    TOO_MANY_ROOMS = "too_many_rooms"  # the entry's cap on rooms refused some
    TOO_MANY_DEVICES = "too_many_devices"  # and on devices
    VERSION_MISMATCH = "version_mismatch"  # voice traffic on another version
    BACKEND_SILENT = "backend_silent"  # no voice traffic while devices are online
    HISTORY_UNREADABLE = "history_unreadable"  # the history file was set aside
    DEVICE_FLAPPING = "device_flapping"  # one device keeps losing its connection
    FLEET_LINK_DOWN = "fleet_link_down"  # the broker bridge to the fleet is down


def issue_id(entry_id: str, kind: IssueKind, subject: str | None = None) -> str:
    """Return the id of an entry's issue of kind (about subject, if one)."""
    if subject is None:
        return f"{entry_id}_{kind}"
    return f"{entry_id}_{kind}_{subject}"


@callback
def raise_issue(
    hass: HomeAssistant,
    entry_id: str,
    kind: IssueKind,
    placeholders: dict[str, str],
    *,
    subject: str | None = None,
    fixable: bool = False,
    data: dict[str, Any] | None = None,
) -> None:
    """Create (or bring up to date) one of an entry's repair issues."""
    ir.async_create_issue(
        hass,
        DOMAIN,
        issue_id(entry_id, kind, subject),
        is_fixable=fixable,
        is_persistent=False,
        severity=ir.IssueSeverity.WARNING,
        translation_key=kind,
        translation_placeholders=placeholders,
        data=data,
    )


@callback
def clear_issue(
    hass: HomeAssistant, entry_id: str, kind: IssueKind, subject: str | None = None
) -> None:
    """Remove one of an entry's repair issues, if it is there."""
    ir.async_delete_issue(hass, DOMAIN, issue_id(entry_id, kind, subject))
