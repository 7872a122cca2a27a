"""Developer tooling: everything scripts/ runs, and what the end-to-end tests start.

What several tools share:
    broker.py     a local MQTT broker (mosquitto, or amqtt)
    tls.py        a CA of our own and a loopback server certificate it signed
    bridge.py     the fleet's broker and Home Assistant's, bridged by the
                  recipe of docs/bridge.md
    hass/         a real Home Assistant: its start, its API, its .storage, its log
    browser.py    headless Chromium logged into a Home Assistant
    processes.py  child processes: the simulator, stopping, memory
    cli.py        what every command line here does alike

One tool each:
    develop.py      scripts/develop (the demo)
    screenshots.py  scripts/screenshots
    brand.py        scripts/render-brand
    soak/           scripts/soak, with its fuzzer
    smoke/          scripts/smoke
    latency.py      scripts/benchmark --real-broker (latency_stats.py: its arithmetic)
"""

from pathlib import Path
from typing import Final

# The repository: what devkit starts runs from here, with the integration in it.
REPO: Final = Path(__file__).resolve().parents[1]
# The integration's domain, as Home Assistant's registries and logs name it.
DOMAIN: Final = "voice_mqtt"
