"""scripts/smoke: voice_mqtt on a released Home Assistant (python -m devkit.smoke.run).

run.py     the command line: the release's venv, a broker, then checks.py
checks.py  run by the release's Python: Home Assistant, the simulator, the checks
fleet.py   what the registries and states show of the simulated fleet
log.py     what home-assistant.log may and may not say of voice_mqtt
"""
