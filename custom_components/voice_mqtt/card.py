"""The conversation card: its JavaScript served and added to every frontend.

`custom:voice-mqtt-conversation-card` lives in frontend/ beside this module,
plain ES modules that run as served. Once per Home Assistant (from
async_setup, so reloading an entry does not repeat it) the folder is served
under URL_PATH and the card's entry module is added to the frontend's extra
modules: every browser loads it, no dashboard resource to add by hand. The
URL carries a hash of the folder's files, so a new version is fetched at once
and the unchanged one is revalidated, never stale.

Without the frontend (a headless Home Assistant) there is nothing to do.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from typing import Final

from homeassistant.components.frontend import add_extra_js_url
from homeassistant.components.http import (  # type: ignore[attr-defined]
    StaticPathConfig,  # its documented home, re-exported without __all__
)
from homeassistant.core import HomeAssistant

from .const import DOMAIN

_LOGGER = logging.getLogger(__name__)

CARD_DIR: Final = Path(__file__).parent / "frontend"
CARD_MODULE: Final = "voice-mqtt-conversation-card.js"
URL_PATH: Final = f"/{DOMAIN}/frontend"


def card_version(folder: Path = CARD_DIR) -> str:
    """Return a short hash of the card's files: it changes with any of them."""
    digest = hashlib.sha256()
    for path in sorted(folder.glob("*.js")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


async def async_register_card(hass: HomeAssistant) -> str | None:
    """Serve the card and add it to the frontend; return its URL.

    None when the frontend is not loaded: no browser will ask for it.
    """
    if "frontend" not in hass.config.components:
        _LOGGER.debug("No frontend: the conversation card is not served")
        return None
    version = await hass.async_add_executor_job(card_version)
    # No cache headers: the sibling modules the entry imports carry no
    # version in their URLs, so browsers revalidate them (a 304 when unchanged).
    await hass.http.async_register_static_paths(
        [StaticPathConfig(URL_PATH, str(CARD_DIR), cache_headers=False)]
    )
    url = f"{URL_PATH}/{CARD_MODULE}?v={version}"
    add_extra_js_url(hass, url)
    return url
