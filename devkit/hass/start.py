"""Starting Home Assistant: the process, and a throwaway one set up as a user would.

start_hass runs `python -m homeassistant` on a config folder (scripts/develop
keeps its own). start_scratch_hass writes a config into a folder of its own
first: scripts/soak, scripts/smoke, scripts/screenshots, the real-broker
benchmark and end-to-end tests start one. That config loads voice_mqtt from
the repository and an empty frontend; with --skip-pip Home Assistant installs
nothing, so the venv is never touched. A browser test asks for the real
frontend (the home-assistant-frontend package, a test requirement).
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import ExitStack
import os
from pathlib import Path
import subprocess
import sys
from typing import Any

from devkit import REPO
from devkit.broker import free_port
from devkit.processes import stop_process

from .api import (
    DEFAULT_NAMESPACE,
    HomeAssistantApi,
    mqtt_flow_input,
    onboard_owner,
    run_flow,
    wait_until_listening,
    wait_until_running,
)
from .storage import skip_onboarding_defaults, write_http_settings

CONFIGURATION_YAML = """\
# Written by {tool}, in a temporary folder of its own.
homeassistant:
  name: voice_mqtt {name}
  unit_system: metric
  time_zone: UTC
  currency: EUR
  country: FR
  language: en

{frontend}

# Where Home Assistant listens is in .storage/http (devkit.hass.storage).
logger:
  default: warning
{extra}"""


def start_hass(
    config_dir: Path,
    output: Path,
    *extra: str,
    env: Mapping[str, str] | None = None,
) -> subprocess.Popen[bytes]:
    """Start `python -m homeassistant` on config_dir, its output into output.

    env, when given, is added to this process's environment for hass.
    """
    with output.open("wb") as log:
        return subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "homeassistant", "-c", str(config_dir), *extra],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env=None if env is None else {**os.environ, **env},
        )


def start_scratch_hass(
    stack: ExitStack,
    workdir: Path,
    *,
    tool: str,
    name: str,
    extra_yaml: str = "",
    env: dict[str, str] | None = None,
    real_frontend: bool = False,
    files: dict[str, str] | None = None,
) -> tuple[HomeAssistantApi, subprocess.Popen[bytes]]:
    """Write the config in workdir, start hass, wait for its HTTP server.

    Without real_frontend the frontend is an empty folder: nothing to draw,
    nothing to load. files are written into the config folder first (a YAML
    dashboard, say), by their path relative to it. hass is stopped when
    stack closes.
    """
    config_dir = workdir / "config"
    frontend = "frontend:"
    if not real_frontend:
        # The frontend is always loaded; an empty one is enough.
        empty = workdir / "frontend"
        (empty / "hass_frontend").mkdir(parents=True)
        frontend += f"\n  development_repo: {empty}"
    components = config_dir / "custom_components"
    components.mkdir(parents=True)
    (components / "voice_mqtt").symlink_to(REPO / "custom_components" / "voice_mqtt")
    for relative, text in (files or {}).items():
        (config_dir / relative).parent.mkdir(parents=True, exist_ok=True)
        (config_dir / relative).write_text(text)
    port = free_port()
    # As scripts/develop does: the address a stored setting, no onboarding defaults.
    write_http_settings(config_dir, "127.0.0.1", port)
    skip_onboarding_defaults(config_dir)
    (config_dir / "configuration.yaml").write_text(
        CONFIGURATION_YAML.format(
            tool=tool, name=name, frontend=frontend, extra=extra_yaml
        )
    )
    hass = start_hass(config_dir, workdir / "home-assistant.out", "--skip-pip", env=env)
    stack.callback(stop_process, hass, 30)
    api = HomeAssistantApi(f"http://127.0.0.1:{port}")
    api.wait_until_up(300, hass)
    return api, hass


def set_up_voice_mqtt(
    api: HomeAssistantApi, owner: dict[str, Any], broker_port: int, username: str
) -> str:
    """Onboard the owner, add MQTT and voice_mqtt; return voice_mqtt's entry id."""
    onboard_owner(
        api,
        owner,
        f"{api.base_url}/",
        name=username.capitalize(),
        username=username,
        save=lambda _state: None,
    )
    run_flow(api, "mqtt", mqtt_flow_input(("127.0.0.1", broker_port)))
    entry = run_flow(api, "voice_mqtt", dict(DEFAULT_NAMESPACE))["result"]
    wait_until_listening(api)
    # Started for good: from now on a stop saves what it has (see there).
    wait_until_running(api)
    return str(entry["entry_id"])
