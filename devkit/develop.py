"""scripts/develop: a broker and Home Assistant with voice_mqtt configured.

First run: writes .develop/config (with the address to listen on in
.storage/http, see devkit.hass.storage), starts Home Assistant, creates the owner
account through the onboarding API, then adds the MQTT and voice_mqtt entries
through the config-flow API, so no clicks are needed. Later runs reuse all of
it. With --demo the fleet simulator plays devices and rooms on the broker.
With --bridge the fleet has a broker of its own, with a TLS listener, and
Home Assistant's broker reaches it through the bridge of docs/bridge.md, as a
fleet whose voice server runs in the cloud does; the simulator plays there.
Ctrl-C stops what it started.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from contextlib import ExitStack
import json
from pathlib import Path
import subprocess
import sys
import time
from typing import Any

from . import REPO
from .bridge import BridgedBrokers
from .broker import Broker, free_port
from .cli import stop_on_sigterm
from .hass.api import (
    DEFAULT_NAMESPACE,
    ApiError,
    HomeAssistantApi,
    mqtt_flow_input,
    onboard_owner,
    run_flow,
    set_options,
    wait_until_listening,
)
from .hass.start import start_hass
from .hass.storage import skip_onboarding_defaults, write_http_settings
from .processes import spawn_simulator, stop_process

# main, and the steps of a first run, which tests/e2e/test_demo.py takes one by
# one (ApiError is what they raise).
__all__ = [
    "DEMO_OPTIONS",
    "ApiError",
    "configure_entries",
    "main",
    "onboard",
    "prepare_config",
    "start_bridge",
    "start_simulator",
    "wait_until_listening",
    "wait_until_loaded",
]

STATE_DIR = REPO / ".develop"
CONFIG_DIR = STATE_DIR / "config"
STATE_FILE = STATE_DIR / "state.json"
OWNER_NAME = "Developer"
OWNER_USERNAME = "dev"
EXAMPLES = REPO / "examples"
# The demo's options: a voice server for the voice box's Start voice channel
# button (nothing listens there; the simulator prints the ws_start it gets).
DEMO_OPTIONS: dict[str, Any] = {"ws_url": "ws://127.0.0.1:8000/xiaozhi/v1/"}

# What the demo shows beside Home Assistant's defaults: the panels it uses,
# automations, and the example dashboard as voice_fleet_dashboard.yaml
# (examples/dashboard.yaml). scripts/screenshots shows the same.
DEMO_YAML = """\
config:
history:
logbook:
automation: !include automations.yaml

lovelace:
  dashboards:
    voice-fleet:
      mode: yaml
      title: Voice fleet
      icon: mdi:account-voice
      show_in_sidebar: true
      filename: voice_fleet_dashboard.yaml
"""

CONFIGURATION_YAML = f"""\
# Written by scripts/develop. Delete .develop/ (or run scripts/develop --reset)
# to start afresh. The address Home Assistant listens on is not set here but
# in .storage/http, as the UI sets it (scripts/develop --host/--port).
homeassistant:
  name: voice_mqtt development
  unit_system: metric
  time_zone: UTC
  currency: EUR
  country: FR
  language: en

frontend:
energy:
script: !include scripts.yaml
{DEMO_YAML}
logger:
  default: warning
  logs:
    homeassistant.setup: info
    custom_components.voice_mqtt: debug
    # Every Home Assistant sets up camera, which logs an ERROR once where the
    # system has no libturbojpeg (snapshots then go out unscaled). The demo
    # has no camera; install libturbojpeg0 (Debian) to have it anyway.
    homeassistant.components.camera.img_util: critical
"""


def load_state() -> dict[str, Any]:
    """Return what earlier runs remembered (owner, tokens, broker)."""
    if STATE_FILE.exists():
        return dict(json.loads(STATE_FILE.read_text()))
    return {}


def save_state(state: dict[str, Any]) -> None:
    """Remember it for the next run; the folder is git-ignored."""
    STATE_FILE.write_text(json.dumps(state, indent=2))
    STATE_FILE.chmod(0o600)


def prepare_config(host: str, port: int, config_dir: Path = CONFIG_DIR) -> None:
    """Write the configuration and link the integration and the examples.

    config_dir is .develop/config but for tests/e2e/test_demo.py.
    """
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "configuration.yaml").write_text(CONFIGURATION_YAML)
    write_http_settings(config_dir, host, port)
    skip_onboarding_defaults(config_dir)
    for name in ("automations.yaml", "scripts.yaml"):
        target = config_dir / name
        if not target.exists():
            target.write_text("[]\n" if name == "automations.yaml" else "{}\n")
    links = {
        config_dir / "custom_components" / "voice_mqtt": REPO
        / "custom_components"
        / "voice_mqtt",
        config_dir / "voice_fleet_dashboard.yaml": EXAMPLES / "dashboard.yaml",
        config_dir / "blueprints" / "automation" / "voice_mqtt": EXAMPLES
        / "blueprints",
    }
    for link, target in links.items():
        if not target.exists():
            continue
        link.parent.mkdir(parents=True, exist_ok=True)
        if link.is_symlink() or link.exists():
            link.unlink()
        link.symlink_to(target)


def onboard(
    api: HomeAssistantApi,
    state: dict[str, Any],
    client_id: str,
    save: Callable[[dict[str, Any]], None] = save_state,
) -> None:
    """Create the developer's account on first run, and keep a token for later."""
    onboard_owner(
        api,
        state,
        client_id,
        name=OWNER_NAME,
        username=OWNER_USERNAME,
        save=save,
    )


def configure_entries(
    api: HomeAssistantApi,
    state: dict[str, Any],
    broker: tuple[str, int],
    save: Callable[[dict[str, Any]], None] = save_state,
    options: dict[str, Any] | None = None,
) -> bool:
    """Make sure MQTT points at our broker and voice_mqtt is added.

    options, when given, are set on voice_mqtt's entry (the others stay).
    Returns whether they changed: the entry then reloads (wait_until_loaded).
    """
    entries = api.call("GET", "/api/config/config_entries/entry")
    mqtt_entries = [entry for entry in entries if entry["domain"] == "mqtt"]
    if mqtt_entries and state.get("broker") != list(broker):
        # The broker moved (another free port): replace the MQTT entry.
        for entry in mqtt_entries:
            api.call("DELETE", f"/api/config/config_entries/entry/{entry['entry_id']}")
        mqtt_entries = []
    if not mqtt_entries:
        run_flow(api, "mqtt", mqtt_flow_input(broker))
        state["broker"] = list(broker)
        save(state)
    voice = [entry for entry in entries if entry["domain"] == "voice_mqtt"]
    if not voice:
        voice = [run_flow(api, "voice_mqtt", dict(DEFAULT_NAMESPACE))["result"]]
    if not options:
        return False
    return set_options(api, voice[0]["entry_id"], options)


def wait_until_loaded(api: HomeAssistantApi, within: float = 60) -> None:
    """Wait until voice_mqtt's entry is loaded again after its options changed.

    The reload begins as the options flow ends, before it answers: the entry
    is not seen loaded in between.
    """
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        entries = api.call("GET", "/api/config/config_entries/entry")
        if any(
            entry["domain"] == "voice_mqtt" and entry.get("state") == "loaded"
            for entry in entries
        ):
            return
        time.sleep(0.25)
    raise ApiError("voice_mqtt did not load again after its options changed")


def parse_broker(text: str) -> tuple[str, int]:
    """Read HOST:PORT."""
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit():
        raise argparse.ArgumentTypeError("expected HOST:PORT, e.g. 192.168.1.5:1883")
    return host, int(port)


def build_parser() -> argparse.ArgumentParser:
    """Return scripts/develop's command line."""
    parser = argparse.ArgumentParser(prog="scripts/develop", description=__doc__)
    parser.add_argument("--port", type=int, default=8123, help="Home Assistant port")
    parser.add_argument(
        "--host", default="127.0.0.1", help="address Home Assistant listens on"
    )
    parser.add_argument(
        "--broker",
        type=parse_broker,
        help="use this broker (HOST:PORT) instead of starting one",
    )
    parser.add_argument(
        "--ws-port",
        type=int,
        default=9001,
        help="MQTT over WebSocket port of the broker started here, for browser"
        " clients (default: %(default)s; another if taken)",
    )
    parser.add_argument(
        "--reset", action="store_true", help="forget .develop/ and start afresh"
    )
    demo = parser.add_argument_group("demo")
    demo.add_argument(
        "--demo",
        action="store_true",
        help="run the fleet simulator too (python -m simulator) on the broker",
    )
    demo.add_argument(
        "--bridge",
        action="store_true",
        help="the demo with two brokers: the fleet's (TLS, a CA made here) with"
        " the simulator on it, and Home Assistant's bridged to it by"
        " docs/mosquitto/bridge.conf (implies --demo; mosquitto only)",
    )
    demo.add_argument("--devices", type=int, default=3, help="simulated devices")
    demo.add_argument("--rooms", type=int, default=2, help="simulated rooms")
    return parser


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Return the command line's options, or exit with a usage error."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.bridge:
        if args.broker is not None:
            parser.error("--bridge starts both brokers: it takes no --broker")
        args.demo = True
    return args


def main(argv: list[str] | None = None) -> int:
    """Start everything, print how to reach it, wait for Ctrl-C."""
    args = parse_args(argv)
    stop_on_sigterm()
    if free_port(args.port) != args.port:
        print(
            f"scripts/develop: port {args.port} is in use (another Home Assistant?);"
            " stop it or pass --port",
            file=sys.stderr,
        )
        return 1

    if args.reset and STATE_DIR.exists():
        import shutil  # noqa: PLC0415 - only for --reset

        shutil.rmtree(STATE_DIR)
    STATE_DIR.mkdir(exist_ok=True)
    state = load_state()
    prepare_config(args.host, args.port)
    base_url = f"http://127.0.0.1:{args.port}"
    client_id = f"{base_url}/"

    with ExitStack() as stack:
        broker_address, ws_url, fleet_address = args.broker, None, None
        if args.bridge:
            broker_address, fleet_address, ws_url = start_bridge(
                stack, state, args.ws_port
            )
        elif broker_address is None:
            broker_address, ws_url = start_broker(stack, state, args.ws_port)
        print("Starting Home Assistant ...")
        hass = start_hass(CONFIG_DIR, STATE_DIR / "home-assistant.out")
        stack.callback(stop_process, hass)
        api = HomeAssistantApi(base_url)
        try:
            api.wait_until_up(600, hass)
            onboard(api, state, client_id)
            # The Fleet link sensor comes with the broker's health; the demo's
            # voice box has its Start voice channel button.
            options = {"broker_health": True} if args.bridge else {}
            if args.demo:
                options |= DEMO_OPTIONS
            if configure_entries(api, state, broker_address, options=options or None):
                wait_until_loaded(api)
        except (ApiError, RuntimeError, TimeoutError) as err:
            print(f"scripts/develop: {err}", file=sys.stderr)
            print(f"See {STATE_DIR / 'home-assistant.out'}", file=sys.stderr)
            return 1

        print_welcome(
            args.port, state["password"], broker_address, ws_url, fleet_address
        )
        if args.demo:
            # A device that announces before voice_mqtt listens is first heard
            # by its retained status, which carries no name: let it listen.
            wait_until_listening(api)
            simulator = start_simulator(
                fleet_address or broker_address, args.devices, args.rooms
            )
            # Stopped before Home Assistant: a clean stop sends no Last Will.
            stack.callback(stop_process, simulator)
        return wait(hass)


def start_broker(
    stack: ExitStack, state: dict[str, Any], ws_port: int
) -> tuple[tuple[str, int], str]:
    """Start a broker, stopped when stack closes; return its address and ws URL."""
    broker = Broker(
        STATE_DIR / "broker",
        port=free_port(state.get("broker_port", 1883)),
        ws_port=free_port(ws_port),
        # Small packets at once: Nagle's algorithm held them some 25 ms
        # (scripts/benchmark --real-broker).
        extra_config=("set_tcp_nodelay true",),
    )
    ws_url = f"ws://127.0.0.1:{broker.ws_port}/mqtt"
    print(f"Starting {broker.kind} on 127.0.0.1:{broker.port} and {ws_url} ...")
    broker.start()
    stack.callback(broker.stop)
    state["broker_port"] = broker.port
    return ("127.0.0.1", broker.port), ws_url


def start_bridge(
    stack: ExitStack,
    state: dict[str, Any],
    ws_port: int,
    folder: Path = STATE_DIR / "bridge",
) -> tuple[tuple[str, int], tuple[str, int], str]:
    """Start the fleet's broker and Home Assistant's, bridged; stopped with stack.

    Returns Home Assistant's broker, the fleet's and the fleet's WebSocket URL.
    Each keeps its port from one run to the next when it is free.
    """
    brokers = BridgedBrokers(
        folder,
        home_port=free_port(state.get("broker_port", 1883)),
        fleet_port=free_port(state.get("fleet_port", 1884)),
        fleet_ws_port=free_port(ws_port),
        fleet_tls_port=free_port(state.get("fleet_tls_port", 8883)),
    )
    fleet = brokers.fleet
    ws_url = f"ws://127.0.0.1:{fleet.ws_port}/mqtt"
    print(
        f"Starting the fleet's mosquitto on 127.0.0.1:{fleet.port}, {ws_url} and"
        f" TLS 127.0.0.1:{fleet.tls_port}, and Home Assistant's on"
        f" 127.0.0.1:{brokers.home.port} bridged to it (docs/bridge.md) ..."
    )
    brokers.start()
    stack.callback(brokers.stop)
    state.update(
        broker_port=brokers.home.port,
        fleet_port=fleet.port,
        fleet_tls_port=fleet.tls_port,
    )
    return ("127.0.0.1", brokers.home.port), ("127.0.0.1", fleet.port), ws_url


def print_welcome(
    port: int,
    password: str,
    broker: tuple[str, int],
    ws_url: str | None,
    fleet: tuple[str, int] | None = None,
) -> None:
    """Print where Home Assistant is, how to log in and what it uses."""
    # A broker given with --broker is not ours: its WebSocket port is unknown.
    websocket = f", WebSocket {ws_url}" if ws_url else ""
    brokers = f"  broker: {broker[0]}:{broker[1]}{websocket}\n"
    if fleet is not None:
        brokers = (
            f"  Home Assistant's broker: {broker[0]}:{broker[1]}, bridged over TLS"
            " to\n"
            f"  the fleet's broker: {fleet[0]}:{fleet[1]}{websocket}\n"
            "  fleet link: binary_sensor.voice_assistant_mqtt_fleet_link\n"
        )
    print(
        f"\nHome Assistant is up: http://localhost:{port}\n"
        f"  user: {OWNER_USERNAME}   password: {password}\n"
        f"{brokers}"
        f"  dashboard: http://localhost:{port}/voice-fleet/rooms\n"
        f"  logs: {CONFIG_DIR / 'home-assistant.log'}\n"
        "Press Ctrl-C to stop everything started here.\n",
        flush=True,
    )


def start_simulator(
    broker: tuple[str, int], devices: int, rooms: int
) -> subprocess.Popen[bytes]:
    """Start the demo fleet on the broker: each room talks every 15 s or so."""
    return spawn_simulator(
        broker[0],
        broker[1],
        *("--devices", str(devices), "--rooms", str(rooms)),
        *("--conversation-interval", "15"),
    )


def wait(hass: subprocess.Popen[bytes]) -> int:
    """Return when Home Assistant exits or Ctrl-C is pressed."""
    try:
        return hass.wait()
    except KeyboardInterrupt:
        print("\nStopping ...", flush=True)
        return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:  # during start-up; the ExitStack stopped everything
        sys.exit(130)
