"""The soak's figures, its limits and the report it prints."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from devkit.processes import MIB

from .fuzz import Plan
from .measure import (
    DEVICE_CAP_KEYS,
    ROOM_CAP_KEYS,
    ApiProbe,
    LogFindings,
    count_entry_devices,
    find_cap,
    flatten,
    scan_log,
)
from .publisher import Publisher


@dataclass(frozen=True, slots=True)
class Limits:
    """Beyond these the soak fails; a cap of None is read from diagnostics."""

    tracebacks: int = 0
    api_seconds: float = 1.0
    rss_growth_mib: float = 150.0
    device_cap: int | None = None
    room_cap: int | None = None


@dataclass(frozen=True, slots=True)
class Check:
    """One figure against its limit."""

    name: str
    ok: bool
    line: str


@dataclass
class Report:
    """Everything one run measured."""

    plan: Plan
    limits: Limits = field(default_factory=Limits)
    simulator: tuple[int, int] = (0, 0)  # devices, rooms
    publisher: Publisher | None = None
    probe: ApiProbe | None = None
    traffic_seconds: float = 0.0
    drain_seconds: float = 0.0
    drained: bool = False
    total_seconds: float = 0.0
    rss_before: int = 0
    rss_after: int = 0
    diagnostics: dict[str, Any] = field(default_factory=dict)
    rooms: int = 0
    devices: int = 0
    other_devices: int = 0  # the bridge
    log: LogFindings = field(default_factory=LogFindings)
    simulator_exit: int | None = None
    hass_stop: tuple[int | None, float] = (None, 0.0)  # exit status, seconds
    last_wills: int | None = None  # connections the simulator dropped (mosquitto)
    broker_warnings: list[str] = field(default_factory=list)
    simulator_problems: list[str] = field(default_factory=list)

    def count_devices(self, registry: list[dict[str, Any]], entry_id: str) -> None:
        """Count the entry's rooms and devices in the device registry."""
        self.rooms, self.devices, self.other_devices = count_entry_devices(
            registry, entry_id
        )

    def read_simulator(self, returncode: int | None, output: Path) -> None:
        """Note how the simulator ended, and the problems it printed."""
        self.simulator_exit = returncode
        text = output.read_text(errors="replace") if output.exists() else ""
        self.simulator_problems = [
            line
            for line in text.splitlines()
            if " ERROR " in line or "Traceback" in line or line.startswith("error:")
        ]

    def read_broker(self, kind: str, output: Path) -> None:
        """Count the simulator's dropped connections, and broker warnings."""
        if kind != "mosquitto" or not output.exists():
            return
        lines = output.read_text(errors="replace").splitlines()
        # A connection that ends without DISCONNECT: the broker sends its will.
        self.last_wills = sum(
            "Client voice-sim-" in line and "connection closed by client" in line
            for line in lines
        )
        self.broker_warnings = [
            line
            for line in lines
            if ("Warning:" in line or "Error:" in line) and "as root" not in line
        ]

    def read_log(self, text: str, since: int) -> None:
        """Count the tracebacks and errors in home-assistant.log."""
        self.log = scan_log(text, since)

    # Limits ----------------------------------------------------------------

    def _cap(self, given: int | None, keys: tuple[str, ...]) -> tuple[str, int] | None:
        if given is not None:
            return "--option", given
        return find_cap(self.diagnostics, keys)

    def checks(self) -> list[Check]:
        """Return each figure that has a limit, checked."""
        limits = self.limits
        checks = [
            Check(
                "tracebacks",
                self.log.tracebacks <= limits.tracebacks,
                f"tracebacks: {self.log.tracebacks}"
                f" ({self.log.tracebacks_about_voice_mqtt} mention voice_mqtt)"
                f"  [limit {limits.tracebacks}]",
            )
        ]
        growth = (self.rss_after - self.rss_before) / MIB
        peak = self.probe.peak_rss if self.probe else 0
        checks.append(
            Check(
                "RSS growth",
                growth <= limits.rss_growth_mib,
                f"Home Assistant RSS: {self.rss_before / MIB:.1f} MiB before,"
                f" {self.rss_after / MIB:.1f} MiB after, {growth:+.1f} MiB"
                f" (peak {max(peak, self.rss_after) / MIB:.1f} MiB)"
                f"  [limit +{limits.rss_growth_mib:g} MiB]",
            )
        )
        checks.append(_api_check(self.probe, self.limits.api_seconds))
        checks.extend(self._cap_checks())
        checks.append(_sent_check(self.publisher, self.plan.total))
        checks.append(
            Check(
                "drained",
                self.drained,
                f"caught up after the traffic: {'yes' if self.drained else 'no'},"
                f" counters steady after {self.drain_seconds:.1f} s"
                "  [limit: within --drain-seconds]",
            )
        )
        checks.append(_simulator_check(self.simulator_exit, self.simulator_problems))
        status, seconds = self.hass_stop
        checks.append(
            Check(
                "Home Assistant stop",
                status == 0,
                f"Home Assistant stopped: exit status {status} after {seconds:.1f} s"
                "  [limit: 0, within 60 s]",
            )
        )
        return checks

    def _cap_checks(self) -> list[Check]:
        checks = []
        simulated_devices = self.simulator[0]
        for name, count, cap, extra, keys in (
            (
                "devices",
                self.devices,
                self.limits.device_cap,
                simulated_devices,
                DEVICE_CAP_KEYS,
            ),
            ("rooms", self.rooms, self.limits.room_cap, 0, ROOM_CAP_KEYS),
        ):
            found = self._cap(cap, keys)
            if found is None:
                checks.append(
                    Check(
                        name,
                        True,
                        f"{name} created: {count:,}  [no cap known: unchecked]",
                    )
                )
                continue
            key, value = found
            plus = f" + {extra} simulated" if extra else ""
            checks.append(
                Check(
                    name,
                    count <= value + extra,
                    f"{name} created: {count:,}  [limit {value:,} ({key}){plus}]",
                )
            )
        return checks

    def failures(self) -> list[str]:
        """Return the names of the limits that were broken."""
        return [check.name for check in self.checks() if not check.ok]

    # The report ---------------------------------------------------------------

    def lines(self) -> list[str]:
        """Return the report, one figure a line."""
        plan = self.plan
        devices, rooms = self.simulator
        out = [
            f"voice_mqtt soak (seed {plan.seed})",
            (
                f"  load: {plan.messages:,} fuzzed messages, {plan.device_ids:,} new"
                f" device ids, {plan.room_ids:,} new room ids; simulator: {devices}"
                f" devices, {rooms} rooms"
            ),
            (
                f"  time: traffic {self.traffic_seconds:.1f} s, drain"
                f" {self.drain_seconds:.1f} s, whole run {self.total_seconds:.1f} s"
            ),
        ]
        checks = {check.name: check for check in self.checks()}
        out.append(_mark(checks.pop("sent")))
        if (publisher := self.publisher) is not None:
            kinds = ", ".join(
                f"{kind} {n:,}" for kind, n in sorted(publisher.published.items())
            )
            out.append(f"  sent by kind: {kinds}")
            named = publisher.names
            out.append(
                "  distinct valid ids in the fuzzer's topics:"
                f" {len(named['device']):,} devices, {len(named['room']):,} rooms"
            )
        out.extend(_message_lines(self.diagnostics))
        if self.last_wills is not None:
            first = self.broker_warnings[:1]
            out.append(
                f"  broker: {self.last_wills} simulated connection drops (Last Wills"
                f" sent), {len(self.broker_warnings)} warnings"
                + (f", first: {first[0][:120]!r}" if first else "")
            )
        out.append(_mark(checks.pop("tracebacks")))
        out.extend(
            f"      {count:,} x {signature}"
            for signature, count in self.log.kinds.most_common(8)
        )
        log = self.log
        out.append(f"  ERROR lines about voice_mqtt: {log.errors_about_voice_mqtt:,}")
        out.append(f"  warnings from voice_mqtt: {log.warnings_from_voice_mqtt:,}")
        out.append(
            f"  home-assistant.log during the soak: {log.records_since:,} records,"
            f" {log.warnings_since:,} of them warnings"
        )
        out.append(
            "  start-up tracebacks of other integrations (requirements not"
            f" installed; not counted): {log.startup_tracebacks_elsewhere}"
        )
        out.extend(_mark(check) for check in checks.values())
        failed = self.failures()
        out.append(f"result: {'FAIL: ' + ', '.join(failed) if failed else 'ok'}")
        return out


def _mark(check: Check) -> str:
    return f"  {check.line}  {'ok' if check.ok else 'FAIL'}"


# The checks and lines that need only a few figures ---------------------------


def _simulator_check(exit_status: int | None, problems: list[str]) -> Check:
    first = f", first: {problems[0][:120]!r}" if problems else ""
    return Check(
        "simulator",
        exit_status == 0,
        f"simulator: exit status {exit_status},"
        f" {len(problems)} error lines in its output{first}"
        "  [limit: it ran to the end]",
    )


def _api_check(probe: ApiProbe | None, limit: float) -> Check:
    if probe is None or not probe.probes:
        return Check("slowest /api/", False, "slowest GET /api/: never probed")
    failed = f", {probe.failures} failed ({probe.last_error})" if probe.failures else ""
    return Check(
        "slowest /api/",
        probe.slowest <= limit and not probe.failures,
        f"slowest GET /api/ answer: {probe.slowest:.3f} s,"
        f" {probe.slowest_at:.1f} s into the run; {probe.probes} probes{failed}"
        f"  [limit {limit:g} s]",
    )


def _sent_check(publisher: Publisher | None, planned: int) -> Check:
    if publisher is None:
        return Check("sent", False, f"messages sent: none of {planned:,}")
    complete = publisher.done and publisher.acknowledged >= planned
    return Check(
        "sent",
        complete,
        f"messages sent: {publisher.acknowledged:,} of {planned:,} acknowledged"
        f" by the broker, {publisher.payload_bytes / MIB:.1f} MiB in"
        f" {publisher.seconds:.1f} s"
        + (f", {publisher.refused} refused by paho" if publisher.refused else "")
        + "  [limit: all, within --seconds]",
    )


def _message_lines(diagnostics: Mapping[str, Any]) -> list[str]:
    messages: Mapping[str, Any] = diagnostics.get("messages", {})
    if not messages:
        return ["  voice_mqtt's diagnostics: no messages counters"]
    out = []
    for key in ("received", "rejected"):
        value = messages.get(key)
        if isinstance(value, Mapping):
            total = sum(n for n in value.values() if isinstance(n, int))
            parts = ", ".join(f"{name} {n:,}" for name, n in sorted(value.items()))
            out.append(f"  messages {key} by voice_mqtt: {total:,} ({parts or 'none'})")
    rest = {
        key: value
        for key, value in messages.items()
        if key not in ("received", "rejected")
    }
    out.extend(f"  messages.{key}: {value}" for key, value in flatten(rest).items())
    return out
