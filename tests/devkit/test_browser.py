"""devkit.browser without a browser: the login the frontend is handed."""

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


def test_a_missing_chromium_says_how_to_install_one(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(browser, "CHROMIUM", tmp_path / "chromium")
    with pytest.raises(FileNotFoundError, match="apt-get install chromium"):
        browser.system_chromium()
