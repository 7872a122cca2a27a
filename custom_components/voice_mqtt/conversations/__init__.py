"""Rooms' conversations on Home Assistant's side, one turn at a time.

- figures: a bus event per turn, and the fleet's figures of the day
- history: each room's last turns, kept across restarts
"""
