"""The smoke's checks, run in the venv of the Home Assistant release they check.

devkit.smoke.run starts them with that venv's Python, so Home Assistant
(started by devkit.hass.start as `python -m homeassistant`) and the simulator
run on the release. It needs the stdlib, aiohttp (Home Assistant's, for one websocket
call at a time) and paho-mqtt (the simulator's, which MQTT brings).
"""

from __future__ import annotations

import argparse
from contextlib import ExitStack
from dataclasses import dataclass, field
from importlib.metadata import version as installed_version
import json
from pathlib import Path
import platform
import subprocess
import sys
import time
from typing import Any, Final

from devkit import DOMAIN
from devkit.hass.api import ApiError, HomeAssistantApi
from devkit.hass.log import read_logs
from devkit.hass.start import set_up_voice_mqtt, start_scratch_hass
from devkit.processes import spawn_simulator, stop_process

from .fleet import FleetView, counted, see_fleet
from .log import judge_log

DEVICES: Final = 3  # a voice box, a VR headset, a browser
ROOMS: Final = 1
WITHIN: Final = 120.0  # for the fleet to show; a loaded machine is slow
# Python's deprecation warnings are hidden by default; Home Assistant logs
# the ones shown (py.warnings), once per place.
WARNINGS: Final = "default::DeprecationWarning,default::PendingDeprecationWarning"
WS_URL: Final = "ws://127.0.0.1:8000/xiaozhi/v1/"


@dataclass
class Check:
    """One line of the report."""

    passed: bool
    text: str


@dataclass
class SmokeRun:
    """One run against a broker already listening; what it saw."""

    version: str
    broker_port: int
    workdir: Path
    checks: list[Check] = field(default_factory=list)
    owner: dict[str, Any] = field(default_factory=dict)

    def run(self, stack: ExitStack) -> None:
        """Start, set up, drive, check; then stop and read the log."""
        hass: subprocess.Popen[bytes] | None = None
        try:
            began = time.monotonic()
            api, hass = start_scratch_hass(
                stack,
                self.workdir,
                tool="scripts/smoke",
                name=self.version,
                env={"PYTHONWARNINGS": WARNINGS},
            )
            entry_id = set_up_voice_mqtt(api, self.owner, self.broker_port, "smoke")
            self.passed(
                f"started in {time.monotonic() - began:.0f} s; voice_mqtt set up"
                f" through its config flow (entry {entry_id})"
            )
            simulator = self.start_simulator()
            stack.callback(stop_process, simulator, 20)
            fleet = self.wait_for_fleet(api, entry_id)
            self.send_command(api, fleet)
            self.ws_start(api, fleet)
            stop_process(simulator, 20)
        except (ApiError, RuntimeError, TimeoutError, OSError) as err:
            self.failed(f"{type(err).__name__}: {err}")
        finally:
            if hass is not None:
                self.stop(hass)
        self.read_log()

    def passed(self, text: str) -> None:
        """Note a check that held, and say so now."""
        self.note(Check(passed=True, text=text))

    def failed(self, text: str) -> None:
        """Note a check that failed, and say so now."""
        self.note(Check(passed=False, text=text))

    def note(self, check: Check) -> None:
        """Keep a check and print its line."""
        self.checks.append(check)
        print(f"  {'ok  ' if check.passed else 'FAIL'} {check.text}", flush=True)

    def start_simulator(self) -> subprocess.Popen[bytes]:
        """Start the fleet: talking, beating, sending events."""
        return spawn_simulator(
            "127.0.0.1",
            self.broker_port,
            *("--devices", str(DEVICES), "--rooms", str(ROOMS)),
            *("--heartbeat", "5", "--event-interval", "5"),
            *("--conversation-interval", "3", "--seed", "1", "--quiet"),
            output=self.simulator_output,
        )

    @property
    def simulator_output(self) -> Path:
        """Return where the simulator prints what it receives."""
        return self.workdir / "simulator.out"

    def wait_for_fleet(self, api: HomeAssistantApi, entry_id: str) -> FleetView:
        """Wait until every simulated device and room shows, online and talking."""
        began = time.monotonic()
        deadline = began + WITHIN
        while True:
            fleet = see_fleet(
                api.websocket({"type": "config/device_registry/list"}),
                api.websocket({"type": "config/entity_registry/list"}),
                api.call("GET", "/api/states"),
                entry_id,
            )
            if fleet.complete(DEVICES, ROOMS):
                self.passed(
                    f"entities in {time.monotonic() - began:.0f} s: {fleet.summary()}"
                )
                return fleet
            if time.monotonic() > deadline:
                raise TimeoutError(f"not within {WITHIN:.0f} s: {fleet.summary()}")
            time.sleep(1)

    def send_command(self, api: HomeAssistantApi, fleet: FleetView) -> None:
        """Ask the headset for its status: a publish it receives and answers."""
        headset = fleet.device_of_model("vr")
        answer = self.call(
            api,
            "send_command",
            {"device": headset.registry_id, "command": "get_status"}
            | {"wait_for_response": True, "timeout": 10},
        )
        result = json.dumps(answer.get("result"), sort_keys=True)
        self.wait_for_simulator(f"{headset.object_id} got get_status")
        self.passed(
            f"send_command get_status to {headset.object_id}: answered {result};"
            " the simulator got it"
        )

    def ws_start(self, api: HomeAssistantApi, fleet: FleetView) -> None:
        """Wake the voice box: a publish on its xiaozhi topic."""
        box = fleet.device_of_model("voice_box")
        answer = self.call(api, "ws_start", {"device": box.registry_id, "url": WS_URL})
        self.wait_for_simulator(f"ws_start for {box.mac}")
        self.passed(
            f"ws_start to {box.mac}: published on {answer.get('topic')}"
            f" ({answer.get('attempts')} attempt); the simulator got it"
        )

    def call(
        self, api: HomeAssistantApi, service: str, data: dict[str, Any]
    ) -> dict[str, Any]:
        """Call one of voice_mqtt's actions and return its response."""
        answer = api.call(
            "POST", f"/api/services/{DOMAIN}/{service}?return_response", data
        )
        return dict(answer["service_response"])

    def wait_for_simulator(self, text: str, within: float = 30) -> None:
        """Wait until the simulator has printed text (it flushes every line)."""
        deadline = time.monotonic() + within
        while text not in self.simulator_output.read_text(errors="replace"):
            if time.monotonic() > deadline:
                raise TimeoutError(f"the simulator did not print {text!r}")
            time.sleep(0.2)

    def stop(self, hass: subprocess.Popen[bytes]) -> None:
        """Stop Home Assistant: its last writes come then, and their errors."""
        began = time.monotonic()
        stop_process(hass, 60)
        seconds = time.monotonic() - began
        text = f"Home Assistant stopped (exit {hass.returncode}) in {seconds:.0f} s"
        self.note(Check(passed=hass.returncode == 0, text=text))

    def read_log(self) -> None:
        """Judge home-assistant.log and hass's own output."""
        output = self.workdir / "home-assistant.out"
        verdict = judge_log(
            read_logs(self.workdir / "config"),
            output.read_text(errors="replace") if output.exists() else "",
        )
        others = (
            f"others: {counted(verdict.errors_elsewhere, 'error')} and"
            f" {counted(verdict.warnings_elsewhere, 'warning')}"
        )
        if first := verdict.first_error or verdict.first_warning:
            others += f"; the first {'error' if verdict.first_error else 'warning'}:"
            others += f" {first}"
        if verdict.passed:
            self.passed(
                "log: no warning or error from voice_mqtt, no deprecation"
                f" naming it ({others})"
            )
            return
        self.failed(f"log: {len(verdict.problems)} records about voice_mqtt ({others})")
        for problem in verdict.problems:
            print(f"         {problem}")


def main(argv: list[str] | None = None) -> int:
    """Run once; 0 when every check held, 1 when one did not."""
    parser = argparse.ArgumentParser(prog="python -m devkit.smoke.checks")
    parser.add_argument("--version", required=True)
    parser.add_argument("--broker-port", type=int, required=True)
    parser.add_argument("--workdir", type=Path, required=True)
    args = parser.parse_args(argv)
    found = installed_version("homeassistant")
    if found != args.version:
        print(
            f"scripts/smoke: the venv holds Home Assistant {found}, not {args.version}"
        )
        return 2
    print(f"  Home Assistant {found} on Python {platform.python_version()}")
    smoke = SmokeRun(args.version, args.broker_port, args.workdir)
    with ExitStack() as stack:
        smoke.run(stack)
    return 0 if all(check.passed for check in smoke.checks) else 1


if __name__ == "__main__":
    sys.exit(main())
