"""scripts/smoke: voice_mqtt on a released Home Assistant, started for real.

The suite runs on the Home Assistant that pytest-homeassistant-custom-component
pins, which lags behind the releases. This checks a release the way a user
meets it: the release from PyPI in a venv of its own (.venv-smoke-VERSION,
made once with the Python 3.14 of .venv), with the packages of the
integrations it sets up at every start and of those voice_mqtt depends on
(paho-mqtt for MQTT), pinned as that release's manifests pin them: what it
would install at its first start, but for the frontend's build (an empty
folder stands in) and with --skip-pip, so that it installs nothing. Then, in
a temporary folder: a broker, that Home Assistant set up through onboarding
and the config flows, and the fleet simulator. It checks that the entities
appear, that actions publish what the devices receive, and that the log
holds no warning or error from voice_mqtt and no deprecation warning naming
it; it prints a short report and exits with 1 when a check fails.

VERSION is a release (2026.11.0), `newest` (the newest on PyPI) or `oldest`
(the oldest voice_mqtt declares, hacs.json's "homeassistant").
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable
from contextlib import ExitStack
import json
from pathlib import Path
import re
import shutil
import subprocess
import sys
import tempfile
import time
from typing import Final
from urllib.request import urlopen

from devkit import REPO
from devkit.broker import Broker
from devkit.cli import parser_from_doc

MANIFEST: Final = REPO / "custom_components" / "voice_mqtt" / "manifest.json"
PYPI_JSON: Final = "https://pypi.org/pypi/homeassistant/json"
# A release as PyPI names it (2026.11.0, 2026.12.0b1): also a folder name.
RELEASE: Final = re.compile(r"\d{4}\.\d{1,2}\.\d+(?:(?:a|b|rc)\d+)?")
STAMP: Final = ".smoke-requirements"
FRONTEND_BUILD: Final = "home-assistant-frontend"
# The integrations Home Assistant sets up at every start, as the release says.
DEFAULTS: Final = (
    "import json, homeassistant.bootstrap as b;"
    " print(json.dumps(sorted(b.CORE_INTEGRATIONS | b.DEFAULT_INTEGRATIONS)))"
)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Read the command line."""
    parser = parser_from_doc("scripts/smoke", __doc__)
    parser.add_argument("version", help="a release, newest or oldest")
    parser.add_argument(
        "--keep", action="store_true", help="keep the temporary folder and its logs"
    )
    return parser.parse_args(argv)


def resolve_version(asked: str, hacs: Path = REPO / "hacs.json") -> str:
    """Return the release asked for: as given, the newest, or hacs.json's."""
    if asked == "oldest":
        asked = str(json.loads(hacs.read_text())["homeassistant"])
    elif asked == "newest":
        with urlopen(PYPI_JSON, timeout=60) as answer:
            asked = str(json.load(answer)["info"]["version"])
    if not RELEASE.fullmatch(asked):
        raise ValueError(f"{asked!r} is not a Home Assistant release (2026.11.0)")
    return asked


def integration_requirements(components: Path, domains: Iterable[str]) -> list[str]:
    """Return what integrations require, with all they depend on, sorted.

    components is Home Assistant's `homeassistant/components` folder. After-
    dependencies count too: their modules are imported (MQTT's config flow
    imports hassio's). The frontend's build does not: an empty folder stands
    in for it.
    """
    wanted: set[str] = set()
    seen: set[str] = set()
    todo = list(domains)
    while todo:
        domain = todo.pop()
        manifest = components / domain / "manifest.json"
        if domain in seen or not manifest.exists():
            continue
        seen.add(domain)
        theirs = json.loads(manifest.read_text())
        wanted.update(theirs.get("requirements", ()))
        todo.extend(theirs.get("dependencies", ()))
        todo.extend(theirs.get("after_dependencies", ()))
    return sorted(
        requirement
        for requirement in wanted
        if not requirement.startswith(f"{FRONTEND_BUILD}==")
    )


class SmokeVenv:
    """.venv-smoke-VERSION: a Home Assistant release and what voice_mqtt needs."""

    def __init__(self, version: str) -> None:
        """Name the venv of a release; nothing is made yet."""
        self.version = version
        self.path = REPO / f".venv-smoke-{version}"
        self.python = self.path / "bin" / "python"
        self.seconds = 0.0
        self.installed: list[str] = []

    def ensure(self) -> None:
        """Make and fill the venv, or only what a previous run left out.

        Its stamp lists what was installed; what voice_mqtt needs is read
        again from the release each time (voice_mqtt's manifest may change).
        """
        stamp = self.path / STAMP
        began = time.monotonic()
        release = f"homeassistant=={self.version}"
        if not (self.python.exists() and stamp.exists()):
            # Made by .venv's Python: venv bases the new one on the same 3.14.
            self._run(
                sys.executable, "-m", "venv", "--clear", "--without-pip", self.path
            )
            self._install(release)
            stamp.write_text(f"{release}\n")
        wanted = [release, *self.needed()]
        if stamp.read_text().split() != wanted:
            constraints = self.components().parent / "package_constraints.txt"
            self._install("--constraint", constraints, *wanted)
            stamp.write_text("\n".join(wanted) + "\n")
            self.seconds = time.monotonic() - began
        self.installed = wanted

    def needed(self) -> list[str]:
        """Return what voice_mqtt and the integrations always set up require."""
        ours = json.loads(MANIFEST.read_text())
        return sorted(
            {*ours["requirements"]}.union(
                integration_requirements(
                    self.components(),
                    [*self.defaults(), *ours["dependencies"]]
                    + ours["after_dependencies"],
                )
            )
        )

    def components(self) -> Path:
        """Return the release's homeassistant/components folder."""
        return next(
            self.path.glob("lib/python3*/site-packages/homeassistant/components")
        )

    def defaults(self) -> list[str]:
        """Return the integrations the release sets up at every start."""
        done = subprocess.run(  # noqa: S603 - our own code
            [self.python, "-c", DEFAULTS], capture_output=True, text=True, check=False
        )
        if done.returncode:
            raise RuntimeError(f"reading the release's defaults: {done.stderr}")
        return list(json.loads(done.stdout))

    def _install(self, *what: str | Path) -> None:
        # uv comes with Home Assistant, so .venv has it; it is much faster
        # than pip at installing Home Assistant's hundred packages.
        uv = Path(sys.executable).parent / "uv"
        if not uv.exists():
            raise RuntimeError(f"{uv} is missing: run scripts/bootstrap")
        self._run(uv, "pip", "install", "--quiet", "--python", self.python, *what)

    def _run(self, *command: str | Path) -> None:
        done = subprocess.run(  # noqa: S603 - our own arguments
            [str(part) for part in command], check=False, cwd=REPO
        )
        if done.returncode:
            raise RuntimeError(f"{' '.join(map(str, command))} failed")


def main(argv: list[str] | None = None) -> int:
    """Make the venv, start a broker, run devkit.smoke.checks in the venv."""
    args = parse_args(argv)
    began = time.monotonic()
    try:
        version = resolve_version(args.version)
        venv = SmokeVenv(version)
        print(f"scripts/smoke: Home Assistant {version} in {venv.path.name} ...")
        venv.ensure()
    except (ValueError, RuntimeError, OSError) as err:
        print(f"scripts/smoke: {err}", file=sys.stderr)
        return 2
    made = f"made in {venv.seconds:.0f} s" if venv.seconds else "already made"
    print(f"  venv {venv.path.name} ({made}): {', '.join(venv.installed)}")
    workdir = Path(tempfile.mkdtemp(prefix="voice_mqtt-smoke-"))
    keep, status = args.keep, 2
    try:
        with ExitStack() as stack:
            broker = Broker(workdir / "broker")
            broker.start()
            stack.callback(broker.stop)
            print(f"  broker: {broker.kind} on 127.0.0.1:{broker.port}", flush=True)
            status = subprocess.run(  # noqa: S603 - our own module
                [
                    *(str(venv.python), "-m", "devkit.smoke.checks"),
                    *("--version", version, "--broker-port", str(broker.port)),
                    *("--workdir", str(workdir)),
                ],
                check=False,
                cwd=REPO,
            ).returncode
    except KeyboardInterrupt:
        status = 130
    except (RuntimeError, OSError) as err:
        print(f"scripts/smoke: {err}", file=sys.stderr)
    finally:
        keep = keep or status != 0
        if keep:
            print(f"scripts/smoke: kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    verdict = "PASS" if status == 0 else "FAIL"
    print(f"{verdict}: Home Assistant {version}, {time.monotonic() - began:.0f} s")
    return status


if __name__ == "__main__":
    sys.exit(main())
