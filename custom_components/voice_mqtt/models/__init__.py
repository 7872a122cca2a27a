"""What the fleet's messages add up to: rooms, devices, turns and presence.

Pure Python: nothing here imports Home Assistant, so the models are tested
(and fuzzed) on their own and the simulator can load them without it.

- presence: whether a device is online (announce, status, heartbeat, Last Will, timeout)
- device: what a voice device's topics say (presence, status, session, events, name),
  and whether it plays media
- sessions: which devices share each session (a media player's group)
- heartbeats: repeated heartbeats taken without a parse
- room: what a room's voice sessions say (state, transcript, answer, events)
- turn: one turn of a room's conversation, gathered and timed
- migration: v0 to v1, a message heard on both layouts counts once
- settings: what a config entry asks of the hub
"""
