"""scripts/soak: a hostile soak of voice_mqtt, bounded in count and time.

In a fresh temporary folder: a broker, and Home Assistant set up as a user
would (onboarding, then the MQTT and voice_mqtt config flows). Then the fleet
simulator talks (conversations, heartbeats, events, dropped connections with
real Last Wills) while a fuzzer publishes garbage, floods of new ids and
valid-looking noise into voice_mqtt's namespace. Everything is on 127.0.0.1.

It prints what was sent, what voice_mqtt received and rejected and why, the
tracebacks in the log, the rooms and devices created, Home Assistant's memory
before and after, and the slowest answer of `GET /api/` during the run; it
exits with 1 when one of them breaks its limit.
"""

from __future__ import annotations

import argparse
from contextlib import ExitStack
from pathlib import Path
import subprocess
import sys
import time
from typing import Any

from devkit.broker import Broker
from devkit.cli import note, parser_from_doc, run_in_scratch_folder
from devkit.hass.api import ApiError, HomeAssistantApi, refresh_access_token
from devkit.hass.log import read_logs
from devkit.hass.start import set_up_voice_mqtt, start_scratch_hass
from devkit.processes import rss_bytes, spawn_simulator, stop_process

from .fuzz import Plan, generate
from .measure import ApiProbe
from .publisher import Publisher
from .report import Limits, Report

# (group, flag, type, default, help); a default of None has none.
OPTIONS: tuple[tuple[str, str, type, object, str], ...] = (
    ("load", "--messages", int, 100_000, "fuzzed messages"),
    ("load", "--device-ids", int, 10_000, "new device ids, each sent once"),
    ("load", "--room-ids", int, 2_000, "new room ids, each sent once"),
    ("load", "--rate", float, 2_000.0, "the fuzzer's messages a second, at most"),
    ("load", "--seconds", float, 600.0, "hard bound on the traffic, in seconds"),
    ("load", "--min-seconds", float, 30.0, "the simulator talks at least this long"),
    ("load", "--sim-devices", int, 6, "simulated devices"),
    ("load", "--sim-rooms", int, 3, "simulated rooms"),
    ("load", "--seed", int, 1, "of every random choice"),
    ("limits", "--max-tracebacks", int, 0, "in home-assistant.log"),
    ("limits", "--max-api-seconds", float, 1.0, "slowest GET /api/ answer"),
    ("limits", "--max-rss-growth", float, 150.0, "of Home Assistant, in MiB"),
    ("limits", "--device-cap", int, None, "devices (default: from diagnostics)"),
    ("limits", "--room-cap", int, None, "rooms (default: from diagnostics)"),
    ("run", "--drain-seconds", float, 120.0, "at most, to catch up afterwards"),
)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Read the command line."""
    parser = parser_from_doc("scripts/soak", __doc__)
    groups = {
        "load": parser.add_argument_group("load"),
        "limits": parser.add_argument_group("limits (the run fails beyond them)"),
        "run": parser.add_argument_group("run"),
    }
    for group, flag, kind, default, text in OPTIONS:
        shown = "" if default is None else " (default: %(default)s)"
        groups[group].add_argument(flag, type=kind, default=default, help=text + shown)
    groups["run"].add_argument(
        "--keep",
        action="store_true",
        help="keep the temporary folder (config and logs, broker, simulator)",
    )
    args = parser.parse_args(argv)
    for name in ("messages", "device_ids", "room_ids", "sim_devices", "sim_rooms"):
        if getattr(args, name) < 0:
            parser.error(f"--{name.replace('_', '-')} must be 0 or more")
    if args.rate <= 0 or args.seconds <= 0:
        parser.error("--rate and --seconds must be more than 0")
    return args


class Soak:
    """One run: what it started, what it measured."""

    def __init__(self, args: argparse.Namespace, workdir: Path) -> None:
        """Plan a run in workdir."""
        self.args = args
        self.workdir = workdir
        self.config_dir = workdir / "config"
        self.report = Report(
            plan=Plan(args.messages, args.device_ids, args.room_ids, args.seed),
            limits=Limits(
                tracebacks=args.max_tracebacks,
                api_seconds=args.max_api_seconds,
                rss_growth_mib=args.max_rss_growth,
                device_cap=args.device_cap,
                room_cap=args.room_cap,
            ),
        )
        self.owner: dict[str, Any] = {}
        # A subscriber that falls behind loses nothing: the soak measures
        # Home Assistant, not mosquitto's queue limit (1000 by default).
        self.broker = Broker(
            workdir / "broker", extra_config=("max_queued_messages 0",)
        )
        self.client_id = ""

    def run(self, stack: ExitStack) -> Report:
        """Start everything (stopped by stack), soak, measure."""
        began = time.monotonic()
        broker = self.broker
        broker.start()
        stack.callback(broker.stop)
        note(f"{broker.kind} on 127.0.0.1:{broker.port}; Home Assistant starting ...")
        api, hass = self.start_home_assistant(stack)
        entry_id = self.configure(api, broker.port)
        time.sleep(2)  # let start-up settle before the baseline
        report = self.report
        report.rss_before = rss_bytes(hass.pid)
        log_start = len(read_logs(self.config_dir))
        probe = ApiProbe(self.new_api(api), hass.pid, refresh=self.refresh)
        probe.start()
        stack.callback(probe.stop)
        self.traffic(stack, broker.port)
        self.refresh(api)  # access tokens live 30 minutes
        report.drain_seconds = self.drain(api, entry_id)
        probe.stop()
        report.probe = probe
        self.measure(api, entry_id, hass.pid)
        # The log is read once Home Assistant has stopped: its last writes
        # (registries, restore state) fail then if what they hold cannot be saved.
        note("stopping Home Assistant ...")
        stopping = time.monotonic()
        stop_process(hass, 60)
        report.hass_stop = (hass.returncode, time.monotonic() - stopping)
        report.read_log(read_logs(self.config_dir), log_start)
        report.read_broker(broker.kind, broker.workdir / f"{broker.kind}.out")
        report.total_seconds = time.monotonic() - began
        return report

    def start_home_assistant(
        self, stack: ExitStack
    ) -> tuple[HomeAssistantApi, subprocess.Popen[bytes]]:
        """Write the config, start hass and wait for its HTTP server."""
        api, hass = start_scratch_hass(
            stack, self.workdir, tool="scripts/soak", name="soak"
        )
        self.client_id = f"{api.base_url}/"
        return api, hass

    def configure(self, api: HomeAssistantApi, broker_port: int) -> str:
        """Onboard the owner, add MQTT and voice_mqtt; return voice_mqtt's entry id."""
        entry_id = set_up_voice_mqtt(api, self.owner, broker_port, "soak")
        note(f"Home Assistant is up on {api.base_url}; voice_mqtt is entry {entry_id}")
        return entry_id

    def new_api(self, api: HomeAssistantApi) -> HomeAssistantApi:
        """Return another client with the same token, for another thread."""
        other = HomeAssistantApi(api.base_url)
        other.token = api.token
        return other

    def refresh(self, api: HomeAssistantApi) -> None:
        """Get a new access token."""
        refresh_access_token(api, self.owner["refresh_token"], self.client_id)

    def traffic(self, stack: ExitStack, port: int) -> None:
        """Run the simulator and the fuzzer together, within the time bound."""
        args, report = self.args, self.report
        simulator = self.start_simulator(port)
        stack.callback(stop_process, simulator, 20)
        publisher = Publisher(port, generate(report.plan), args.rate)
        publisher.start()
        stack.callback(publisher.close)
        note(
            f"soaking: {report.plan.total:,} messages at up to {args.rate:,.0f}/s,"
            " the simulator talking ..."
        )
        began = time.monotonic()
        deadline = began + args.seconds
        while time.monotonic() < deadline and simulator.poll() is None:
            if publisher.done and time.monotonic() - began >= args.min_seconds:
                break
            time.sleep(0.2)
        publisher.stop()
        publisher.wait_acknowledged(10)
        stop_process(simulator, 20)  # cleanly: no Last Will now
        report.traffic_seconds = time.monotonic() - began
        report.publisher = publisher
        report.read_simulator(simulator.returncode, self.workdir / "simulator.out")

    def start_simulator(self, port: int) -> subprocess.Popen[bytes]:
        """Start a busy fleet: talking, beating, dropping connections.

        In a process of its own, as users run it: its output (what it
        received: the fuzzer's display actions among them) goes to a file.
        """
        args = self.args
        simulator = spawn_simulator(
            "127.0.0.1",
            port,
            *("--devices", str(args.sim_devices), "--rooms", str(args.sim_rooms)),
            *("--heartbeat", "5", "--conversation-interval", "6"),
            *("--drop-interval", "8", "--drop-duration", "4"),
            *("--event-interval", "10", "--seed", str(args.seed), "--quiet"),
            output=self.workdir / "simulator.out",
        )
        time.sleep(2)  # it connects every device before it talks
        if simulator.poll() is not None:
            output_text = (self.workdir / "simulator.out").read_text(errors="replace")
            raise RuntimeError(f"the simulator did not start:\n{output_text[-2000:]}")
        self.report.simulator = (args.sim_devices, args.sim_rooms)
        return simulator

    def drain(self, api: HomeAssistantApi, entry_id: str) -> float:
        """Wait until voice_mqtt's counters stop moving; return how long it took."""
        began = time.monotonic()
        deadline = began + self.args.drain_seconds
        last: Any = None
        steady = 0
        while time.monotonic() < deadline and steady < 3:
            time.sleep(1)
            try:
                counters = self.diagnostics(api, entry_id).get("messages")
            except ApiError, OSError:
                counters = None  # busy: not drained
            steady = steady + 1 if counters is not None and counters == last else 0
            last = counters
        self.report.drained = steady >= 3
        return time.monotonic() - began

    def diagnostics(self, api: HomeAssistantApi, entry_id: str) -> dict[str, Any]:
        """Return the data of the entry's diagnostics."""
        answer = api.call(
            "GET", f"/api/diagnostics/config_entry/{entry_id}", timeout=30
        )
        return dict(answer.get("data", answer))

    def measure(self, api: HomeAssistantApi, entry_id: str, pid: int) -> None:
        """Read the memory, the counters and the registry."""
        report = self.report
        report.rss_after = rss_bytes(pid)
        report.diagnostics = self.diagnostics(api, entry_id)
        registry = api.websocket({"type": "config/device_registry/list"})
        report.count_devices(registry, entry_id)


def main(argv: list[str] | None = None) -> int:
    """Soak, print the report; 0 when every limit held, 1 when not."""
    args = parse_args(argv)

    def soak(stack: ExitStack, workdir: Path) -> tuple[list[str], int]:
        report = Soak(args, workdir).run(stack)
        return report.lines(), 1 if report.failures() else 0

    return run_in_scratch_folder(
        "scripts/soak",
        "soak",
        keep=args.keep,
        run=soak,
        logs=("home-assistant.out", "config/home-assistant.log"),
    )


if __name__ == "__main__":
    sys.exit(main())
