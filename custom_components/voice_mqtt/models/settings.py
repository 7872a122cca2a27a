"""What a config entry asks of the hub: its namespace and its behaviour.

Pure Python (no Home Assistant imports): read from the entry's data and
options, which are plain mappings.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..const import (
    CONF_ADMIN_PREFIX,
    CONF_ADMIN_SNAPSHOT,
    CONF_BACKEND_SILENT_MINUTES,
    CONF_BASE,
    CONF_BROKER_HEALTH,
    CONF_DEVICE_PREFIX,
    CONF_FLEET_LINK,
    CONF_HEARTBEAT_TIMEOUT,
    CONF_HISTORY_TURNS,
    CONF_LEGACY_TOPICS,
    CONF_MAX_DEVICES,
    CONF_MAX_ROOMS,
    CONF_QOS,
    CONF_SESSION_PREFIX,
    CONF_STALE_DEVICE_DAYS,
    CONF_VERSION,
    CONF_WS_URL,
    CONF_XIAOZHI_PREFIX,
    DEFAULT_BACKEND_SILENT_MINUTES,
    DEFAULT_HISTORY_TURNS,
    DEFAULT_MAX_DEVICES,
    DEFAULT_MAX_ROOMS,
    DEFAULT_QOS,
    DEFAULT_STALE_DEVICE_DAYS,
    LARGEST_MAX_DEVICES,
)
from ..protocol import (
    DEFAULT_ADMIN_PREFIX,
    DEFAULT_BASE,
    DEFAULT_DEVICE_PREFIX,
    DEFAULT_SESSION_PREFIX,
    DEFAULT_VERSION,
    DEFAULT_XIAOZHI_PREFIX,
    TopicScheme,
    is_websocket_url,
)
from .presence import DEFAULT_HEARTBEAT_TIMEOUT


@dataclass(frozen=True, slots=True)
class Settings:
    """What a config entry asks of the hub."""

    scheme: TopicScheme
    legacy_topics: bool = False
    heartbeat_timeout: float = DEFAULT_HEARTBEAT_TIMEOUT
    qos: int = DEFAULT_QOS
    admin_snapshot: bool = False
    stale_device_days: int = DEFAULT_STALE_DEVICE_DAYS
    max_devices: int = DEFAULT_MAX_DEVICES
    max_rooms: int = DEFAULT_MAX_ROOMS
    backend_silent_minutes: int = DEFAULT_BACKEND_SILENT_MINUTES
    broker_health: bool = False
    history_turns: int = DEFAULT_HISTORY_TURNS
    # The bridge that carries the fleet (its remote client id); "" for the only one.
    fleet_link: str = ""
    # The voice server devices' buttons wake them to; None: no buttons.
    ws_url: str | None = None

    @classmethod
    def from_entry(
        cls, data: Mapping[str, Any], options: Mapping[str, Any]
    ) -> Settings:
        """Read the namespace from an entry's data, the behaviour from its options."""
        return cls(
            scheme=TopicScheme(
                version=data.get(CONF_VERSION, DEFAULT_VERSION),
                base=data.get(CONF_BASE, DEFAULT_BASE),
                device_prefix=data.get(CONF_DEVICE_PREFIX, DEFAULT_DEVICE_PREFIX),
                session_prefix=data.get(CONF_SESSION_PREFIX, DEFAULT_SESSION_PREFIX),
                admin_prefix=data.get(CONF_ADMIN_PREFIX, DEFAULT_ADMIN_PREFIX),
                xiaozhi_prefix=data.get(CONF_XIAOZHI_PREFIX, DEFAULT_XIAOZHI_PREFIX),
            ),
            legacy_topics=options.get(CONF_LEGACY_TOPICS, False),
            heartbeat_timeout=float(
                options.get(CONF_HEARTBEAT_TIMEOUT, DEFAULT_HEARTBEAT_TIMEOUT)
            ),
            qos=int(options.get(CONF_QOS, DEFAULT_QOS)),
            admin_snapshot=options.get(CONF_ADMIN_SNAPSHOT, False),
            stale_device_days=int(
                options.get(CONF_STALE_DEVICE_DAYS, DEFAULT_STALE_DEVICE_DAYS)
            ),
            # An entry set when the cap was larger gets the largest there is.
            max_devices=min(
                int(options.get(CONF_MAX_DEVICES, DEFAULT_MAX_DEVICES)),
                LARGEST_MAX_DEVICES,
            ),
            max_rooms=int(options.get(CONF_MAX_ROOMS, DEFAULT_MAX_ROOMS)),
            backend_silent_minutes=int(
                options.get(CONF_BACKEND_SILENT_MINUTES, DEFAULT_BACKEND_SILENT_MINUTES)
            ),
            broker_health=options.get(CONF_BROKER_HEALTH, False),
            history_turns=int(options.get(CONF_HISTORY_TURNS, DEFAULT_HISTORY_TURNS)),
            fleet_link=str(options.get(CONF_FLEET_LINK) or "").strip(),
            # The options flow stores only a valid URL; a hand-edited one that
            # is not is no URL.
            ws_url=url if is_websocket_url(url := options.get(CONF_WS_URL)) else None,
        )

    @property
    def migration(self) -> bool:
        """Tell whether v0 topics are heard besides the configured version."""
        return self.legacy_topics and not self.scheme.is_legacy
