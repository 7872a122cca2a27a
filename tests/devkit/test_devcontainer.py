"""The devcontainer, checked where a program can: no container is started here.

What it must give (issue: two commands on any machine, Windows through the
devcontainer): Python 3.14, mosquitto and Chromium, the ports of
scripts/develop forwarded, scripts/bootstrap run once it is created. The
image and the property names are those the image's and the specification's
documentation give (mcr.microsoft.com/devcontainers/python lists the
3.14-trixie variant; containers.dev the devcontainer.json properties).
"""

from __future__ import annotations

import json
from pathlib import Path
import re
import tomllib
from typing import Any

from packaging.specifiers import SpecifierSet

from devkit import browser
from devkit.develop import build_parser

ROOT = Path(__file__).parents[2]
# The devcontainer.json properties of the specification's reference, for an
# image-based container (a typo there is silently ignored by the tools).
PROPERTIES = {
    "name",
    "image",
    "features",
    "overrideFeatureInstallOrder",
    "forwardPorts",
    "portsAttributes",
    "otherPortsAttributes",
    "appPort",
    "containerEnv",
    "remoteEnv",
    "remoteUser",
    "containerUser",
    "updateRemoteUserUID",
    "userEnvProbe",
    "mounts",
    "runArgs",
    "workspaceFolder",
    "workspaceMount",
    "shutdownAction",
    "overrideCommand",
    "init",
    "privileged",
    "capAdd",
    "securityOpt",
    "initializeCommand",
    "onCreateCommand",
    "updateContentCommand",
    "postCreateCommand",
    "postStartCommand",
    "postAttachCommand",
    "waitFor",
    "hostRequirements",
    "customizations",
}
ON_AUTO_FORWARD = {"notify", "openBrowser", "openBrowserOnce", "openPreview", "silent"}


def config() -> dict[str, Any]:
    # Plain JSON (no comments), so that this test and any tool read it alike.
    found: dict[str, Any] = json.loads(
        (ROOT / ".devcontainer" / "devcontainer.json").read_text()
    )
    return found


def test_only_properties_the_specification_knows() -> None:
    assert set(config()) <= PROPERTIES


def test_the_image_is_the_python_314_one_on_debian() -> None:
    image = config()["image"]
    repository, _, tag = image.partition(":")
    assert repository == "mcr.microsoft.com/devcontainers/python"
    # The Debian variant, whose apt has mosquitto and a `chromium` package.
    assert re.fullmatch(r"(\d+-)?3\.14-(trixie|bookworm)", tag), tag
    # The Python Home Assistant needs, as the project says.
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert SpecifierSet(project["requires-python"]).contains("3.14")


def test_mosquitto_and_chromium_are_installed_when_it_is_created() -> None:
    command = config()["onCreateCommand"]
    assert command.startswith("sudo apt-get update && sudo apt-get install -y ")
    packages = set(command.split("install -y ", 1)[1].split())
    assert {"mosquitto", "mosquitto-clients", "chromium"} <= packages
    # Where Debian's chromium package puts it is where the browser tests and
    # scripts/render-brand look first (tests/devkit/test_browser.py: and then).
    assert Path("/usr/bin/chromium") == browser.DEBIAN_CHROMIUM


def test_bootstrap_runs_after_creation_and_vs_code_uses_its_venv() -> None:
    found = config()
    # After onCreateCommand (the packages), as the lifecycle orders them.
    assert found["postCreateCommand"] == "scripts/bootstrap"
    assert (ROOT / "scripts" / "bootstrap").stat().st_mode & 0o111
    vscode = found["customizations"]["vscode"]
    assert vscode["settings"]["python.defaultInterpreterPath"] == (
        "${containerWorkspaceFolder}/.venv/bin/python"
    )
    for extension in vscode["extensions"]:
        assert re.fullmatch(r"[\w-]+\.[\w-]+", extension), extension


def test_the_ports_of_scripts_develop_are_forwarded_and_named() -> None:
    found = config()
    defaults = build_parser().parse_args([])
    assert sorted(found["forwardPorts"]) == sorted(
        # Home Assistant, the broker, and the broker's WebSocket listener.
        [defaults.port, 1883, defaults.ws_port]
    )
    assert sorted(found["forwardPorts"]) == [1883, 8123, 9001]
    attributes = found["portsAttributes"]
    assert set(attributes) == {str(port) for port in found["forwardPorts"]}
    for port, attribute in attributes.items():
        assert attribute["label"], port
        assert attribute.get("onAutoForward", "notify") in ON_AUTO_FORWARD


def test_contributing_sends_windows_users_to_it() -> None:
    guide = (ROOT / "CONTRIBUTING.md").read_text()
    windows = guide[guide.index("**On Windows**") :].split("\n\n")[0]
    assert "`.devcontainer/`" in windows
    assert "Reopen in\nContainer" in windows or "Reopen in Container" in windows
    for port in config()["forwardPorts"]:
        assert str(port) in windows, port
    assert "`scripts/bootstrap`" in windows


def test_a_windows_clone_keeps_the_scripts_runnable() -> None:
    # core.autocrlf would write CRLF, and `bash\r` is no interpreter.
    attributes = (ROOT / ".gitattributes").read_text().splitlines()
    assert "* text=auto eol=lf" in attributes
    for script in (ROOT / "scripts").iterdir():
        assert script.read_bytes().startswith(b"#!/"), script.name
        assert b"\r\n" not in script.read_bytes(), script.name
