"""From the hub to the entities, on Home Assistant's event loop.

- listeners: which entities wake for which change of a room, device or the bridge
- arrivals: new rooms and devices (and devices that begin to play) handed to the
  platforms, at a bounded pace
- timers: one sweep for every deadline, streamed answers written at a pace, and
  the groups of a session written once per turn of the loop
"""
