"""Rooms and voice devices in Home Assistant's registries.

- devices: the registry devices of the bridge, rooms and voice devices; unique ids
- automation_targets: which entity of a room or device a device automation follows
- last_seen: when each was last heard of, kept across restarts; stale ones removed
"""
