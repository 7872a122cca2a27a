"""What the devkit writes into Home Assistant's .storage before it starts.

The HTTP server's address and port are settings Home Assistant keeps in
.storage/http, changed in the UI. An `http:` section in configuration.yaml is
migrated once into a *pending* trial: the first page then asks to confirm it
within five minutes (or Home Assistant reverts and restarts) and Settings
shows a deprecated_yaml repair. The devkit decides where the Home Assistant it
starts listens, so it writes that as the confirmed (stable) setting instead,
in the store's own format, with Home Assistant's own defaults filled in.

Onboarding's core-config step also adds Google Translate text-to-speech,
Met.no weather, Radio Browser and a shopping list, which need packages the
test requirements do not hold and log errors without them. configuration.yaml
already sets what that step confirms (name, units, time zone, country), and
the demo needs none of those four, so a new config starts with the step done.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from homeassistant.components.http import config as http_config
from homeassistant.components.http.const import CONF_SERVER_HOST, CONF_SERVER_PORT
from homeassistant.components.onboarding import (
    STORAGE_KEY as ONBOARDING_KEY,
    STORAGE_VERSION as ONBOARDING_VERSION,
)
from homeassistant.components.onboarding.const import STEP_CORE_CONFIG
from homeassistant.util import dt as dt_util

# What Home Assistant adds to a stored HTTP setting besides the setting itself.
_HTTP_META = (
    http_config.HTTP_CONFIG_CREATED_AT,
    http_config.HTTP_CONFIG_ERROR,
    http_config.HTTP_CONFIG_ERROR_MESSAGE,
)


def storage_path(config_dir: Path, key: str) -> Path:
    """Return where Home Assistant keeps the store named key."""
    return config_dir / ".storage" / key


def read_store(config_dir: Path, key: str) -> dict[str, Any] | None:
    """Return a store's data, None when there is none."""
    path = storage_path(config_dir, key)
    if not path.exists():
        return None
    data: dict[str, Any] = json.loads(path.read_text())["data"]
    return data


def write_store(
    config_dir: Path, key: str, version: int, minor_version: int, data: Any
) -> None:
    """Write a store as Home Assistant's Store does: versioned, owner-only."""
    path = storage_path(config_dir, key)
    path.parent.mkdir(parents=True, exist_ok=True)
    envelope = {
        "version": version,
        "minor_version": minor_version,
        "key": key,
        "data": data,
    }
    # Private, as Home Assistant writes it: the store is readable by the owner only.
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as file:
        json.dump(envelope, file, indent=2)


def http_settings(host: str, port: int) -> dict[str, Any]:
    """Return the HTTP setting for host:port, with Home Assistant's defaults."""
    settings: dict[str, Any] = http_config.HTTP_STORAGE_SCHEMA(
        {CONF_SERVER_HOST: [host], CONF_SERVER_PORT: port}
    )
    return settings


def write_http_settings(config_dir: Path, host: str, port: int) -> None:
    """Make host:port the confirmed HTTP setting, with nothing pending.

    Left alone when it already is, so its creation time stays true.
    """
    wanted = http_settings(host, port)
    stored = read_store(config_dir, http_config.STORAGE_KEY)
    if (
        stored is not None
        and stored.get(http_config.KEY_PENDING) is None
        and stored.get(http_config.KEY_YAML_MIGRATION_DONE) is True
        and _without_meta(stored.get(http_config.KEY_STABLE, {})) == wanted
    ):
        return
    stable = {
        **wanted,
        http_config.HTTP_CONFIG_CREATED_AT: dt_util.utcnow().isoformat(),
        http_config.HTTP_CONFIG_ERROR: None,
        http_config.HTTP_CONFIG_ERROR_MESSAGE: None,
    }
    write_store(
        config_dir,
        http_config.STORAGE_KEY,
        http_config.STORAGE_VERSION,
        http_config.STORAGE_MINOR_VERSION,
        {
            http_config.KEY_STABLE: stable,
            http_config.KEY_PENDING: None,
            # Nothing in configuration.yaml to migrate: the store is the truth.
            http_config.KEY_YAML_MIGRATION_DONE: True,
        },
    )


def skip_onboarding_defaults(config_dir: Path) -> None:
    """Start a new config with onboarding's core-config step done."""
    if read_store(config_dir, ONBOARDING_KEY) is not None:
        return  # onboarding began (or ended) already: leave it as it is
    write_store(
        config_dir, ONBOARDING_KEY, ONBOARDING_VERSION, 1, {"done": [STEP_CORE_CONFIG]}
    )


def _without_meta(setting: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in setting.items() if key not in _HTTP_META}
