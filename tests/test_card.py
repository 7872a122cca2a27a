"""The conversation card: served by the integration, added to the frontend.

What a browser does with it is tests/e2e/test_card.py's; here, what Home
Assistant is asked to do: serve the files, list the module, once.
"""

from __future__ import annotations

from pathlib import Path
import re

from homeassistant.components.frontend import DATA_EXTRA_MODULE_URL
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import (
    ClientSessionGenerator,
    MqttMockHAClient,
)

from custom_components.voice_mqtt.card import (
    CARD_DIR,
    CARD_MODULE,
    URL_PATH,
    async_register_card,
    card_version,
)

MODULE_URL = f"{URL_PATH}/{CARD_MODULE}?v={card_version()}"


def ours(hass: HomeAssistant) -> list[str]:
    return [url for url in hass.data[DATA_EXTRA_MODULE_URL].urls if URL_PATH in url]


async def test_the_card_is_served_and_added_to_every_frontend(
    hass: HomeAssistant,
    mqtt_mock: MqttMockHAClient,
    config_entry: MockConfigEntry,
    hass_client: ClientSessionGenerator,
) -> None:
    assert await async_setup_component(hass, "frontend", {})
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    assert ours(hass) == [MODULE_URL]

    client = await hass_client()
    for name in sorted(path.name for path in CARD_DIR.glob("*.js")):
        answer = await client.get(f"{URL_PATH}/{name}")
        assert answer.status == 200, name
        assert "javascript" in answer.content_type
        assert await answer.text() == (CARD_DIR / name).read_text()
    # The entry module imports its siblings by relative URLs, served beside it.
    entry = (CARD_DIR / CARD_MODULE).read_text()
    assert 'from "./card.js"' in entry

    # Reloading the entry serves nothing twice (a second registration of the
    # static path would raise) and lists the module once.
    assert await hass.config_entries.async_reload(config_entry.entry_id)
    await hass.async_block_till_done()
    assert ours(hass) == [MODULE_URL]


async def test_without_a_frontend_nothing_is_served(
    hass: HomeAssistant, integration: MockConfigEntry
) -> None:
    assert "frontend" not in hass.config.components
    assert await async_register_card(hass) is None


def test_the_version_follows_every_file(tmp_path: Path) -> None:
    (tmp_path / "a.js").write_text("one")
    (tmp_path / "b.js").write_text("two")
    before = card_version(tmp_path)
    assert card_version(tmp_path) == before
    (tmp_path / "b.js").write_text("three")
    assert card_version(tmp_path) != before
    assert len(before) == 12


def test_its_page_documents_every_option_the_card_reads() -> None:
    docs = Path(__file__).parents[1] / "docs"
    page = (docs / "card.md").read_text()
    section = page.split("# The conversation card", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"^\| `(\w+)` \|", section, re.MULTILINE))
    read = {
        option
        for path in CARD_DIR.glob("*.js")
        for option in re.findall(r"config\.(\w+)", path.read_text())
    }
    assert documented == read == {"room", "device_id", "title", "turns"}
    images = re.findall(r"(images/[\w-]+\.png)", section)
    assert len(images) == 3
    for image in images:
        assert (docs / image).is_file(), image
