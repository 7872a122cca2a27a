"""docs/protocol.md is the contract: what the parser knows, it must say."""

from __future__ import annotations

from pathlib import Path
import re

from homeassistant.components.automation.config import PLATFORM_SCHEMA
from homeassistant.core import HomeAssistant
import yaml

from custom_components.voice_mqtt import const, protocol
from custom_components.voice_mqtt.models import room

ROOT = Path(__file__).parents[1]


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
    assert "](docs/protocol.md" in readme
    # Bare mentions ("speaks protocol.md") are links to the page.
    assert re.findall(r"(?<![/\[])protocol\.md", readme) == []


async def test_the_readme_automations_are_valid(hass: HomeAssistant) -> None:
    # Validated as Home Assistant reads an automation (templates need hass);
    # a device trigger's own fields are device_trigger.py's, tested there.
    readme = (ROOT / "README.md").read_text()
    automations = [
        automation
        for block in re.findall(r"```yaml\n(.*?)```", readme, re.DOTALL)
        if isinstance(config := yaml.safe_load(block), dict) and "automation" in config
        for automation in config["automation"]
    ]
    assert len(automations) >= 10
    for automation in automations:
        PLATFORM_SCHEMA(automation)


def test_the_readme_shows_every_screenshot_it_has() -> None:
    readme = (ROOT / "README.md").read_text()
    # As Markdown images, or as <img src="…"> where a width is wanted.
    shown = set(re.findall(r"\]\((docs/images/[^)]+)\)", readme)) | set(
        re.findall(r'src="(docs/images/[^"]+)"', readme)
    )
    kept = {
        str(path.relative_to(ROOT)) for path in (ROOT / "docs/images").glob("*.png")
    }
    # scripts/screenshots writes these three; each is in the README and on disk.
    assert {"docs/images/logbook.png", "docs/images/automation.png"} <= shown
    assert "docs/images/response-time.png" in shown
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
    assert "](docs/broker-acl.md" in (ROOT / "README.md").read_text()
