"""A real Home Assistant process, as a user meets it.

start.py    start one: on a config folder, or a throwaway one set up
through onboarding and the config flows
api.py      talk to it: REST and websocket, onboarding, config flows
storage.py  what is written into its .storage before it starts
log.py      read its home-assistant.log
"""
