"""The MQTT broker as the hub sees it, on Home Assistant's connection.

- connection: whether Home Assistant's broker connection is up; how parts subscribe
- intake: every message parsed once, counted, dropped with a reason if bad
- health: the broker's own $SYS figures (an option)
"""
