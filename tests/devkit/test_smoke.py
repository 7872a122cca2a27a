"""scripts/smoke without Home Assistant: versions, requirements, fleet, log."""

from __future__ import annotations

import json
from pathlib import Path
import shutil
import subprocess

import pytest

from devkit.smoke.fleet import see_fleet
from devkit.smoke.log import judge_log
from devkit.smoke.run import integration_requirements, resolve_version
from tests.test_repository import load, steps, triggers, uses

ROOT = Path(__file__).parents[2]


def test_ci_smokes_the_newest_and_the_oldest_release() -> None:
    workflow = load(ROOT / ".github" / "workflows" / "smoke.yml")
    # Nightly too: a new release comes without a push.
    assert {"push", "pull_request", "schedule"} <= set(triggers(workflow))
    job = steps(workflow, "smoke")
    strategy = workflow["jobs"]["smoke"]["strategy"]
    assert strategy == {"fail-fast": False, "matrix": {"release": ["newest", "oldest"]}}
    assert uses(job, "actions/setup-python@v5")["with"]["python-version"] == "3.14"
    commands = [step["run"] for step in job if "run" in step]
    assert any("apt-get install" in run and "mosquitto" in run for run in commands)
    assert commands[-1] == "scripts/smoke ${{ matrix.release }}"
    assert (ROOT / "scripts" / "smoke").stat().st_mode & 0o111
    assert ".venv-smoke-*" in (ROOT / ".gitignore").read_text().splitlines()


def test_the_project_s_ci_smokes_the_newest_after_the_suite_on_both(
    tmp_path: Path,
) -> None:
    # .ci/run in a copy of the repository, beside a py314 runner that only
    # notes what it is asked to run.
    ci = tmp_path / "repo" / ".ci" / "run"
    ci.parent.mkdir(parents=True)
    shutil.copy2(ROOT / ".ci" / "run", ci)
    runner = tmp_path / "shared" / "py314" / "run"
    runner.parent.mkdir(parents=True)
    ran = tmp_path / "ran"
    runner.write_text(f'#!/bin/sh\necho "$*" >>"{ran}"\n')
    runner.chmod(0o755)
    subprocess.run([ci], check=True, timeout=30)  # noqa: S603 - a copy of ours
    commands = ran.read_text().splitlines()
    assert commands[-1] == "scripts/smoke newest"
    assert {"scripts/test", "scripts/test --ha oldest"} <= set(commands[:-1])


def test_oldest_is_what_hacs_json_declares(tmp_path: Path) -> None:
    hacs = tmp_path / "hacs.json"
    hacs.write_text(json.dumps({"name": "x", "homeassistant": "2026.8.0"}))
    assert resolve_version("oldest", hacs) == "2026.8.0"
    assert resolve_version("2026.11.0", hacs) == "2026.11.0"
    assert resolve_version("2026.12.0b1", hacs) == "2026.12.0b1"
    # The repository's own declares a release too.
    assert (
        resolve_version("oldest")
        == json.loads((ROOT / "hacs.json").read_text())["homeassistant"]
    )


@pytest.mark.parametrize("asked", ["2026.11", "latest", "2026.11.0; rm -rf /", ""])
def test_anything_else_is_refused(asked: str) -> None:
    with pytest.raises(ValueError, match="not a Home Assistant release"):
        resolve_version(asked)


def _manifest(components: Path, domain: str, **fields: list[str]) -> None:
    (components / domain).mkdir(parents=True)
    (components / domain / "manifest.json").write_text(
        json.dumps({"domain": domain, **fields})
    )


def test_requirements_follow_dependencies_and_after_dependencies(
    tmp_path: Path,
) -> None:
    _manifest(
        tmp_path,
        "mqtt",
        requirements=["paho-mqtt==2.1.0"],
        dependencies=["http"],
        after_dependencies=["hassio"],
    )
    _manifest(tmp_path, "http", dependencies=["mqtt"])  # a cycle ends
    _manifest(tmp_path, "hassio", requirements=["aiohasupervisor==0.8.1"])
    _manifest(tmp_path, "frontend", requirements=["home-assistant-frontend==1"])
    _manifest(tmp_path, "unrelated", requirements=["numpy==2"])
    # voice_mqtt's: mqtt, and the frontend whose build an empty folder replaces;
    # a domain without a manifest (not in this release) is skipped.
    assert integration_requirements(tmp_path, ["mqtt", "frontend", "gone"]) == [
        "aiohasupervisor==0.8.1",
        "paho-mqtt==2.1.0",
    ]


# The fleet as the registries show it ------------------------------------------

DEVICES = [
    {
        "id": "r1",
        "config_entries": ["E"],
        "identifiers": [["voice_mqtt", "E_room_kitchen"]],
    },
    {
        "id": "d1",
        "config_entries": ["E"],
        "identifiers": [["voice_mqtt", "E_device_cc:ba:97:11:0e:84"]],
        "connections": [["mac", "cc:ba:97:11:0e:84"]],
        "model": "voice_box",
    },
    {
        "id": "d2",
        "config_entries": ["E"],
        "identifiers": [["voice_mqtt", "E_device_VR_0001"]],
        "model": "vr",
    },
    {"id": "b", "config_entries": ["E"], "identifiers": [["voice_mqtt", "E"]]},
    {
        "id": "x",
        "config_entries": ["F"],
        "identifiers": [["voice_mqtt", "F_device_VR_9"]],
    },
]


def _entity(device: str, key: str, entity_id: str) -> dict[str, str | None]:
    return {
        "entity_id": entity_id,
        "device_id": device,
        "config_entry_id": "E",
        "translation_key": key,
        "disabled_by": None,
    }


ENTITIES = [
    _entity("r1", "transcript", "sensor.kitchen_transcript"),
    _entity("d1", "connectivity", "binary_sensor.box_connectivity"),
    _entity("d2", "connectivity", "binary_sensor.vr_connectivity"),
    _entity("d2", "device_status", "sensor.vr_status"),
    {**_entity("d2", "position", "sensor.vr_position"), "disabled_by": "integration"},
]


def _states(**overrides: str) -> list[dict[str, str]]:
    states = {
        "sensor.kitchen_transcript": "set a timer for ten minutes",
        "binary_sensor.box_connectivity": "on",
        "binary_sensor.vr_connectivity": "on",
        "sensor.vr_status": "idle",
    } | overrides
    return [{"entity_id": key, "state": value} for key, value in states.items()]


def test_the_fleet_shows_when_every_entity_has_a_state_all_online_rooms_heard() -> None:
    fleet = see_fleet(DEVICES, ENTITIES, _states(), "E")
    assert fleet.complete(devices=2, rooms=1)
    assert not fleet.complete(devices=3, rooms=1)
    assert fleet.summary() == (
        "2 devices and 1 room, 4 entities (0 without a state), 2 of 2 online,"
        " kitchen heard 'set a timer for ten minutes'"
    )
    headset = fleet.device_of_model("vr")
    assert (headset.registry_id, headset.object_id) == ("d2", "VR_0001")
    assert fleet.device_of_model("voice_box").mac == "cc:ba:97:11:0e:84"
    with pytest.raises(RuntimeError, match="no browser"):
        fleet.device_of_model("browser")


@pytest.mark.parametrize(
    "states",
    [
        _states(**{"binary_sensor.vr_connectivity": "off"}),
        _states(**{"sensor.kitchen_transcript": "unknown"}),
        [s for s in _states() if s["entity_id"] != "sensor.vr_status"],
    ],
    ids=["a device offline", "a room that heard nothing", "an entity without state"],
)
def test_the_fleet_is_not_complete_until_then(states: list[dict[str, str]]) -> None:
    assert not see_fleet(DEVICES, ENTITIES, states, "E").complete(devices=2, rooms=1)


# The log ---------------------------------------------------------------------

NOTICE = (
    "2026-12-01 09:58:37.173+00:00 WARNING (SyncWorker_0) [homeassistant.loader]"
    " We found a custom integration voice_mqtt which has not been tested by Home"
    " Assistant. This component might cause stability problems\n"
)
ELSEWHERE = """\
2026-12-01 09:58:37.785+00:00 ERROR (MainThread) [homeassistant.setup] Setup failed for 'ffmpeg': Unable to import component: No module named 'haffmpeg'
Traceback (most recent call last):
ModuleNotFoundError: No module named 'haffmpeg'
2026-12-01 09:58:37.577+00:00 WARNING (MainThread) [aiohttp_fast_zlib] zlib_ng and isal are not available
"""


def test_a_clean_log_passes_and_counts_the_others() -> None:
    verdict = judge_log(NOTICE + ELSEWHERE)
    assert verdict.passed
    assert (verdict.errors_elsewhere, verdict.warnings_elsewhere) == (1, 1)
    assert verdict.first_warning.endswith("zlib_ng and isal are not available")
    assert verdict.first_error == (
        "2026-12-01 09:58:37.785+00:00 ERROR (MainThread) [homeassistant.setup]"
        " Setup failed for 'ffmpeg': Unable to import component: No module named"
        " 'haffmpeg' ... ModuleNotFoundError: No module named 'haffmpeg'"
    )


FAILING = {
    # voice_mqtt's own warning (a dropped message, a failed ws_start), or error
    "our warning": (
        "2026-12-01 10:00:00.000 WARNING (MainThread)"
        " [custom_components.voice_mqtt.stats] Dropped a message: invalid_json\n"
    ),
    "our error": (
        "2026-12-01 10:00:00.000+00:00 ERROR (MainThread)"
        " [custom_components.voice_mqtt] Unexpected error\n"
    ),
    # anyone's error about it: a traceback through its code
    "a traceback": (
        "2026-12-01 10:00:00.000+00:00 ERROR (MainThread)"
        " [homeassistant.components.mqtt.client] Exception in _async_device_message\n"
        "Traceback (most recent call last):\n"
        '  File "/repo/custom_components/voice_mqtt/hub.py", line 223, in x\n'
        "KeyError: 1\n"
    ),
    # the frame helper's report of a deprecated call
    "frame": (
        "2026-12-01 10:00:00.000+00:00 WARNING (MainThread)"
        " [homeassistant.helpers.frame] Detected that custom integration"
        " 'voice_mqtt' calls async_forward_entry_setup, which will stop working\n"
    ),
    # Python's DeprecationWarning raised in its code, logged by Home Assistant
    "py.warnings": (
        "2026-12-01 10:00:00.000+00:00 WARNING (MainThread) [py.warnings]"
        " /config/custom_components/voice_mqtt/hub.py:12: DeprecationWarning: old\n"
    ),
    # a deprecation at any level
    "info": (
        "2026-12-01 10:00:00.000+00:00 INFO (MainThread)"
        " [homeassistant.helpers.deprecation] voice_mqtt uses a deprecated constant\n"
    ),
}


@pytest.mark.parametrize("record", FAILING.values(), ids=FAILING.keys())
def test_what_fails_the_smoke(record: str) -> None:
    verdict = judge_log(NOTICE + ELSEWHERE + record)
    assert len(verdict.problems) == 1
    assert verdict.problems[0].startswith(record.splitlines()[0][:120])
    assert not verdict.passed
    # The others are still counted apart.
    assert (verdict.errors_elsewhere, verdict.warnings_elsewhere) == (1, 1)


def test_a_warning_printed_before_the_log_was_set_up_counts_once() -> None:
    printed = (
        "/config/custom_components/voice_mqtt/card.py:3: DeprecationWarning: old\n"
        "  import thing\n"
        "/venv/homeassistant/components/http/server.py:223: DeprecationWarning:"
        " Inheritance class HomeAssistantApplication from web.Application\n"
    )
    logged = (
        "2026-12-01 10:00:00.000+00:00 WARNING (MainThread) [py.warnings]"
        " /config/custom_components/voice_mqtt/hub.py:12: DeprecationWarning: old\n"
    )
    # hass prints its log records too: those are judged from the log only.
    verdict = judge_log(NOTICE + logged, NOTICE + printed + logged)
    assert verdict.problems == [
        logged.strip(),
        "(stderr) /config/custom_components/voice_mqtt/card.py:3: DeprecationWarning: old",
    ]
