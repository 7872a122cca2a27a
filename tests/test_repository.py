"""What HACS and GitHub read from the repository, checked where a program can.

The workflows cannot run here; what can be checked is that they exist, use
the validators HACS and Home Assistant document, and run the README's test
command on the Python Home Assistant needs. The bug form must ask for the
diagnostics; LICENSE must be the MIT text GitHub detects; the changelog must
describe the version the manifest ships.
"""

from __future__ import annotations

from importlib import metadata
import json
from pathlib import Path
import re
import tomllib
from typing import Any

from homeassistant import components
from homeassistant.auth.mfa_modules import totp
import pytest
import yaml

ROOT = Path(__file__).parents[1]
GITHUB = ROOT / ".github"
MANIFEST = ROOT / "custom_components" / "voice_mqtt" / "manifest.json"

# The MIT License as GitHub's detector (licensee) and SPDX know it, after the
# copyright line. Compared word by word: line breaks do not matter.
MIT_BODY = """
Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the "Software"), to deal
in the Software without restriction, including without limitation the rights
to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
SOFTWARE.
"""
# What a GitHub issue form's body may hold.
FORM_FIELD_TYPES = {"markdown", "input", "textarea", "dropdown", "checkboxes"}


def load(path: Path) -> Any:
    """Parse a YAML file; GitHub's `on:` key comes back as True in YAML 1.1."""
    return yaml.safe_load(path.read_text())


def steps(workflow: dict[str, Any], job: str) -> list[dict[str, Any]]:
    """Return a job's steps; fail if the job is missing."""
    assert job in workflow["jobs"], f"no {job!r} job in {sorted(workflow['jobs'])}"
    found: list[dict[str, Any]] = workflow["jobs"][job]["steps"]
    return found


def uses(step_list: list[dict[str, Any]], action: str) -> dict[str, Any]:
    """Return the step that uses action (owner/name@ref), or fail."""
    matching = [step for step in step_list if step.get("uses") == action]
    assert matching, f"no step uses {action}"
    return matching[0]


def triggers(workflow: dict[str, Any]) -> dict[str, Any]:
    """Return the workflow's events, whichever way YAML read the `on` key."""
    events: dict[str, Any] = workflow.get("on", workflow.get(True))
    return events


def test_validation_runs_hassfest_and_hacs() -> None:
    workflow = load(GITHUB / "workflows" / "validate.yml")
    assert {"push", "pull_request"} <= set(triggers(workflow))
    uses(steps(workflow, "hassfest"), "actions/checkout@v4")
    uses(steps(workflow, "hassfest"), "home-assistant/actions/hassfest@master")
    hacs = uses(steps(workflow, "hacs"), "hacs/action@main")
    assert hacs["with"]["category"] == "integration"
    # Nothing skipped: the brand images are in the repository.
    assert "ignore" not in hacs["with"]


def test_tests_run_scripts_test_on_python_314_with_mosquitto() -> None:
    workflow = load(GITHUB / "workflows" / "tests.yml")
    assert {"push", "pull_request"} <= set(triggers(workflow))
    job = steps(workflow, "tests")
    python = uses(job, "actions/setup-python@v5")["with"]
    # A string: YAML reads 3.14 unquoted as the number 3.14, and 3.10 as 3.1.
    assert python["python-version"] == "3.14"
    assert python["cache"] == "pip"
    # The cache follows both requirement files (setup-python takes a list, a line each).
    assert python["cache-dependency-path"].split() == [
        "requirements_test.txt",
        "requirements_oldest.txt",
    ]
    commands = [step["run"] for step in job if "run" in step]
    assert any("apt-get install" in run and "mosquitto" in run for run in commands)
    assert commands[-1].strip() == "scripts/test --ha ${{ matrix.ha }}"
    assert (ROOT / "scripts" / "test").stat().st_mode & 0o111


def test_tests_run_on_the_newest_and_the_oldest_home_assistant() -> None:
    strategy = load(GITHUB / "workflows" / "tests.yml")["jobs"]["tests"]["strategy"]
    assert strategy["matrix"] == {"ha": ["newest", "oldest"]}
    assert strategy["fail-fast"] is False
    script = (ROOT / "scripts" / "test").read_text()
    assert "newest) venv=.venv ;;" in script
    assert "oldest) venv=.venv-oldest ;;" in script
    bootstrap = (ROOT / "scripts" / "bootstrap").read_text()
    assert '"--ha oldest") venv=.venv-oldest requirements=requirements_oldest.txt' in (
        bootstrap
    )
    assert ".venv-oldest" in (ROOT / ".gitignore").read_text().splitlines()
    # The project's own CI runs the README's command, then the oldest.
    ci = [
        line.strip()
        for line in (ROOT / ".ci" / "run").read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    assert ci[-2:] == [
        "../shared/py314/run scripts/test",
        "exec ../shared/py314/run scripts/test --ha oldest",
    ]


def pins(name: str) -> dict[str, str]:
    """Return a requirements file's pins, by normalised package name."""
    found: dict[str, str] = {}
    for line in (ROOT / name).read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            package, _, version = line.partition("==")
            found[canonical(package)] = version.strip()
    return found


def canonical(package: str) -> str:
    """Return a package name as pip compares them (PEP 503)."""
    return re.sub(r"[-_.]+", "-", package.strip()).lower()


def test_hacs_declares_the_oldest_home_assistant_the_suite_runs_on() -> None:
    oldest = pins("requirements_oldest.txt")["homeassistant"]
    hacs = json.loads((ROOT / "hacs.json").read_text())
    assert hacs["homeassistant"] == oldest
    minor = ".".join(oldest.split(".")[:2])  # 2026.8
    readme = (ROOT / "README.md").read_text()
    assert f"Home Assistant {minor} or later" in readme
    assert f"Home Assistant {minor}" in (ROOT / "CHANGELOG.md").read_text()


def test_the_tools_are_the_same_on_both_home_assistants() -> None:
    newest, oldest = pins("requirements_test.txt"), pins("requirements_oldest.txt")
    for package in ("hypothesis", "amqtt", "playwright"):
        assert newest[package] == oldest[package], package


def _running_requirements() -> str:
    """Return the requirements file of the venv this suite runs in."""
    harness = metadata.version("pytest-homeassistant-custom-component")
    for name in ("requirements_test.txt", "requirements_oldest.txt"):
        if pins(name)["pytest-homeassistant-custom-component"] == harness:
            return name
    pytest.fail(f"no requirements file pins the harness {harness}")


def _home_assistants_pins() -> dict[str, str]:
    """Return every pin of the installed Home Assistant's manifests."""
    found = {}
    requirements = list(totp.REQUIREMENTS)
    for manifest in Path(components.__file__).parent.glob("*/manifest.json"):
        requirements += json.loads(manifest.read_text()).get("requirements", [])
    for requirement in requirements:
        package, _, version = requirement.partition("==")
        found[canonical(package)] = version
    return found


def test_the_demo_packages_are_pinned_as_home_assistant_pins_them() -> None:
    # Else the demo's first start installs the release Home Assistant wants.
    name = _running_requirements()
    wanted = _home_assistants_pins()
    ours = pins(name)
    shared = set(ours) & set(wanted)
    assert {"home-assistant-frontend", "hassil", "mutagen", "pyturbojpeg"} <= shared
    assert {package: ours[package] for package in shared} == {
        package: wanted[package] for package in shared
    }, name
    if name == "requirements_oldest.txt":
        assert metadata.version("homeassistant") == ours["homeassistant"]


def test_the_bug_form_asks_for_versions_and_the_diagnostics() -> None:
    form = load(GITHUB / "ISSUE_TEMPLATE" / "bug_report.yml")
    assert form["name"]
    assert form["description"]
    fields = {item["id"]: item for item in form["body"] if "id" in item}
    # Ids are unique, or GitHub refuses the form.
    ids = [item["id"] for item in form["body"] if "id" in item]
    assert len(ids) == len(set(ids))
    for required in ("ha_version", "version", "what_happened", "expected"):
        assert fields[required]["validations"]["required"] is True, required
    diagnostics = fields["diagnostics"]
    assert diagnostics["type"] == "textarea"  # the only field that takes a file
    assert diagnostics["validations"]["required"] is True
    assert "Download diagnostics" in diagnostics["attributes"]["description"]
    assert "logs" in fields
    assert {item["type"] for item in form["body"]} <= FORM_FIELD_TYPES


def test_blank_issues_point_to_the_form() -> None:
    config = load(GITHUB / "ISSUE_TEMPLATE" / "config.yml")
    assert config["blank_issues_enabled"] is False
    for link in config["contact_links"]:
        assert {"name", "url", "about"} <= set(link)
        assert link["url"].startswith("https://")


def _words(text: str) -> list[str]:
    return text.split()


def test_the_license_is_the_mit_text() -> None:
    text = (ROOT / "LICENSE").read_text()
    title, blank, copyright_line, *body = text.splitlines()
    assert (title, blank) == ("MIT License", "")
    assert copyright_line == "Copyright (c) 2026 The voice_mqtt authors"
    assert _words("\n".join(body)) == _words(MIT_BODY)
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert pyproject["project"]["license"] == "MIT"


def test_the_changelog_describes_the_manifest_version() -> None:
    version = json.loads(MANIFEST.read_text())["version"]
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert pyproject["project"]["version"] == version
    changelog = (ROOT / "CHANGELOG.md").read_text()
    headings = re.findall(r"^## \[([^\]]+)\](.*)$", changelog, re.MULTILINE)
    assert headings[0][0] == "Unreleased"
    released = dict(headings[1:])
    assert version in released, f"no '## [{version}]' entry in CHANGELOG.md"
    assert re.fullmatch(r" - \d{4}-\d{2}-\d{2}", released[version])
    # Keep a Changelog: every heading links to its diff or release.
    for name, _ in headings:
        assert re.search(rf"^\[{re.escape(name)}\]: https://", changelog, re.MULTILINE)


def test_changelog_sections_are_keep_a_changelog_ones() -> None:
    changelog = (ROOT / "CHANGELOG.md").read_text()
    allowed = {"Added", "Changed", "Deprecated", "Removed", "Fixed", "Security"}
    assert set(re.findall(r"^### (.+)$", changelog, re.MULTILINE)) <= allowed
