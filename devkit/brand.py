"""scripts/render-brand: the brand images, rendered from their SVG sources.

Home Assistant serves a custom integration's own `brand/` folder (icon,
logo, their @2x and dark_ variants) and HACS's brands check looks for its
icon.png. The images are drawn by hand as SVG in brand/src/ and rendered
here, at the sizes the home-assistant/brands README asks for, by the
system's headless Chromium (devkit.browser.find_chromium; CHROMIUM names
another) on a transparent page. Pillow (which Home
Assistant already installs) checks each result: exact size, an alpha
channel, trimmed edges. brand/src/rendered.sha256 records the sources and
what they rendered to, so a test can tell when an SVG changed without a
new render (`sha256sum -c rendered.sha256` in brand/src/ says the same).

Each SVG carries a light and a dark palette as CSS custom properties; the
dark_ images are the same drawing under `.dark`, the class this script puts
on the page around it.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
import hashlib
import os
from pathlib import Path
import re
import subprocess
import sys
import tempfile

from PIL import Image

from . import REPO
from .browser import find_chromium

SOURCES = REPO / "brand" / "src"
TARGET = REPO / "custom_components" / "voice_mqtt" / "brand"
MANIFEST = SOURCES / "rendered.sha256"

ICON_SIZE = 256  # and 512 for @2x: the brands README's only icon sizes
LOGO_SHORT_SIDE = (128, 256)  # the shortest side of logo.png; twice for @2x
# Transparent rows or columns tolerated at an edge: antialiasing of a curve
# that touches the edge may leave the outermost pixel row almost empty.
TRIM_SLACK = 2

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--hide-scrollbars",
    "--force-device-scale-factor=1",
    "--default-background-color=00000000",
)
RENDER_TIMEOUT = 60.0

PAGE = """<!doctype html>
<html class="{theme}"><head><meta charset="utf-8"><style>
html, body {{ margin: 0; padding: 0; background: transparent; overflow: hidden; }}
svg {{ display: block; width: {width}px; height: {height}px; }}
</style></head><body>
{svg}
</body></html>
"""


@dataclass(frozen=True, slots=True)
class Render:
    """One brand image: which source, which palette, how large."""

    name: str
    source: str
    dark: bool
    scale: int

    @property
    def kind(self) -> str:
        """Return icon or logo."""
        return Path(self.source).stem


RENDERS = tuple(
    Render(
        f"{'dark_' if dark else ''}{kind}{'@2x' if scale == 2 else ''}.png",
        f"{kind}.svg",
        dark,
        scale,
    )
    for kind in ("icon", "logo")
    for dark in (False, True)
    for scale in (1, 2)
)


class BrandError(RuntimeError):
    """A source or a render that does not meet the brands rules."""


def view_box(svg: str) -> tuple[float, float]:
    """Return the width and height of an SVG's viewBox."""
    match = re.search(r'viewBox="\s*0\s+0\s+([\d.]+)\s+([\d.]+)\s*"', svg)
    if match is None:
        raise BrandError("the SVG needs a viewBox starting at 0 0")
    return float(match[1]), float(match[2])


def pixel_size(render: Render, svg: str) -> tuple[int, int]:
    """Return the image's size: the viewBox in pixels, times the scale."""
    width, height = view_box(svg)
    if not (width.is_integer() and height.is_integer()):
        raise BrandError(f"{render.source}: the viewBox must be whole pixels")
    size = (int(width) * render.scale, int(height) * render.scale)
    if render.kind == "icon":
        wanted = ICON_SIZE * render.scale
        if size != (wanted, wanted):
            raise BrandError(f"{render.name} would be {size}, not {wanted} square")
    else:
        low, high = (side * render.scale for side in LOGO_SHORT_SIDE)
        if not low <= min(size) <= high or size[0] < size[1]:
            raise BrandError(
                f"{render.name} would be {size}: landscape, shortest side {low}-{high}"
            )
    return size


@contextmanager
def scratch() -> Iterator[Path]:
    """Yield a temporary folder for pages, profiles and screenshots."""
    with tempfile.TemporaryDirectory(prefix="render-brand-") as folder:
        yield Path(folder)


def screenshot(
    chromium: str, page: Path, size: tuple[int, int], output: Path, work: Path
) -> None:
    """Take a transparent screenshot of page at exactly size."""
    profile = work / f"profile-{output.stem}"
    command = [
        chromium,
        *CHROMIUM_FLAGS,
        f"--user-data-dir={profile}",
        f"--window-size={size[0]},{size[1]}",
        f"--screenshot={output}",
        page.as_uri(),
    ]
    result = subprocess.run(  # noqa: S603 (a fixed command line of our own)
        command, capture_output=True, text=True, timeout=RENDER_TIMEOUT, check=False
    )
    if result.returncode != 0 or not output.is_file():
        raise BrandError(f"chromium failed on {page.name}:\n{result.stderr[-2000:]}")


def check_image(render: Render, image: Image.Image, size: tuple[int, int]) -> None:
    """Fail unless the image has the size, transparency and trimmed edges."""
    if image.size != size:
        raise BrandError(f"{render.name}: rendered {image.size}, wanted {size}")
    alpha = image.getchannel("A")
    if alpha.getextrema()[0] != 0:
        raise BrandError(f"{render.name}: no transparent pixel; is the page opaque?")
    box = alpha.point(lambda value: 255 if value > 32 else 0).getbbox()
    if box is None:
        raise BrandError(f"{render.name}: the image is empty")
    left, top, right, bottom = box
    slack = TRIM_SLACK * render.scale
    margins = (left, top, size[0] - right, size[1] - bottom)
    if max(margins) > slack:
        raise BrandError(
            f"{render.name}: not trimmed, empty margins {margins} (left, top, right,"
            " bottom); the drawing must reach every edge of its viewBox"
        )


def render_one(chromium: str, render: Render, work: Path) -> Path:
    """Render one image into TARGET; return its path."""
    svg = (SOURCES / render.source).read_text()
    width, height = pixel_size(render, svg)
    page = work / f"{render.name}.html"
    page.write_text(
        PAGE.format(
            theme="dark" if render.dark else "light",
            width=width,
            height=height,
            svg=svg,
        )
    )
    shot = work / render.name
    screenshot(chromium, page, (width, height), shot, work)
    with Image.open(shot) as opened:
        image = opened.convert("RGBA")
    check_image(render, image, (width, height))
    output = TARGET / render.name
    # Saved again by Pillow: optimised, RGBA (colour type 6), no metadata.
    image.save(output, format="PNG", optimize=True)
    return output


def sha256(path: Path) -> str:
    """Return a file's SHA-256 in hex."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def manifest_lines(outputs: list[Path]) -> list[str]:
    """Return sha256sum lines of the sources, then of the images, from SOURCES."""
    sources = sorted({SOURCES / render.source for render in RENDERS})
    return [
        f"{sha256(path)}  {os.path.relpath(path, SOURCES)}"
        for path in (*sources, *outputs)
    ]


def stale() -> list[str]:
    """Return what differs from the manifest: changed sources or images."""
    if not MANIFEST.is_file():
        return [f"{MANIFEST.relative_to(REPO)} is missing"]
    recorded: dict[str, str] = {}
    for line in MANIFEST.read_text().splitlines():
        digest, _, name = line.partition("  ")
        recorded[name] = digest
    wanted = [SOURCES / render.source for render in RENDERS]
    wanted += [TARGET / render.name for render in RENDERS]
    problems = []
    for path in dict.fromkeys(wanted):
        key = os.path.relpath(path, SOURCES)
        if not path.is_file():
            problems.append(f"{key} is missing")
        elif recorded.get(key) != sha256(path):
            problems.append(f"{key} differs from {MANIFEST.name}")
    return problems


def main(argv: list[str] | None = None) -> int:
    """Render every brand image, or with --check say whether they are current."""
    parser = argparse.ArgumentParser(
        prog="scripts/render-brand", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="render nothing; fail if a source changed since the last render",
    )
    args = parser.parse_args(argv)
    if args.check:
        if problems := stale():
            print("\n".join(problems), file=sys.stderr)
            print("run scripts/render-brand", file=sys.stderr)
            return 1
        print("brand images are current")
        return 0
    try:
        chromium = find_chromium()
        TARGET.mkdir(parents=True, exist_ok=True)
        with scratch() as work:
            outputs = []
            for render in RENDERS:
                outputs.append(render_one(chromium, render, work))
                print(f"{render.name}: {Image.open(outputs[-1]).size}")
    except (BrandError, FileNotFoundError) as err:
        print(f"render-brand: {err}", file=sys.stderr)
        return 1
    MANIFEST.write_text("\n".join(manifest_lines(outputs)) + "\n")
    print(f"wrote {MANIFEST.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
