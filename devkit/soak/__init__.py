"""scripts/soak: a hostile soak of voice_mqtt (python -m devkit.soak.run).

run.py        the command line and the run: broker, Home Assistant, simulator
fuzz.py       the fuzzer's plan: garbage, floods of ids, valid-looking noise
fuzz_targets.py, fuzz_literals.py   what it aims at, and with what
publisher.py  the fuzzer on the wire, paced
measure.py    what is measured of Home Assistant while it runs
report.py     the limits, and the report that judges by them
"""
