"""Constants of the voice_mqtt integration: each name shared across packages, once.

Pure Python: the models and the simulator may read it without Home Assistant.
"""

from enum import StrEnum
from typing import Final

DOMAIN: Final = "voice_mqtt"
MANUFACTURER: Final = "voice_mqtt"


class Scope(StrEnum):
    """What an entity or registry device belongs to; part of every unique id."""

    BRIDGE = "bridge"
    ROOM = "room"
    DEVICE = "device"


# The key (and translation key) of a voice device's media player: restored
# devices that had one keep it, and joins find their members by it.
PLAYER_KEY: Final = "player"


# Bus events, for automations and the logbook (logbook.py describes each).
EVENT_CONVERSATION: Final = f"{DOMAIN}_conversation"  # a room finished a turn
EVENT_TOOL_EXECUTED: Final = f"{DOMAIN}_tool_executed"
EVENT_DISPLAY_ACTION: Final = f"{DOMAIN}_display_action"
EVENT_DEVICE_OFFLINE: Final = f"{DOMAIN}_device_offline"

# Fields of the bus events and of the service actions.
ATTR_CONFIG_ENTRY_ID: Final = "config_entry_id"
ATTR_HEARTBEAT_TIMEOUT: Final = "heartbeat_timeout"

# Namespace (config entry data; changed by the reconfigure flow).
CONF_VERSION: Final = "version"
CONF_BASE: Final = "base"
CONF_DEVICE_PREFIX: Final = "device_prefix"
CONF_SESSION_PREFIX: Final = "session_prefix"
CONF_ADMIN_PREFIX: Final = "admin_prefix"
CONF_XIAOZHI_PREFIX: Final = "xiaozhi_prefix"

# Behaviour (config entry options).
CONF_LEGACY_TOPICS: Final = "legacy_topics"
CONF_HEARTBEAT_TIMEOUT: Final = "heartbeat_timeout"
CONF_QOS: Final = "qos"
CONF_ADMIN_SNAPSHOT: Final = "admin_snapshot"
CONF_HISTORY_TURNS: Final = "history_turns"
CONF_BROKER_HEALTH: Final = "broker_health"
CONF_STALE_DEVICE_DAYS: Final = "stale_device_days"
CONF_MAX_DEVICES: Final = "max_devices"
CONF_MAX_ROOMS: Final = "max_rooms"
CONF_BACKEND_SILENT_MINUTES: Final = "backend_silent_minutes"
# The remote client id of the broker bridge that carries the fleet, when the
# broker has several (with the broker-health option).
CONF_FLEET_LINK: Final = "fleet_link"
CONF_WS_URL: Final = "ws_url"  # the voice server a device's button wakes it to

DEFAULT_QOS: Final = 1
DEFAULT_STALE_DEVICE_DAYS: Final = 30
MAX_STALE_DEVICE_DAYS: Final = 3650
MIN_HEARTBEAT_TIMEOUT: Final = 5
MAX_HEARTBEAT_TIMEOUT: Final = 3600

# Caps on the rooms and devices one entry knows, against an id flood: anyone
# who may publish on devices/+/status could otherwise create devices without
# end. Home Assistant adds at most 10,000 enabled entities per config entry; a
# device has at most 7 enabled by default (5, its media player and its Start
# voice channel button; 2 more disabled), a room 9 and the bridge at most 10
# (with the broker's health and the fleet link), so the largest caps still
# fit: 1,100 x 7 + 250 x 9 + 10 = 9,960. A larger max_devices stored before
# is read as the largest (models/settings.py).
DEFAULT_MAX_DEVICES: Final = 1000
DEFAULT_MAX_ROOMS: Final = 200
LARGEST_MAX_DEVICES: Final = 1100
LARGEST_MAX_ROOMS: Final = 250

# A repair issue says so when no voice topic has been heard for this long
# (after some were) while devices are online; 0 turns it off.
DEFAULT_BACKEND_SILENT_MINUTES: Final = 30
MAX_BACKEND_SILENT_MINUTES: Final = 1440
DEFAULT_HISTORY_TURNS: Final = 50
MAX_HISTORY_TURNS: Final = 500

# Topics in manifest.json for MQTT discovery (the default namespace). Only the
# announce topic: Home Assistant starts a config flow for every message on a
# discovery topic, even once configured, and keeps the last one per topic, so
# the busy voice topics (20-30 chunks a second) must not be one.
DISCOVERY_TOPICS: Final = ("devices/discovery/announce",)
