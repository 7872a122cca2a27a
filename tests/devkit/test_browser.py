"""devkit.browser without a browser: the login the frontend is handed, the Chromium run."""

from __future__ import annotations

import json
from pathlib import Path
import time

import pytest

from devkit import browser
from devkit.browser import HassTokens


def test_the_stored_login_is_what_the_frontend_reads() -> None:
    tokens = HassTokens("a.b.c", "r.s.t", "http://127.0.0.1:8123/", 1800)
    stored = json.loads(tokens.stored("http://127.0.0.1:8123/"))
    # hassUrl must equal the page's origin, without a slash, or the frontend
    # ignores the stored tokens and shows its login page.
    assert stored["hassUrl"] == "http://127.0.0.1:8123"
    assert stored["clientId"] == "http://127.0.0.1:8123/"
    assert (stored["access_token"], stored["refresh_token"]) == ("a.b.c", "r.s.t")
    # In epoch ms and before the token really expires: never a stale token.
    now_ms = time.time() * 1000
    assert now_ms < stored["expires"] < now_ms + 1800 * 1000


def _executable(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n")
    path.chmod(0o755)
    return path


@pytest.fixture
def machine(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A machine with nothing named, no Debian Chromium and an empty PATH."""
    for variable in browser.CHROMIUM_VARIABLES:
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setattr(browser, "DEBIAN_CHROMIUM", tmp_path / "usr/bin/chromium")
    monkeypatch.setenv("PATH", str(tmp_path / "path"))
    return tmp_path


def test_a_missing_chromium_says_how_to_install_one(machine: Path) -> None:
    with pytest.raises(FileNotFoundError, match="apt-get install chromium"):
        browser.find_chromium()


def test_debian_s_chromium_comes_before_any_on_path(machine: Path) -> None:
    on_path = _executable(machine / "path" / "google-chrome")
    assert browser.find_chromium() == str(on_path)
    debian = _executable(browser.DEBIAN_CHROMIUM)
    assert browser.find_chromium() == str(debian)


def test_a_chromium_named_wins_and_must_exist(
    machine: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _executable(browser.DEBIAN_CHROMIUM)
    brand = _executable(machine / "path" / "chromium-for-brand")
    tests = _executable(machine / "elsewhere" / "chromium")
    monkeypatch.setenv("CHROMIUM", "chromium-for-brand")  # a name on PATH will do
    assert browser.find_chromium() == str(brand)
    monkeypatch.setenv("VOICE_MQTT_CHROMIUM", str(tests))
    assert browser.find_chromium() == str(tests)
    monkeypatch.setenv("VOICE_MQTT_CHROMIUM", str(machine / "nothing"))
    with pytest.raises(FileNotFoundError, match="VOICE_MQTT_CHROMIUM="):
        browser.find_chromium()
