"""What the devkit's command-line tools do alike.

Their help is their module's docstring; SIGTERM stops them as Ctrl-C does,
unwinding what they started; those that work in a temporary folder of their
own remove it afterwards unless asked to keep it, and keep it when they fail.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from pathlib import Path
import shutil
import signal
import sys
import tempfile
import time

from devkit.hass.api import ApiError


def parser_from_doc(prog: str, doc: str | None) -> argparse.ArgumentParser:
    """Return a parser whose help is a docstring: its first line, then the rest."""
    lines = (doc or "").splitlines()
    return argparse.ArgumentParser(
        prog=prog,
        description=lines[0] if lines else None,
        epilog="\n".join(lines[2:]),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def stop_on_sigterm() -> None:
    """Make SIGTERM unwind like Ctrl-C, and Ctrl-C work.

    Both raise KeyboardInterrupt, so that everything started under a with
    block or an ExitStack is stopped; Ctrl-C also when a shell started this
    process with SIGINT ignored.
    """
    signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
    signal.signal(signal.SIGINT, signal.default_int_handler)


def _raise_keyboard_interrupt(*_: object) -> None:
    raise KeyboardInterrupt


def note(text: str) -> None:
    """Say what is happening, timed, on stderr: stdout holds the report."""
    print(f"{time.strftime('%H:%M:%S')} {text}", file=sys.stderr, flush=True)


def run_in_scratch_folder(
    tool: str,
    name: str,
    *,
    keep: bool,
    run: Callable[[ExitStack, Path], tuple[Sequence[str], int]],
    logs: Sequence[str] = ("home-assistant.out",),
) -> int:
    """Run a tool in a new temporary folder (voice_mqtt-name-*); return its status.

    run starts what it needs, with its stops on the ExitStack, and returns
    its report's lines and its exit status: the lines are printed once all
    it started is stopped, and the folder is removed unless keep. Ctrl-C or
    SIGTERM stops everything: 130. A run that fails (Home Assistant's API, a
    timeout, a process, a file) says so on stderr with the logs to look at,
    and keeps the folder: 2.
    """
    stop_on_sigterm()
    folder = Path(tempfile.mkdtemp(prefix=f"voice_mqtt-{name}-"))
    try:
        with ExitStack() as stack:
            lines, status = run(stack, folder)
    except KeyboardInterrupt:
        print(
            f"\n{tool}: interrupted; everything it started is stopped", file=sys.stderr
        )
        return 130
    except (ApiError, RuntimeError, TimeoutError, OSError) as err:
        print(f"{tool}: {err}", file=sys.stderr)
        print(f"See {' and '.join(str(folder / log) for log in logs)}", file=sys.stderr)
        keep = True
        return 2
    finally:
        if keep:
            print(f"{tool}: kept {folder}", file=sys.stderr)
        else:
            shutil.rmtree(folder, ignore_errors=True)
    for line in lines:
        print(line)
    return status
