"""The voice fleet on Home Assistant's side: its health, its limits, its answers.

- link: the broker bridge that carries the fleet, up or down, and its replays
- health: who is online, connections lost today, devices that keep dropping off
- limits: the caps on rooms and devices an entry knows, against an id flood
- snapshot: the device list, published retained for admin panels (an option)
- answers: commands that answer, waiting for the device that was asked
"""
