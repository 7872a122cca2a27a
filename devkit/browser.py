"""Headless Chromium logged into a running Home Assistant, through Playwright.

For tests and tools that must see what a user sees: a dashboard, a card, the
logbook, an editor. Playwright (the Python package, pinned in
requirements_test.txt) drives the system's Chromium (find_chromium: Debian's
`chromium` package at /usr/bin/chromium, unless VOICE_MQTT_CHROMIUM names
another); it never downloads a browser of its own, so `playwright install`
is never needed. scripts/render-brand runs the same Chromium by itself.

    tokens = login_tokens(api, refresh_token, client_id)
    async with logged_in_page(api.base_url, tokens, color_scheme="dark") as page:
        await open_path(page, "/voice-fleet/rooms")
        await screenshot(page, Path("rooms.png"))

The login is the frontend's own: the tokens go into localStorage as
`hassTokens` before the first script runs, as if the user had logged in on
that browser; the frontend refreshes them itself when they expire.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
import json
import os
from pathlib import Path
import shutil
import time
from typing import TYPE_CHECKING, Literal

from .hass.api import HomeAssistantApi, refresh_access_token

if TYPE_CHECKING:
    from playwright.async_api import Browser, ConsoleMessage, Page

# Where Debian's chromium package puts it; the devcontainer installs that one.
DEBIAN_CHROMIUM = Path("/usr/bin/chromium")
# Elsewhere, the first of these on PATH.
CHROMIUM_NAMES = (
    "chromium",
    "chromium-browser",
    "google-chrome",
    "google-chrome-stable",
)
# Either names the one to run instead, by path or by name on PATH;
# CHROMIUM is what scripts/render-brand always read.
CHROMIUM_VARIABLES = ("VOICE_MQTT_CHROMIUM", "CHROMIUM")

# The frontend is up for a user once <home-assistant> holds a connected hass
# with the states: what every panel needs before it draws anything.
HASS_READY = """() => {
  const root = document.querySelector("home-assistant");
  return Boolean(root && root.hass && root.hass.connected && root.hass.states);
}"""

ColorScheme = Literal["light", "dark"]


@dataclass(frozen=True)
class HassTokens:
    """What the frontend keeps of a login: an access and a refresh token.

    client_id must be the one the refresh token was issued to: the frontend
    refreshes with it. Home Assistant's frontend uses the origin plus "/".
    """

    access_token: str
    refresh_token: str
    client_id: str
    expires_in: int = 1800

    def stored(self, base_url: str) -> str:
        """Return the JSON the frontend reads from localStorage.hassTokens."""
        return json.dumps(
            {
                "hassUrl": base_url.rstrip("/"),
                "clientId": self.client_id,
                "access_token": self.access_token,
                "refresh_token": self.refresh_token,
                "token_type": "Bearer",
                "expires_in": self.expires_in,
                # Epoch ms, as the frontend counts; a little early, to be safe.
                "expires": int((time.time() + self.expires_in - 60) * 1000),
            }
        )


def login_tokens(
    api: HomeAssistantApi, refresh_token: str, client_id: str
) -> HassTokens:
    """Trade a refresh token (onboard_owner keeps one) for a fresh login."""
    answer = refresh_access_token(api, refresh_token, client_id)
    return HassTokens(
        access_token=answer["access_token"],
        refresh_token=refresh_token,
        client_id=client_id,
        expires_in=int(answer.get("expires_in", 1800)),
    )


def find_chromium() -> str:
    """Return the Chromium to run: the one named, else the system's.

    Raises FileNotFoundError, saying how to install one, when there is none.
    """
    for variable in CHROMIUM_VARIABLES:
        if named := os.environ.get(variable):
            if found := shutil.which(named):
                return found
            raise FileNotFoundError(f"{variable}={named}: no such executable")
    found = shutil.which(DEBIAN_CHROMIUM) or next(
        filter(None, map(shutil.which, CHROMIUM_NAMES)), None
    )
    if found is None:
        raise FileNotFoundError(
            f"{DEBIAN_CHROMIUM} not found: install Debian's chromium package"
            " (apt-get install chromium) or set VOICE_MQTT_CHROMIUM"
        )
    return found


@asynccontextmanager
async def chromium() -> AsyncIterator[Browser]:
    """Launch the system's headless Chromium; closed on leaving."""
    from playwright.async_api import async_playwright  # noqa: PLC0415 - test tool

    executable = find_chromium()
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=executable,
            headless=True,
            # A container's /dev/shm is often too small for Chromium's renderer.
            args=["--disable-dev-shm-usage"],
        )
        try:
            yield browser
        finally:
            await browser.close()


@asynccontextmanager
async def logged_in_page(
    base_url: str,
    tokens: HassTokens,
    *,
    width: int = 1280,
    height: int = 800,
    color_scheme: ColorScheme = "light",
    scale: float = 1,
    console: list[str] | None = None,
    browser: Browser | None = None,
) -> AsyncIterator[Page]:
    """Yield a page of a fresh browser context, logged into base_url.

    width and height are the viewport in CSS pixels (a phone is about
    390 x 844), scale the device pixel ratio of the screenshots;
    color_scheme is what the page's prefers-color-scheme says, which Home
    Assistant's default theme follows. console, when given, collects the
    page's console messages and uncaught errors as "type: text" lines. A
    browser may be shared between pages; without one, one is launched.
    """
    async with _browser(browser) as running:
        context = await running.new_context(
            viewport={"width": width, "height": height},
            device_scale_factor=scale,
            color_scheme=color_scheme,
            base_url=base_url,
        )
        await context.add_init_script(
            f"window.localStorage.setItem('hassTokens', {tokens.stored(base_url)!r});"
        )
        page = await context.new_page()
        if console is not None:
            _collect(page, console)
        try:
            yield page
        finally:
            await context.close()


async def open_path(
    page: Page, path: str, *, ready: str | None = None, within: float = 60
) -> None:
    """Open path (e.g. "/lovelace/0") and wait until the frontend is connected.

    ready, a CSS selector (Playwright's pierce shadow roots), is then waited
    for too: the card or panel the caller came to see. Each wait may take
    within seconds.
    """
    await page.goto(path, wait_until="domcontentloaded", timeout=within * 1000)
    await page.wait_for_function(HASS_READY, timeout=within * 1000)
    if ready is not None:
        await page.locator(ready).first.wait_for(timeout=within * 1000)


async def screenshot(page: Page, target: Path, *, selector: str | None = None) -> Path:
    """Save a PNG of the page, or of the first element selector matches."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if selector is None:
        await page.screenshot(path=target, animations="disabled")
    else:
        await page.locator(selector).first.screenshot(
            path=target, animations="disabled"
        )
    return target


@asynccontextmanager
async def _browser(browser: Browser | None) -> AsyncIterator[Browser]:
    if browser is not None:
        yield browser
        return
    async with chromium() as launched:
        yield launched


def _collect(page: Page, into: list[str]) -> None:
    def message(entry: ConsoleMessage) -> None:
        into.append(f"{entry.type}: {entry.text}")

    def error(err: Exception) -> None:
        into.append(f"pageerror: {err!r} {getattr(err, 'stack', '')}")

    page.on("console", message)
    page.on("pageerror", error)
