"""scripts/benchmark --real-broker: end-to-end latency on a real broker.

In a fresh temporary folder: mosquitto, and Home Assistant set up as a user
would (onboarding, the MQTT and voice_mqtt config flows) with, beside
voice_mqtt, the hand-made alternative: one MQTT-discovered sensor per device.
Then one load for both: heartbeats, and state changes sent to both on the
same schedule. The latency of each change is measured from its send to the
time_fired of its state_changed event on the websocket. The load goes on for
a while under py-spy, which says where Home Assistant spends its time.

It prints a side-by-side report and exits 0: it measures, it asserts nothing.
"""

from __future__ import annotations

import argparse
from contextlib import ExitStack
from pathlib import Path
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from typing import Any

from .broker import Broker
from .hass.api import ApiError, HomeAssistantApi
from .hass.start import set_up_voice_mqtt, start_scratch_hass
from .latency_figures import Figures
from .latency_gc import install_hook
from .latency_io import EventWatcher, LoadPublisher, publish_once
from .latency_plan import Entities, LoadPlan, initial_messages, schedule
from .latency_profile import PySpy, find_py_spy
from .latency_report import report_lines
from .processes import rss_bytes, stop_process

# (flag, type, default, help)
OPTIONS: tuple[tuple[str, type, object, str], ...] = (
    ("--devices", int, 200, "voice devices, each with a hand-made sensor too"),
    ("--rooms", int, 5, "rooms"),
    ("--rate", float, 1_000.0, "messages a second, everything included"),
    ("--seconds", float, 60.0, "measured load, in seconds"),
    ("--status-rate", float, 40.0, "device status changes a second (each sent twice)"),
    ("--room-rate", float, 5.0, "room state changes a second"),
    ("--handmade-qos", int, 0, "QoS of the hand-made sensors' subscriptions"),
    ("--publishers", int, 1, "paho clients sharing the load (by device and room)"),
    ("--timeout", float, 3.0, "a change with no event within this is lost, s"),
    (
        "--margin",
        float,
        5.0,
        "no worse: the p99 difference stays within this %% of the hand-made p99",
    ),
    ("--profile-seconds", float, 30.0, "more load under py-spy afterwards (0: none)"),
    ("--profile-rate", int, 200, "py-spy samples a second"),
    ("--py-spy", str, None, "the py-spy executable (default: on PATH)"),
)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Read the command line."""
    lines = (__doc__ or "").splitlines()
    parser = argparse.ArgumentParser(
        prog="scripts/benchmark --real-broker",
        description=lines[0],
        epilog="\n".join(lines[2:]),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    for flag, kind, default, text in OPTIONS:
        shown = "" if default is None else " (default: %(default)s)"
        parser.add_argument(flag, type=kind, default=default, help=text + shown)
    parser.add_argument(
        "--recorder", action="store_true", help="set up the recorder (SQLite) too"
    )
    parser.add_argument(
        "--broker-option",
        action="append",
        default=[],
        metavar="LINE",
        help="a line for mosquitto.conf, e.g. 'set_tcp_nodelay true' (repeatable)",
    )
    parser.add_argument(
        "--no-gc-log",
        action="store_true",
        help="do not note hass's garbage collections (a gc.callbacks hook)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the folder")
    args = parser.parse_args(argv)
    plan = load_plan(args)
    try:
        plan.check()
    except ValueError as err:
        parser.error(str(err))
    if not 0 < args.timeout < plan.recurrence():
        parser.error(
            f"--timeout must be under {plan.recurrence():.1f} s, the time before"
            " an entity is sent the same value again"
        )
    if args.handmade_qos not in (0, 1, 2):
        parser.error("--handmade-qos is 0, 1 or 2")
    if args.publishers < 1 or args.profile_seconds < 0:
        parser.error("--publishers must be 1 or more, --profile-seconds 0 or more")
    return args


def load_plan(args: argparse.Namespace) -> LoadPlan:
    """Return the whole load: the measured seconds and the profiled ones."""
    return LoadPlan(
        args.devices,
        args.rooms,
        args.rate,
        args.seconds + args.profile_seconds,
        args.status_rate,
        args.room_rate,
    )


class LatencyRun:
    """One run: what it started and what it measured."""

    def __init__(self, args: argparse.Namespace, workdir: Path) -> None:
        """Plan a run in workdir."""
        self.args = args
        self.workdir = workdir
        self.plan = load_plan(args)
        # A subscriber that falls behind loses nothing: this measures Home
        # Assistant, not mosquitto's queue limit (1000 by default).
        extra = ("max_queued_messages 0", *args.broker_option)
        self.broker = Broker(workdir / "broker", extra_config=extra)
        self.owner: dict[str, Any] = {}
        self.figures = Figures(args, self.plan)

    def note(self, text: str) -> None:
        """Say what is happening, on stderr: stdout holds the report."""
        print(f"{time.strftime('%H:%M:%S')} {text}", file=sys.stderr, flush=True)

    def run(self, stack: ExitStack) -> Figures:
        """Start everything (stopped by stack), load, measure."""
        began = time.monotonic()
        self.broker.start()
        stack.callback(self.broker.stop)
        self.note(f"{self.broker.kind} on 127.0.0.1:{self.broker.port}; starting hass")
        api, hass = self.start_home_assistant(stack)
        entry_id = self.configure(api)
        entities = self.create_entities(api, entry_id)
        time.sleep(3)  # let the entities' creation settle before measuring
        self.load(api, hass.pid, entities)
        self.note("stopping Home Assistant ...")
        stop_process(hass, 60)
        self.figures.read_broker()
        self.figures.read_gc(self.workdir / "gc.log")
        self.figures.total_seconds = time.monotonic() - began
        return self.figures

    def start_home_assistant(
        self, stack: ExitStack
    ) -> tuple[HomeAssistantApi, subprocess.Popen[bytes]]:
        """Write the config, start hass and wait for its HTTP server."""
        env = None
        if not self.args.no_gc_log:
            env = install_hook(self.workdir / "gc_hook", self.workdir / "gc.log")
        return start_scratch_hass(
            stack,
            self.workdir,
            tool="scripts/benchmark --real-broker",
            name="latency",
            extra_yaml="\nrecorder:\n" if self.args.recorder else "",
            env=env,
        )

    def configure(self, api: HomeAssistantApi) -> str:
        """Onboard the owner, add MQTT and voice_mqtt; return voice_mqtt's entry id."""
        return set_up_voice_mqtt(api, self.owner, self.broker.port, "latency")

    def create_entities(self, api: HomeAssistantApi, entry_id: str) -> Entities:
        """Make every device, room and hand-made sensor exist, in its first state."""
        plan = self.plan
        self.note(
            f"creating {plan.devices} devices, {plan.rooms} rooms and"
            f" {plan.devices} hand-made sensors ..."
        )
        publish_once(
            self.broker.port,
            list(initial_messages(plan, time.time(), self.args.handmade_qos)),
        )
        deadline = time.monotonic() + 180
        while True:
            registry = api.websocket({"type": "config/entity_registry/list"})
            entities = Entities.find(registry, entry_id, plan)
            if entities.missing == 0 and entities.all_initial(
                api.call("GET", "/api/states")
            ):
                return entities
            if time.monotonic() > deadline:
                raise TimeoutError(f"{entities.missing} entities never appeared")
            time.sleep(1)

    def load(self, api: HomeAssistantApi, pid: int, entities: Entities) -> None:
        """Run the load, watch the events, sample the process, profile the end."""
        args, figures = self.args, self.figures
        messages = schedule(self.plan)
        publishers = [
            LoadPublisher(
                self.broker.port,
                f"voice_mqtt-latency-{index}",
                [m for m in messages if m.target % args.publishers == index],
            )
            for index in range(args.publishers)
        ]
        for publisher in publishers:
            publisher.connect()
        assert api.token is not None  # noqa: S101 - onboarding set it
        watcher = EventWatcher(api.base_url, api.token, entities.watched)
        watcher.start()
        self.note(
            f"loading: {len(messages):,} messages in {self.plan.seconds:.0f} s"
            f" ({args.seconds:.0f} s measured, {args.profile_seconds:.0f} s profiled)"
        )
        figures.start(pid, self.broker.process, time.time() + 1)
        began = time.monotonic() + 1
        for publisher in publishers:
            publisher.start(began)
        try:
            self._sample_until(began + args.seconds, pid)
            figures.end_measured(pid)
            self._profile(pid, began + self.plan.seconds)
            for publisher in publishers:
                publisher.join()
            figures.end_load(pid)
            # Whatever comes later than the timeout counts as lost anyway.
            self._sample_until(time.monotonic() + args.timeout + 0.5, pid)
        finally:
            for publisher in publishers:
                publisher.stop()
                publisher.join(15)
                publisher.close()
            watcher.stop()
        figures.rss_after = rss_bytes(pid)
        figures.take(publishers, watcher, entities)
        if args.keep:
            figures.write_outcomes(self.workdir / "latencies.csv", entities)

    def _sample_until(self, until: float, pid: int) -> None:
        while (left := until - time.monotonic()) > 0:
            time.sleep(min(left, 0.5))
            self.figures.peak_rss = max(self.figures.peak_rss, rss_bytes(pid))

    def _profile(self, pid: int, until: float) -> None:
        """Sample hass with py-spy while the rest of the load runs."""
        seconds = until - time.monotonic()
        if self.args.profile_seconds <= 0 or seconds < 1:
            return
        executable = self.args.py_spy or find_py_spy()
        if executable is None:
            self.figures.profile_error = "py-spy not found (--py-spy PATH)"
            self._sample_until(until, pid)
            return
        self.note(f"profiling Home Assistant with py-spy for {seconds:.0f} s ...")
        spy = PySpy(executable, pid, self.workdir / "profile.txt")
        spy.start(seconds, self.args.profile_rate)
        self._sample_until(until, pid)
        self.figures.profile, self.figures.profile_error = spy.finish()


def main(argv: list[str] | None = None) -> int:
    """Measure, print the report; 0 unless the run itself failed."""
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    workdir = Path(tempfile.mkdtemp(prefix="voice_mqtt-latency-"))
    run = LatencyRun(args, workdir)
    try:
        with ExitStack() as stack:
            figures = run.run(stack)
    except KeyboardInterrupt:
        print(
            "\nlatency: interrupted; everything it started is stopped", file=sys.stderr
        )
        return 130
    except (ApiError, RuntimeError, TimeoutError, OSError) as err:
        print(f"latency: {err}", file=sys.stderr)
        print(f"See {workdir / 'home-assistant.out'}", file=sys.stderr)
        args.keep = True
        return 2
    finally:
        if args.keep:
            print(f"latency: kept {workdir}", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    for line in report_lines(figures):
        print(line)
    return 0


def _raise_keyboard_interrupt(*_: object) -> None:
    raise KeyboardInterrupt


if __name__ == "__main__":
    sys.exit(main())
