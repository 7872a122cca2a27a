"""A fresh `scripts/develop --demo`, as a newcomer meets it.

The demo's own set-up code (devkit.develop: its configuration.yaml, the
settings it stores, onboarding and the config flows), a real Home Assistant
process, a real broker and the fleet simulator. Then what the newcomer would
notice: an ERROR in home-assistant.log, a repair about the HTTP settings, a
first page asking to confirm an HTTP setting before it reverts.

One difference from the demo: Home Assistant runs with --skip-pip, so it never
installs into the venv. Whatever the demo loads, the frontend included, must
come with the requirements file, as the demo's first start then installs
nothing either.
"""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path
import time
from typing import Any

from devkit import develop
from devkit.broker import Broker, free_port
from devkit.hass.api import HomeAssistantApi
from devkit.hass.log import LogRecord, log_records, read_logs
from devkit.hass.start import start_hass
from devkit.processes import stop_process

# What Home Assistant itself warns of in any such install, nothing of ours: a
# custom integration is loaded, and no faster zlib is installed; and that this
# test asked it not to install anything.
EXPECTED_WARNINGS = (
    ("homeassistant.loader", "custom integration voice_mqtt"),
    ("aiohttp_fast_zlib", "zlib_ng and isal are not available"),
    ("homeassistant.bootstrap", "Skipping pip installation"),
)
# What onboarding's core-config step would add; the demo needs none of them.
ONBOARDING_DEFAULTS = {"google_translate", "met", "radio_browser", "shopping_list"}
DEVICES_ONLINE = "sensor.voice_assistant_mqtt_devices_online"
# The demo's voice box is woken from its page: it has a voice server URL.
BOX_BUTTON = "button.living_room_voice_box_start_voice_channel"


class Demo:
    """A demo brought up in a folder of its own."""

    def __init__(self, workdir: Path) -> None:
        self.config_dir = workdir / "config"
        self.port = free_port()
        self.api = HomeAssistantApi(f"http://127.0.0.1:{self.port}")
        self.workdir = workdir

    def start(self, stack: ExitStack) -> None:
        """Do what scripts/develop --demo does on a first run."""
        develop.prepare_config("127.0.0.1", self.port, self.config_dir)
        broker = Broker(self.workdir / "broker")
        broker.start()
        stack.callback(broker.stop)
        hass = start_hass(self.config_dir, self.workdir / "hass.out", "--skip-pip")
        stack.callback(stop_process, hass, 30)
        self.api.wait_until_up(120, hass)
        state: dict[str, Any] = {}
        client_id = f"{self.api.base_url}/"
        develop.onboard(self.api, state, client_id, save=lambda _state: None)
        if develop.configure_entries(
            self.api,
            state,
            ("127.0.0.1", broker.port),
            save=lambda _state: None,
            options=develop.DEMO_OPTIONS,
        ):
            develop.wait_until_loaded(self.api)
        develop.wait_until_listening(self.api)
        simulator = develop.start_simulator(("127.0.0.1", broker.port), 3, 2)
        # Stopped before Home Assistant, as scripts/develop does.
        stack.callback(stop_process, simulator, 10)

    def state(self, entity_id: str) -> str | None:
        """Return an entity's state over REST, None while it has none."""
        try:
            return str(self.api.call("GET", f"/api/states/{entity_id}")["state"])
        except develop.ApiError:
            return None


def _is_expected(record: LogRecord) -> bool:
    return any(
        record.logger == logger and text in record.text
        for logger, text in EXPECTED_WARNINGS
    )


def test_a_fresh_demo_asks_nothing_repairs_nothing_and_logs_no_error(
    tmp_path: Path,
) -> None:
    demo = Demo(tmp_path)
    with ExitStack() as stack:
        demo.start(stack)
        deadline = time.monotonic() + 30
        while demo.state(DEVICES_ONLINE) != "3" and time.monotonic() < deadline:
            time.sleep(0.2)
        online = demo.state(DEVICES_ONLINE)
        while demo.state(BOX_BUTTON) is None and time.monotonic() < deadline:
            time.sleep(0.2)
        button = demo.state(BOX_BUTTON)
        # What the frontend reads to show "Confirm new HTTP server configuration".
        settings = demo.api.websocket({"type": "http/config"})
        issues = demo.api.websocket({"type": "repairs/list_issues"})["issues"]
        entries = demo.api.call("GET", "/api/config/config_entries/entry")
    # Everything is stopped: the log holds the shutdown too.
    records = list(log_records(read_logs(demo.config_dir)))

    assert online == "3", "the simulated fleet did not come up"
    assert button == "unknown", "the voice box has no Start voice channel button"
    assert settings["pending"] is None
    assert settings["revert_at"] is None
    assert settings["active_config_type"] == "stable"
    assert settings["stable"]["server_host"] == ["127.0.0.1"]
    assert settings["stable"]["server_port"] == demo.port
    ours = {"http", "mqtt", "voice_mqtt"}
    assert [issue for issue in issues if issue["domain"] in ours] == []
    domains = {entry["domain"] for entry in entries}
    assert {"mqtt", "voice_mqtt"} <= domains
    assert not domains & ONBOARDING_DEFAULTS
    errors = [r.text for r in records if r.level in {"ERROR", "CRITICAL"}]
    assert errors == []
    warnings = [r.text for r in records if r.level == "WARNING" and not _is_expected(r)]
    assert warnings == []
