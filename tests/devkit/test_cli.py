"""devkit.cli: what the devkit's command lines do alike, without Home Assistant."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
import signal
import subprocess
import sys

import pytest

from devkit.cli import parser_from_doc, run_in_scratch_folder

ROOT = Path(__file__).parents[2]


@pytest.fixture(autouse=True)
def _signals_back() -> Iterator[None]:
    """run_in_scratch_folder sets the handlers: give pytest its own back."""
    saved = {each: signal.getsignal(each) for each in (signal.SIGINT, signal.SIGTERM)}
    yield
    for each, handler in saved.items():
        signal.signal(each, handler)


def test_sigterm_unwinds_like_ctrl_c() -> None:
    program = (
        "import os, signal, time\n"
        "from devkit.cli import stop_on_sigterm\n"
        "stop_on_sigterm()\n"
        "try:\n"
        "    os.kill(os.getpid(), signal.SIGTERM)\n"
        "    time.sleep(10)\n"
        "except KeyboardInterrupt:\n"
        "    print('unwound')\n"
    )
    done = subprocess.run(  # noqa: S603 - our own program
        [sys.executable, "-c", program],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert (done.returncode, done.stdout) == (0, "unwound\n")


def test_the_help_is_the_docstring(capsys: pytest.CaptureFixture[str]) -> None:
    parser = parser_from_doc("scripts/x", "What x does.\n\nIn more words.\n")
    parser.print_help()
    said = capsys.readouterr().out
    assert said.startswith("usage: scripts/x")
    assert "What x does.\n" in said
    assert said.rstrip().endswith("In more words.")


def test_a_run_prints_its_report_and_leaves_nothing(
    capsys: pytest.CaptureFixture[str],
) -> None:
    seen: list[Path] = []
    stopped: list[str] = []

    def run(stack: ExitStack, folder: Path) -> tuple[list[str], int]:
        seen.append(folder)
        stack.callback(stopped.append, "broker")
        (folder / "home-assistant.out").write_text("started\n")
        return ["report"], 1

    assert run_in_scratch_folder("scripts/x", "x", keep=False, run=run) == 1
    assert capsys.readouterr().out == "report\n"
    assert stopped == ["broker"]
    assert seen[0].name.startswith("voice_mqtt-x-")
    assert not seen[0].exists()


def test_a_run_that_fails_keeps_its_folder_and_says_where(
    capsys: pytest.CaptureFixture[str],
) -> None:
    seen: list[Path] = []

    def run(stack: ExitStack, folder: Path) -> tuple[list[str], int]:
        seen.append(folder)
        raise TimeoutError("Home Assistant did not start in time")

    try:
        status = run_in_scratch_folder("scripts/x", "x", keep=False, run=run)
        said = capsys.readouterr()
        assert status == 2
        assert said.out == ""
        assert "scripts/x: Home Assistant did not start in time" in said.err
        assert f"See {seen[0] / 'home-assistant.out'}" in said.err
        assert seen[0].is_dir()
    finally:
        for folder in seen:
            folder.rmdir()


def test_an_interrupted_run_stops_what_it_started(
    capsys: pytest.CaptureFixture[str],
) -> None:
    seen: list[Path] = []
    stopped: list[str] = []

    def run(stack: ExitStack, folder: Path) -> tuple[list[str], int]:
        seen.append(folder)
        stack.callback(stopped.append, "hass")
        raise KeyboardInterrupt

    assert run_in_scratch_folder("scripts/x", "x", keep=False, run=run) == 130
    assert "interrupted" in capsys.readouterr().err
    assert stopped == ["hass"]
    assert not seen[0].exists()


def test_a_kept_folder_stays(capsys: pytest.CaptureFixture[str]) -> None:
    seen: list[Path] = []

    def run(stack: ExitStack, folder: Path) -> tuple[list[str], int]:
        seen.append(folder)
        return [], 0

    try:
        assert run_in_scratch_folder("scripts/x", "x", keep=True, run=run) == 0
        assert f"scripts/x: kept {seen[0]}" in capsys.readouterr().err
        assert seen[0].is_dir()
    finally:
        seen[0].rmdir()
