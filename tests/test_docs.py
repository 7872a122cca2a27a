"""The documents: the contract says what the parser knows, and every link holds.

docs/protocol.md is the contract: what the parser knows, it must say. Every link of
README.md, CONTRIBUTING.md and docs/ leads to a file of the repository.
"""

from __future__ import annotations

import json
from pathlib import Path
import re
from urllib.parse import unquote

from homeassistant.components.automation.config import PLATFORM_SCHEMA
from homeassistant.core import HomeAssistant
import yaml

from custom_components.voice_mqtt import const, protocol
from custom_components.voice_mqtt.models import room

ROOT = Path(__file__).parents[1]
MANIFEST = ROOT / "custom_components" / "voice_mqtt" / "manifest.json"
# The address HACS and Home Assistant send users to, without its #readme.
REPOSITORY = json.loads(MANIFEST.read_text())["documentation"].split("#")[0]


def test_the_protocol_page_names_every_type_reason_and_limit() -> None:
    page = (ROOT / "docs" / "protocol.md").read_text()
    for voice_type in protocol.VoiceType:
        assert f"| `{voice_type}` |" in page, voice_type
    for device_type in protocol.DeviceTopicType:
        assert f"/{device_type}` |" in page, device_type
    for reason in protocol.Rejection:
        assert f"| `{reason}` |" in page, reason
    limits = {
        "64 KiB": protocol.MAX_PAYLOAD_BYTES == 64 * 1024,
        "at most 128 characters": protocol.MAX_ID_LENGTH == 128,
        "at most 32 levels": protocol.MAX_DATA_DEPTH == 32,
        "at most 8 KiB": protocol.MAX_DATA_BYTES == 8 * 1024,
        "at most 255 characters": protocol.MAX_NAME_LENGTH == 255,
        "-2^63 to 2^63 - 1": protocol.MAX_INTEGER == 2**63 - 1,
        # Written from the constants: the page must follow a change of cap.
        f"{const.DEFAULT_MAX_ROOMS} by default, at most {const.LARGEST_MAX_ROOMS}": True,
        f"{const.DEFAULT_MAX_DEVICES:,}, at most {const.LARGEST_MAX_DEVICES:,}": True,
        "quiet for 60 s": room.QUIET_TIMEOUT == 60,
        "65,536 characters": room.MAX_RESPONSE_CHARS == 65_536,
    }
    for text, holds in limits.items():
        assert text in page, text
        assert holds, f"docs/protocol.md says {text!r}; the code says otherwise"
    readme = (ROOT / "README.md").read_text()
    assert f"]({REPOSITORY}/blob/main/docs/protocol.md" in readme
    # Bare mentions ("speaks protocol.md") are links to the page.
    assert re.findall(r"(?<![/\[])protocol\.md", readme) == []


async def test_the_documented_automations_are_valid(hass: HomeAssistant) -> None:
    # Validated as Home Assistant reads an automation (templates need hass);
    # a device trigger's own fields are device_trigger.py's, tested there.
    # Every example, in the README and in the users' pages of docs/.
    text = "\n".join(
        path.read_text()
        for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    )
    automations = [
        automation
        for block in re.findall(r"```yaml\n(.*?)```", text, re.DOTALL)
        if isinstance(config := yaml.safe_load(block), dict) and "automation" in config
        for automation in config["automation"]
    ]
    assert len(automations) >= 10
    for automation in automations:
        PLATFORM_SCHEMA(automation)


def test_every_screenshot_is_shown() -> None:
    # As Markdown images, or as <img src="…"> where a width is wanted: in the
    # users' pages by a relative path, in the README under the repository.
    shown = set()
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        text = path.read_text()
        for image in re.findall(r"\]\(([^)]+\.png)\)", text) + re.findall(
            r'src="([^"]+\.png)"', text
        ):
            local = image.removeprefix(f"{REPOSITORY}/raw/main/")
            shown.add(str((path.parent / local).resolve().relative_to(ROOT.resolve())))
    kept = {
        str(path.relative_to(ROOT)) for path in (ROOT / "docs/images").glob("*.png")
    }
    # scripts/screenshots writes these five, tests/e2e/test_card.py the rest.
    assert {"docs/images/logbook.png", "docs/images/automation.png"} <= shown
    assert "docs/images/response-time.png" in shown
    assert {"docs/images/device-page.png", "docs/images/session-group.png"} <= shown
    assert shown == kept


def test_the_broker_acl_page_shows_the_acl_file_exactly() -> None:
    page = (ROOT / "docs" / "broker-acl.md").read_text()
    acl = (ROOT / "docs" / "mosquitto" / "acl").read_text()
    # The file the end-to-end run enforces (tests/e2e/test_acl.py), whole.
    assert f"\n```\n{acl}```\n" in page
    users = re.findall(r"^user (\S+)$", acl, re.MULTILINE)
    assert users == ["homeassistant", "voice_backend", "admin_panel", "ccba97110e84"]
    for user in users:
        assert f"`{user}`" in page, user
    assert (
        f"]({REPOSITORY}/blob/main/docs/broker-acl.md"
        in (ROOT / "README.md").read_text()
    )


def test_the_bridge_page_shows_the_bridge_section_exactly() -> None:
    page = (ROOT / "docs" / "bridge.md").read_text()
    section = (ROOT / "docs" / "mosquitto" / "bridge.conf").read_text()
    # The section the end-to-end runs use (tests/e2e/test_bridge*.py), whole.
    assert f"\n```\n{section}```\n" in page
    # The page explains the figures the section holds, not others.
    for line in section.splitlines():
        if line.startswith(("keepalive_interval ", "restart_timeout ")):
            assert f"**`{line}`.**" in page, line
    assert (
        f"]({REPOSITORY}/blob/main/docs/bridge.md" in (ROOT / "README.md").read_text()
    )


def documents() -> list[Path]:
    """Return the documents whose links must hold."""
    found = [ROOT / "README.md", ROOT / "CONTRIBUTING.md"]
    return [path for path in found if path.is_file()] + sorted(
        (ROOT / "docs").rglob("*.md")
    )


def links(text: str) -> list[str]:
    """Return the targets of a Markdown text's links and images, code left out."""
    text = re.sub(r"^(```|~~~).*?^\1", "", text, flags=re.MULTILINE | re.DOTALL)
    text = re.sub(r"`[^`\n]*`", "", text)
    return (
        # [text](target), ![alt](target), [![badge](image)](target), with a title
        re.findall(r"\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)", text)
        # [name]: target, as reference-style links define them
        + re.findall(r"^ {0,3}\[[^\]]+\]:\s*<?([^\s>]+)", text, re.MULTILINE)
        # <img src="…">, <a href="…">
        + re.findall(r"""\b(?:src|href)=["']([^"']+)["']""", text)
    )


def missing(document: Path, link: str) -> str | None:
    """Return why a link of a document leads nowhere, or None when it holds.

    Under the repository's address, /blob/main/X, /tree/main/X and /raw/main/X
    are X in the repository; a relative link is relative to the document; any
    other site is not checked. A fragment (#section) or a query is not checked.
    """
    where = f"{document.relative_to(ROOT)} links to {link!r}"
    path = unquote(re.split(r"[#?]", link, maxsplit=1)[0])
    if link.startswith(REPOSITORY):
        rest = path[len(REPOSITORY) :]
        if (file := re.fullmatch(r"/(?:blob|tree|raw)/([^/]+)/(.+?)/?", rest)) is None:
            # The repository's page, or its issues, releases…: not files.
            return None
        if file[1] != "main":
            return f"{where}: not on main, whose files this check knows"
        target = ROOT / file[2]
    elif re.match(r"[a-zA-Z][a-zA-Z0-9+.-]*:|//", link):
        return None  # another site, or mailto:
    elif not path:
        return None  # #a-section of the same page
    elif path.startswith("/"):
        return f"{where}: a link from the site's root, broken on GitHub and in HACS"
    else:
        target = document.parent / path
    target = target.resolve()
    if not target.is_relative_to(ROOT.resolve()):
        return f"{where}: outside the repository"
    if not target.exists():
        return f"{where}, which is not in the repository"
    return None


def test_every_link_leads_to_a_file_of_the_repository() -> None:
    checked = 0
    broken = []
    for document in documents():
        for link in links(document.read_text()):
            checked += 1
            if (why := missing(document, link)) is not None:
                broken.append(why)
    assert not broken, "\n".join(broken)
    assert checked >= 50  # the parser sees them: 86 when the README was split


def test_the_link_check_finds_what_is_missing() -> None:
    readme, page = ROOT / "README.md", ROOT / "docs" / "protocol.md"
    text = f"""
[ok]({REPOSITORY}/blob/main/LICENSE) ![ok]({REPOSITORY}/raw/main/docs/images/logbook.png)
[gone]({REPOSITORY}/blob/main/docs/gone.md#part) [elsewhere](https://www.home-assistant.io/x)
[![badge](https://my.home-assistant.io/badges/hacs_repository.svg)]({REPOSITORY}/tree/main/gone)
<img alt="x" src="images/gone.png" width="1"> [here](#limits) [up](../LICENSE)
[name]: nowhere.md
```
[in code](nothing.md)
```
"""
    found = links(text)
    assert len(found) == 10
    assert {missing(readme, link) for link in found} - {None} == {
        (
            f"README.md links to '{REPOSITORY}/blob/main/docs/gone.md#part', "
            "which is not in the repository"
        ),
        f"README.md links to '{REPOSITORY}/tree/main/gone', which is not in the repository",
        "README.md links to 'images/gone.png', which is not in the repository",
        "README.md links to '../LICENSE': outside the repository",
        "README.md links to 'nowhere.md', which is not in the repository",
    }
    # Relative to the page: docs/images/gone.png is missing, ../LICENSE is there.
    assert missing(page, "images/logbook.png") is None
    assert missing(page, "../LICENSE") is None
    assert missing(page, "images/gone.png") is not None
    assert missing(page, "/docs/protocol.md") is not None
    assert missing(page, f"{REPOSITORY}/blob/master/LICENSE") is not None
    assert missing(page, f"{REPOSITORY}/issues") is None
    assert missing(page, REPOSITORY) is None


def test_the_readme_is_for_the_people_who_install_it() -> None:
    # HACS shows it inside Home Assistant: short, installation first, and
    # every link absolute, since HACS breaks relative ones (hacs/integration#4787).
    readme = (ROOT / "README.md").read_text()
    assert len(readme.splitlines()) <= 300
    installation = readme.index("\n## Installation\n")
    assert installation < readme.index("scripts/")
    section = readme[installation:].split("\n## ", 2)[1]
    assert "https://my.home-assistant.io/redirect/hacs_repository/" in section
    owner, name = REPOSITORY.split("/")[-2:]
    assert f"owner={owner}&repository={name}&category=integration" in section
    relative = [link for link in links(readme) if not re.match(r"https://", link)]
    assert relative == [], "HACS breaks these in Home Assistant: make them absolute"
    # The pictures too: served from the repository's main branch.
    images = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", readme)
    assert (
        f"{REPOSITORY}/raw/main/docs/images/conversation-card-streaming.png" in images
    )
