"""The brand images: what Home Assistant serves and HACS checks, and their sources.

Read with the standard library only (a PNG's size and colour type are in its
IHDR chunk), so the test needs neither Chromium nor Pillow. The images must
be the renders of the SVG sources as they are now: scripts/render-brand
records both in brand/src/rendered.sha256, and an SVG changed since (or an
image edited by hand) fails here. Home Assistant itself serves them.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
import re
import struct

from homeassistant.components.brands.const import ALLOWED_IMAGES
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

ROOT = Path(__file__).parents[1]
BRAND = ROOT / "custom_components" / "voice_mqtt" / "brand"
SOURCES = ROOT / "brand" / "src"
MANIFEST = SOURCES / "rendered.sha256"

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
RGBA = 6  # IHDR colour type: truecolour with alpha


def png_header(path: Path) -> tuple[int, int, int, int]:
    """Return width, height, bit depth and colour type from a PNG's IHDR."""
    head = path.read_bytes()[:26]
    assert head[:8] == PNG_SIGNATURE, f"{path.name} is not a PNG"
    assert head[12:16] == b"IHDR", f"{path.name}: IHDR is not the first chunk"
    width, height, depth, colour = struct.unpack(">IIBB", head[16:26])
    return width, height, depth, colour


def test_the_brand_folder_holds_exactly_what_home_assistant_serves() -> None:
    # Home Assistant serves these names from a custom integration's brand/
    # folder; HACS's brands check looks for brand/icon.png.
    assert {path.name for path in BRAND.iterdir()} == ALLOWED_IMAGES
    assert (BRAND / "icon.png").is_file()


@pytest.mark.parametrize("name", sorted(ALLOWED_IMAGES))
def test_every_image_has_its_size_and_an_alpha_channel(name: str) -> None:
    width, height, depth, colour = png_header(BRAND / name)
    assert (depth, colour) == (8, RGBA), "8-bit RGBA: a transparent background"
    scale = 2 if "@2x" in name else 1
    if "icon" in name:
        assert (width, height) == (256 * scale, 256 * scale)
    else:
        assert width >= height, "a landscape logo"
        assert 128 * scale <= height <= 256 * scale
    if scale == 2:
        single = png_header(BRAND / name.replace("@2x", ""))
        assert (width, height) == (single[0] * 2, single[1] * 2)


def _manifest() -> dict[str, str]:
    recorded = {}
    for line in MANIFEST.read_text().splitlines():
        digest, _, name = line.partition("  ")
        recorded[(SOURCES / name).resolve()] = digest
    return recorded


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_the_images_are_the_renders_of_the_current_sources() -> None:
    recorded = _manifest()
    sources = sorted(SOURCES.glob("*.svg"))
    assert [path.name for path in sources] == ["icon.svg", "logo.svg"]
    for path in [*sources, *(BRAND / name for name in sorted(ALLOWED_IMAGES))]:
        assert recorded.get(path.resolve()) == _sha256(path), (
            f"{path.relative_to(ROOT)} changed since the last render:"
            " run scripts/render-brand and commit the images with their source"
        )


def _mark(svg: str) -> str:
    match = re.search(r'<g id="mark">.*?\n  </g>', svg, re.DOTALL)
    assert match, "no <g id='mark'> group"
    return match[0]


def _palettes(svg: str) -> dict[str, str]:
    return dict(re.findall(r"(--[\w-]+): (#[0-9a-f]{6})", svg))


def test_the_logo_shows_the_icon_as_it_is() -> None:
    icon = (SOURCES / "icon.svg").read_text()
    logo = (SOURCES / "logo.svg").read_text()
    assert _mark(logo) == _mark(icon)
    # Both palettes (light, then dark) agree wherever both use a colour.
    for theme in (0, 1):
        icon_colours = _palettes(icon.split("\n    .dark svg")[theme])
        logo_colours = _palettes(logo.split("\n    .dark svg")[theme])
        assert icon_colours
        assert icon_colours.items() <= logo_colours.items()


@pytest.mark.parametrize("name", ["icon.png", "dark_logo@2x.png"])
async def test_home_assistant_serves_the_images(
    hass: HomeAssistant, hass_client: ClientSessionGenerator, name: str
) -> None:
    assert await async_setup_component(hass, "brands", {})
    client = await hass_client()
    response = await client.get(f"/api/brands/integration/voice_mqtt/{name}")
    assert response.status == 200
    assert await response.read() == (BRAND / name).read_bytes()
