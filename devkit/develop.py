"""scripts/develop: a broker and Home Assistant with voice_mqtt configured.

First run: writes .develop/config, starts Home Assistant (which installs its
frontend on first use), creates the owner account through the onboarding API,
then adds the MQTT and voice_mqtt entries through the config-flow API, so no
clicks are needed. Later runs reuse all of it. With --demo the fleet simulator
plays devices and rooms on the broker. Ctrl-C stops what it started.
"""

from __future__ import annotations

import argparse
from contextlib import ExitStack
import json
from pathlib import Path
import secrets
import signal
import subprocess
import sys
import time
from typing import Any
from urllib.error import HTTPError, URLError
from urllib.parse import urlencode
from urllib.request import Request, urlopen

from .broker import Broker, free_port

REPO = Path(__file__).resolve().parents[1]
STATE_DIR = REPO / ".develop"
CONFIG_DIR = STATE_DIR / "config"
STATE_FILE = STATE_DIR / "state.json"
OWNER_NAME = "Developer"
OWNER_USERNAME = "dev"
EXAMPLES = REPO / "examples"

CONFIGURATION_YAML = """\
# Written by scripts/develop. Delete .develop/ (or run scripts/develop --reset)
# to start afresh.
homeassistant:
  name: voice_mqtt development
  unit_system: metric
  time_zone: UTC
  currency: EUR
  country: FR
  language: en

frontend:
config:
history:
logbook:
energy:
automation: !include automations.yaml
script: !include scripts.yaml

http:
  server_host: {host}
  server_port: {port}

lovelace:
  dashboards:
    voice-fleet:
      mode: yaml
      title: Voice fleet
      icon: mdi:account-voice
      show_in_sidebar: true
      filename: voice_fleet_dashboard.yaml

logger:
  default: warning
  logs:
    homeassistant.setup: info
    custom_components.voice_mqtt: debug
"""


class ApiError(RuntimeError):
    """Home Assistant answered with an error."""


class HomeAssistantApi:
    """The few REST calls scripts/develop needs, with nothing but the stdlib."""

    def __init__(self, base_url: str) -> None:
        """Talk to the Home Assistant at base_url."""
        self.base_url = base_url.rstrip("/")
        self.token: str | None = None

    def call(
        self, method: str, path: str, body: Any = None, *, form: bool = False
    ) -> Any:
        """Send one request and return its decoded JSON answer."""
        headers = {}
        data = None
        if body is not None:
            if form:
                data = urlencode(body).encode()
                headers["Content-Type"] = "application/x-www-form-urlencoded"
            else:
                data = json.dumps(body).encode()
                headers["Content-Type"] = "application/json"
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        request = Request(  # noqa: S310 - our own local Home Assistant
            self.base_url + path, data=data, headers=headers, method=method
        )
        try:
            with urlopen(request, timeout=60) as response:  # noqa: S310
                text = response.read().decode()
        except HTTPError as err:
            detail = err.read().decode(errors="replace")
            raise ApiError(f"{method} {path}: {err.code} {detail}") from None
        return json.loads(text) if text else None

    def wait_until_up(self, timeout: float, hass: subprocess.Popen[bytes]) -> None:
        """Wait for the HTTP server; the first start installs the frontend.

        Any answer means it is up, an error too (before onboarding, most
        endpoints refuse); only a refused connection means it is not.
        """
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if hass.poll() is not None:
                raise RuntimeError("Home Assistant exited during start-up")
            try:
                self.call("GET", "/auth/providers")
            except ApiError:
                return
            except URLError, ConnectionError, TimeoutError:
                time.sleep(1)
            else:
                return
        raise TimeoutError("Home Assistant did not start in time")


def load_state() -> dict[str, Any]:
    """Return what earlier runs remembered (owner, tokens, broker)."""
    if STATE_FILE.exists():
        return dict(json.loads(STATE_FILE.read_text()))
    return {}


def save_state(state: dict[str, Any]) -> None:
    """Remember it for the next run; the folder is git-ignored."""
    STATE_FILE.write_text(json.dumps(state, indent=2))
    STATE_FILE.chmod(0o600)


def prepare_config(host: str, port: int) -> None:
    """Write the configuration and link the integration and the examples."""
    CONFIG_DIR.mkdir(parents=True, exist_ok=True)
    (CONFIG_DIR / "configuration.yaml").write_text(
        CONFIGURATION_YAML.format(host=host, port=port)
    )
    for name in ("automations.yaml", "scripts.yaml"):
        target = CONFIG_DIR / name
        if not target.exists():
            target.write_text("[]\n" if name == "automations.yaml" else "{}\n")
    links = {
        CONFIG_DIR / "custom_components" / "voice_mqtt": REPO
        / "custom_components"
        / "voice_mqtt",
        CONFIG_DIR / "voice_fleet_dashboard.yaml": EXAMPLES / "dashboard.yaml",
        CONFIG_DIR / "blueprints" / "automation" / "voice_mqtt": EXAMPLES
        / "blueprints",
    }
    for link, target in links.items():
        if not target.exists():
            continue
        link.parent.mkdir(parents=True, exist_ok=True)
        if link.is_symlink() or link.exists():
            link.unlink()
        link.symlink_to(target)


def onboard(api: HomeAssistantApi, state: dict[str, Any], client_id: str) -> None:
    """Create the owner account on first run, and keep a token for later runs."""
    try:
        steps = api.call("GET", "/api/onboarding")
    except ApiError:  # the onboarding views are gone once onboarding is complete
        refresh_access_token(api, state, client_id)
        return
    status = {step["step"]: step["done"] for step in steps}
    if not status.get("user"):
        password = secrets.token_urlsafe(12)
        answer = api.call(
            "POST",
            "/api/onboarding/users",
            {
                "client_id": client_id,
                "name": OWNER_NAME,
                "username": OWNER_USERNAME,
                "password": password,
                "language": "en",
            },
        )
        tokens = api.call(
            "POST",
            "/auth/token",
            {
                "grant_type": "authorization_code",
                "code": answer["auth_code"],
                "client_id": client_id,
            },
            form=True,
        )
        state.update(password=password, refresh_token=tokens["refresh_token"])
        save_state(state)
        api.token = tokens["access_token"]
    else:
        refresh_access_token(api, state, client_id)
    for step, path, body in (
        ("core_config", "/api/onboarding/core_config", {}),
        ("analytics", "/api/onboarding/analytics", {}),
        (
            "integration",
            "/api/onboarding/integration",
            {"client_id": client_id, "redirect_uri": f"{client_id}?auth_callback=1"},
        ),
    ):
        if not status.get(step):
            api.call("POST", path, body)


def refresh_access_token(
    api: HomeAssistantApi, state: dict[str, Any], client_id: str
) -> None:
    """Log in again with the refresh token kept from the first run."""
    tokens = api.call(
        "POST",
        "/auth/token",
        {
            "grant_type": "refresh_token",
            "refresh_token": state["refresh_token"],
            "client_id": client_id,
        },
        form=True,
    )
    api.token = tokens["access_token"]


def run_flow(api: HomeAssistantApi, handler: str, user_input: dict[str, Any]) -> None:
    """Add an integration through its config flow, as the UI would."""
    result = api.call("POST", "/api/config/config_entries/flow", {"handler": handler})
    while result["type"] == "form":
        result = api.call(
            "POST", f"/api/config/config_entries/flow/{result['flow_id']}", user_input
        )
        if result.get("errors"):
            raise ApiError(f"{handler} flow refused the input: {result['errors']}")
    if result["type"] != "create_entry":
        raise ApiError(f"{handler} flow ended with {result}")


def configure_entries(
    api: HomeAssistantApi, state: dict[str, Any], broker: tuple[str, int]
) -> None:
    """Make sure MQTT points at our broker and voice_mqtt is added."""
    entries = api.call("GET", "/api/config/config_entries/entry")
    mqtt_entries = [entry for entry in entries if entry["domain"] == "mqtt"]
    if mqtt_entries and state.get("broker") != list(broker):
        # The broker moved (another free port): replace the MQTT entry.
        for entry in mqtt_entries:
            api.call("DELETE", f"/api/config/config_entries/entry/{entry['entry_id']}")
        mqtt_entries = []
    if not mqtt_entries:
        run_flow(
            api,
            "mqtt",
            {
                "broker": broker[0],
                "port": broker[1],
                "other_settings": {"set_client_cert": False, "set_ca_cert": "off"},
            },
        )
        state["broker"] = list(broker)
        save_state(state)
    if not any(entry["domain"] == "voice_mqtt" for entry in entries):
        run_flow(
            api,
            "voice_mqtt",
            {
                "version": "v1",
                "base": "voice_assistant",
                "device_prefix": "devices",
                "session_prefix": "sessions",
                "admin_prefix": "admin",
                "xiaozhi_prefix": "xiaozhi",
            },
        )


def wait_until_listening(api: HomeAssistantApi, timeout: float = 30) -> None:
    """Wait until voice_mqtt is connected, plus MQTT's subscribe cool-down."""
    deadline = time.monotonic() + timeout
    entity = "binary_sensor.voice_assistant_mqtt_mqtt_connection"
    while time.monotonic() < deadline:
        try:
            if api.call("GET", f"/api/states/{entity}")["state"] == "on":
                break
        except ApiError:
            pass  # not created yet
        time.sleep(0.5)
    time.sleep(2)


def parse_broker(text: str) -> tuple[str, int]:
    """Read HOST:PORT."""
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit():
        raise argparse.ArgumentTypeError("expected HOST:PORT, e.g. 192.168.1.5:1883")
    return host, int(port)


def main(argv: list[str] | None = None) -> int:
    """Start everything, print how to reach it, wait for Ctrl-C."""
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
        "--reset", action="store_true", help="forget .develop/ and start afresh"
    )
    demo = parser.add_argument_group("demo")
    demo.add_argument(
        "--demo",
        action="store_true",
        help="run the fleet simulator too (python -m simulator) on the broker",
    )
    demo.add_argument("--devices", type=int, default=3, help="simulated devices")
    demo.add_argument("--rooms", type=int, default=2, help="simulated rooms")
    args = parser.parse_args(argv)
    # SIGTERM unwinds like Ctrl-C, so everything started here is stopped; and
    # Ctrl-C works even when a shell started us with SIGINT ignored.
    signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
    signal.signal(signal.SIGINT, signal.default_int_handler)
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
        if args.broker is None:
            broker = Broker(
                STATE_DIR / "broker", port=free_port(state.get("broker_port", 1883))
            )
            print(f"Starting {broker.kind} on 127.0.0.1:{broker.port} ...")
            broker.start()
            stack.callback(broker.stop)
            state["broker_port"] = broker.port
            broker_address = ("127.0.0.1", broker.port)
        else:
            broker_address = args.broker

        print("Starting Home Assistant (the first start installs its frontend) ...")
        log = (STATE_DIR / "home-assistant.out").open("wb")
        stack.callback(log.close)
        hass = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "homeassistant", "-c", str(CONFIG_DIR)],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        stack.callback(stop_process, hass)
        api = HomeAssistantApi(base_url)
        try:
            api.wait_until_up(600, hass)
            onboard(api, state, client_id)
            configure_entries(api, state, broker_address)
        except (ApiError, RuntimeError, TimeoutError) as err:
            print(f"scripts/develop: {err}", file=sys.stderr)
            print(f"See {STATE_DIR / 'home-assistant.out'}", file=sys.stderr)
            return 1

        print(
            f"\nHome Assistant is up: http://localhost:{args.port}\n"
            f"  user: {OWNER_USERNAME}   password: {state['password']}\n"
            f"  broker: {broker_address[0]}:{broker_address[1]}\n"
            f"  dashboard: http://localhost:{args.port}/voice-fleet/rooms\n"
            f"  logs: {CONFIG_DIR / 'home-assistant.log'}\n"
            "Press Ctrl-C to stop everything started here.\n",
            flush=True,
        )
        if args.demo:
            # A device that announces before voice_mqtt listens is first heard
            # by its retained status, which carries no name: let it listen.
            wait_until_listening(api)
            simulator = subprocess.Popen(  # noqa: S603
                [
                    sys.executable,
                    "-m",
                    "simulator",
                    "--host",
                    broker_address[0],
                    "--port",
                    str(broker_address[1]),
                    "--devices",
                    str(args.devices),
                    "--rooms",
                    str(args.rooms),
                    "--conversation-interval",
                    "15",
                ],
                cwd=REPO,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
            # Stopped before Home Assistant: a clean stop sends no Last Will.
            stack.callback(stop_process, simulator)
        return wait(hass)


def wait(hass: subprocess.Popen[bytes]) -> int:
    """Return when Home Assistant exits or Ctrl-C is pressed."""
    try:
        return hass.wait()
    except KeyboardInterrupt:
        print("\nStopping ...", flush=True)
        return 0


def _raise_keyboard_interrupt(*_: object) -> None:
    raise KeyboardInterrupt


def stop_process(process: subprocess.Popen[bytes]) -> None:
    """Ask a child to stop, then insist."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:  # during start-up; the ExitStack stopped everything
        sys.exit(130)
