"""scripts/bootstrap's choice of a Python 3.14, on a PATH of fake executables.

Each case makes a folder of small shell scripts standing in for python3.14,
uv and python3 (they log how they are called and do what the case needs),
and a folder with the few real tools the scripts use; PATH holds those two
only, so nothing of the machine's own Pythons is seen. Nothing is fetched.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
import shutil
import subprocess

import pytest

ROOT = Path(__file__).parents[2]
TOOLS = ("bash", "cat", "cut", "dirname", "mktemp", "rm", "sha256sum")
VERSION_CHECK = "import sys; sys.exit(not (3, 14, 2) <= sys.version_info[:3] < (3, 15))"

GIVE_UP = """\
bootstrap: no Python 3.14 (3.14.2 or later, what Home Assistant needs) here, and none could be fetched.
bootstrap: Any one of these gives you one; then run the same command again:
bootstrap:   - uv (https://docs.astral.sh/uv/): uv python install 3.14
bootstrap:   - your distribution's package: python3.14 and python3.14-venv (Debian, Ubuntu), python@3.14 (Homebrew)
bootstrap:   - the devcontainer in .devcontainer/ (VS Code: Reopen in Container)
bootstrap: Or name one: PYTHON=/path/to/python3.14 scripts/test
"""

# A Python: `-c` (the version check) exits with FITS; `-m venv DIR` makes a
# venv whose python fits and logs pip; `-m pip install uv` (in a throwaway
# venv) puts a uv beside it.
PYTHON = """\
case "$1" in
  -c) exit {fits} ;;
  -m)
    case "$2" in
      venv)
        [ "{venv_fails}" = 0 ] || {{ echo "ensurepip is not available" >&2; exit 1; }}
        {mkdir} -p "$3/bin"
        printf '#!/bin/sh\\necho "venv-python $*" >>"{log}"\\n' >"$3/bin/python"
        {cp} "{uv}" "$3/bin/uv" 2>/dev/null || true
        {chmod} +x "$3/bin/python"
        ;;
    esac
    ;;
esac
"""
# uv: `python install 3.14` succeeds or fails (no internet); `python find`
# names the managed Python it installed.
UV = """\
case "$1 $2" in
  "python install") [ "{installs}" = 1 ] || {{ echo "error: failed to download" >&2; exit 1; }} ;;
  "python find") echo "{managed}" ;;
esac
"""


@dataclass
class Machine:
    """A PATH of fakes and a few real tools, and the log of what ran."""

    root: Path

    @property
    def fakes(self) -> Path:
        return self.root / "fakes"

    @property
    def log(self) -> Path:
        return self.root / "calls.log"

    def calls(self) -> list[str]:
        return self.log.read_text().splitlines() if self.log.exists() else []

    def fake(self, path: Path, body: str) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        name = "venv-python" if path.name == "python" else path.name
        path.write_text(f'#!/bin/sh\necho "{name} $*" >>"{self.log}"\n{body}')
        path.chmod(0o755)
        return path

    def python(self, name: str, *, fits: bool = True, venv_fails: bool = False) -> Path:
        return self.fake(
            self.fakes / name,
            PYTHON.format(
                fits=0 if fits else 1,
                venv_fails=int(venv_fails),
                mkdir=shutil.which("mkdir"),
                cp=shutil.which("cp"),
                chmod=shutil.which("chmod"),
                log=self.log,
                uv=self.root / "uv-template" / "uv",
            ),
        )

    def uv(self, path: Path, *, installs: bool = True) -> Path:
        managed = self.python("managed/python3.14")
        return self.fake(path, UV.format(installs=int(installs), managed=managed))

    def run(
        self, script: str, *args: str, cwd: Path = ROOT, **env: str
    ) -> subprocess.CompletedProcess[str]:
        tools = self.root / "tools"
        tools.mkdir(exist_ok=True)
        for tool in TOOLS:
            if not (tools / tool).exists():
                (tools / tool).symlink_to(shutil.which(tool) or f"/bin/{tool}")
        (self.root / "tmp").mkdir(exist_ok=True)
        self.fakes.mkdir(exist_ok=True)
        return subprocess.run(  # noqa: S603 - the repository's own scripts
            [str(cwd / "scripts" / script), *args],
            cwd=cwd,
            env={
                "PATH": f"{self.fakes}:{tools}",
                "HOME": str(self.root),
                "TMPDIR": str(self.root / "tmp"),
            }
            | env,
            capture_output=True,
            text=True,
            check=False,
        )


@pytest.fixture
def machine(tmp_path: Path) -> Machine:
    return Machine(tmp_path)


def test_python314_on_path_is_used_and_nothing_else(machine: Machine) -> None:
    python = machine.python("python3.14")
    machine.uv(machine.fakes / "uv")
    done = machine.run("find-python")
    assert (done.returncode, done.stdout, done.stderr) == (0, f"{python}\n", "")
    assert machine.calls() == [f"python3.14 -c {VERSION_CHECK}"]


def test_the_python_the_environment_names_wins(machine: Machine) -> None:
    machine.python("python3.14")
    chosen = machine.python("elsewhere/python3")
    done = machine.run("find-python", PYTHON=str(chosen))
    assert (done.returncode, done.stdout) == (0, f"{chosen}\n")
    assert [call.split()[0] for call in machine.calls()] == ["python3"]


def test_a_wrong_one_named_is_not_second_guessed(machine: Machine) -> None:
    machine.python("python3.14")
    old = machine.python("old/python3.13", fits=False)
    done = machine.run("find-python", PYTHON=str(old))
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr == (
        f"bootstrap: PYTHON={old} is not a Python 3.14 (3.14.2 or later).\n" + GIVE_UP
    )
    assert len(machine.calls()) == 1  # the version check, nothing more


def test_without_python314_uv_on_path_fetches_one(machine: Machine) -> None:
    machine.uv(machine.fakes / "uv")
    done = machine.run("find-python")
    managed = machine.fakes / "managed" / "python3.14"
    assert (done.returncode, done.stdout) == (0, f"{managed}\n")
    assert done.stderr == (
        "bootstrap: fetching a Python 3.14 that uv manages: uv python install 3.14\n"
    )
    assert machine.calls() == [
        "uv python install 3.14",
        "uv python find 3.14",
        f"python3.14 -c {VERSION_CHECK}",
    ]


def test_a_python314_too_old_for_home_assistant_gives_way_to_uv(
    machine: Machine,
) -> None:
    old = machine.python("python3.14", fits=False)
    machine.uv(machine.fakes / "uv")
    done = machine.run("find-python")
    assert (done.returncode, done.stdout) == (
        0,
        f"{machine.fakes / 'managed' / 'python3.14'}\n",
    )
    assert done.stderr.startswith(
        f"bootstrap: {old} is older than 3.14.2: fetching a newer one with uv\n"
    )


def test_without_uv_python3_installs_it_into_a_throwaway_venv(
    machine: Machine,
) -> None:
    machine.uv(machine.root / "uv-template" / "uv")  # what pip would install
    machine.python("python3")
    done = machine.run("find-python")
    assert (done.returncode, done.stdout) == (
        0,
        f"{machine.fakes / 'managed' / 'python3.14'}\n",
    )
    throwaway = done.stderr.split("(")[1].split(")")[0]
    assert Path(throwaway).parent == machine.root / "tmp"
    assert machine.calls() == [
        f"python3 -m venv {throwaway}",
        "venv-python -m pip install --quiet --disable-pip-version-check uv",
        "uv python install 3.14",
        "uv python find 3.14",
        f"python3.14 -c {VERSION_CHECK}",
    ]
    # Thrown away once the managed Python is there.
    assert not Path(throwaway).exists()


@pytest.mark.parametrize(
    "case", ["nothing at all", "uv without internet", "python3 without venv"]
)
def test_when_nothing_works_one_message_says_what_to_do(
    machine: Machine, case: str
) -> None:
    if case == "uv without internet":
        machine.uv(machine.fakes / "uv", installs=False)
    elif case == "python3 without venv":
        machine.python("python3", venv_fails=True)
    done = machine.run("find-python")
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr.endswith(GIVE_UP)
    said = done.stderr.removesuffix(GIVE_UP).splitlines()
    if case == "nothing at all":
        assert said == []
    elif case == "uv without internet":
        assert said == [
            "bootstrap: fetching a Python 3.14 that uv manages: uv python install 3.14",
            "error: failed to download",
        ]
    else:
        assert len(said) == 2
        assert said[0].startswith(
            "bootstrap: no python3.14 and no uv: installing uv into a throwaway"
            f" venv of python3 ({machine.root / 'tmp'}/"
        )
        assert said[1] == "ensurepip is not available"
    assert not list((machine.root / "tmp").iterdir())  # the throwaway is gone


# scripts/bootstrap around it, in a copy of the repository's scripts --------


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    copy = tmp_path / "repo"
    (copy / "scripts").mkdir(parents=True)
    for name in ("bootstrap", "find-python"):
        shutil.copy2(ROOT / "scripts" / name, copy / "scripts" / name)
    (copy / "requirements_test.txt").write_text("ruff==0.17.6\n")
    return copy


def test_bootstrap_makes_the_venv_with_what_it_found_then_does_nothing(
    machine: Machine, repo: Path
) -> None:
    python = machine.python("python3.14")
    done = machine.run("bootstrap", cwd=repo)
    assert done.returncode == 0, done.stderr
    assert done.stderr == (
        f"bootstrap: making .venv with {python}\n"
        "bootstrap: installing requirements_test.txt into .venv"
        " (first run takes a minute or two)\n"
    )
    assert machine.calls() == [
        f"python3.14 -c {VERSION_CHECK}",
        "python3.14 -m venv .venv",
        "venv-python -m pip install --quiet --disable-pip-version-check --upgrade pip",
        (
            "venv-python -m pip install --quiet --disable-pip-version-check"
            " -r requirements_test.txt"
        ),
    ]
    machine.log.unlink()
    again = machine.run("bootstrap", cwd=repo)
    assert (again.returncode, again.stderr) == (0, "")
    # Only the venv's own check: no other Python is needed any more.
    assert machine.calls() == [f"venv-python -c {VERSION_CHECK}"]


def test_bootstrap_without_any_python_says_what_to_do(
    machine: Machine, repo: Path
) -> None:
    done = machine.run("bootstrap", cwd=repo)
    assert (done.returncode, done.stderr) == (2, GIVE_UP)
    assert not (repo / ".venv").exists()


def test_bootstrap_refuses_a_venv_of_another_python(
    machine: Machine, repo: Path
) -> None:
    machine.python("python3.14")
    stale = repo / ".venv" / "bin" / "python"
    stale.parent.mkdir(parents=True)
    stale.symlink_to("/nowhere/python3.14")  # made on another machine
    done = machine.run("bootstrap", cwd=repo)
    assert (done.returncode, done.stderr) == (
        2,
        (
            "bootstrap: .venv does not run Python 3.14 here (made on another"
            " machine, or by another Python).\n"
            "bootstrap: move it aside (mv .venv .venv.old) and run the same"
            " command again.\n"
        ),
    )
    assert machine.calls() == []


def test_bootstrap_cleans_up_a_venv_it_could_not_make(
    machine: Machine, repo: Path
) -> None:
    python = machine.python("python3.14", venv_fails=True)
    done = machine.run("bootstrap", cwd=repo)
    assert done.returncode == 2
    assert done.stderr.endswith(
        f"bootstrap: {python} could not make a venv"
        " (Debian, Ubuntu: install python3.14-venv).\n"
    )
    assert not (repo / ".venv").exists()
