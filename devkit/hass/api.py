"""A running Home Assistant driven as a user would: REST, onboarding, config flows.

Every tool that starts one talks to it through this. Only the stdlib for
REST; a websocket command uses aiohttp, which Home Assistant installs.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
import json
import secrets
import subprocess
import time
from typing import TYPE_CHECKING, Any
from urllib.error import HTTPError, URLError
from urllib.parse import urlencode
from urllib.request import Request, urlopen

if TYPE_CHECKING:
    from aiohttp import ClientWebSocketResponse

# The namespace a user gets by accepting the defaults of voice_mqtt's flow.
DEFAULT_NAMESPACE: dict[str, str] = {
    "version": "v1",
    "base": "voice_assistant",
    "device_prefix": "devices",
    "session_prefix": "sessions",
    "admin_prefix": "admin",
    "xiaozhi_prefix": "xiaozhi",
}


class ApiError(RuntimeError):
    """Home Assistant answered with an error."""


class HomeAssistantApi:
    """The few REST calls the devkit needs, with nothing but the stdlib."""

    def __init__(self, base_url: str) -> None:
        """Talk to the Home Assistant at base_url."""
        self.base_url = base_url.rstrip("/")
        self.token: str | None = None

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        form: bool = False,
        timeout: float = 60,
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
            with urlopen(request, timeout=timeout) as response:  # noqa: S310
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

    def websocket(self, command: dict[str, Any], timeout: float = 120) -> Any:
        """Send one websocket command (e.g. config/device_registry/list).

        Returns its result; raises ApiError when it fails.
        """
        return asyncio.run(self._websocket(command, timeout))

    async def _websocket(self, command: dict[str, Any], within: float) -> Any:
        async with asyncio.timeout(within), self.connected_websocket() as socket:
            await socket.send_json({"id": 1, **command})
            answer = await socket.receive_json()
        if not answer.get("success"):
            raise ApiError(f"websocket {command['type']}: {answer.get('error')}")
        return answer["result"]

    @asynccontextmanager
    async def connected_websocket(self) -> AsyncIterator[ClientWebSocketResponse]:
        """Yield Home Assistant's websocket, logged in with the access token."""
        import aiohttp  # noqa: PLC0415 - Home Assistant's; only when needed

        url = self.base_url.replace("http", "ws", 1) + "/api/websocket"
        async with (
            aiohttp.ClientSession() as session,
            # A registry of ten thousand devices is one large message.
            session.ws_connect(url, max_msg_size=0) as socket,
        ):
            await socket.receive_json()  # auth_required
            await socket.send_json({"type": "auth", "access_token": self.token})
            if (answer := await socket.receive_json())["type"] != "auth_ok":
                raise ApiError(f"websocket: {answer}")
            yield socket


def onboard_owner(
    api: HomeAssistantApi,
    state: dict[str, Any],
    client_id: str,
    *,
    name: str,
    username: str,
    save: Callable[[dict[str, Any]], None],
) -> None:
    """Create the owner account on first run, and keep a token for later runs.

    state gets password and refresh_token; save is called once they are known.
    """
    try:
        steps = api.call("GET", "/api/onboarding")
    except ApiError:  # the onboarding views are gone once onboarding is complete
        refresh_access_token(api, state["refresh_token"], client_id)
        return
    status = {step["step"]: step["done"] for step in steps}
    if not status.get("user"):
        password = secrets.token_urlsafe(12)
        answer = api.call(
            "POST",
            "/api/onboarding/users",
            {
                "client_id": client_id,
                "name": name,
                "username": username,
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
        save(state)
        api.token = tokens["access_token"]
    else:
        refresh_access_token(api, state["refresh_token"], client_id)
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
    api: HomeAssistantApi, refresh_token: str, client_id: str
) -> dict[str, Any]:
    """Log in again with a refresh token (onboard_owner keeps one).

    api goes on with the new access token; returns Home Assistant's answer
    (access_token, expires_in).
    """
    tokens: dict[str, Any] = api.call(
        "POST",
        "/auth/token",
        {
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
            "client_id": client_id,
        },
        form=True,
    )
    api.token = tokens["access_token"]
    return tokens


def run_flow(
    api: HomeAssistantApi, handler: str, user_input: dict[str, Any]
) -> dict[str, Any]:
    """Add an integration through its config flow, as the UI would.

    Returns the flow's last answer, whose "result" is the new entry.
    """
    result = api.call("POST", "/api/config/config_entries/flow", {"handler": handler})
    while result["type"] == "form":
        result = api.call(
            "POST", f"/api/config/config_entries/flow/{result['flow_id']}", user_input
        )
        if result.get("errors"):
            raise ApiError(f"{handler} flow refused the input: {result['errors']}")
    if result["type"] != "create_entry":
        raise ApiError(f"{handler} flow ended with {result}")
    return dict(result)


def set_options(
    api: HomeAssistantApi, entry_id: str, user_input: dict[str, Any]
) -> bool:
    """Change an entry's options through its options flow, as the UI would.

    What is not given is what the form holds, as the UI would send it back:
    for voice_mqtt, the current value of every option with a default, and
    the suggested value of the others (a bridge's id, a voice server URL),
    which would be lost otherwise. Returns False, and cancels the flow, when
    the form holds the given values already: the entry reloads only when
    something changes.
    """
    path = "/api/config/config_entries/options/flow"
    result = api.call("POST", path, {"handler": entry_id})
    if result["type"] == "form":
        shown: dict[str, Any] = {}
        kept: dict[str, Any] = {}
        for field in result.get("data_schema", []):
            if "default" in field:
                shown[field["name"]] = field["default"]
            elif value := field.get("description", {}).get("suggested_value"):
                shown[field["name"]] = kept[field["name"]] = value
        if shown and all(shown.get(key) == value for key, value in user_input.items()):
            api.call("DELETE", f"{path}/{result['flow_id']}")
            return False
        result = api.call("POST", f"{path}/{result['flow_id']}", {**kept, **user_input})
    if result["type"] != "create_entry":
        raise ApiError(f"the options flow of {entry_id} ended with {result}")
    return True


def mqtt_flow_input(broker: tuple[str, int]) -> dict[str, Any]:
    """Return what a user types into the MQTT flow for a broker without TLS."""
    return {
        "broker": broker[0],
        "port": broker[1],
        "other_settings": {"set_client_cert": False, "set_ca_cert": "off"},
    }


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


def wait_until_running(api: HomeAssistantApi, timeout: float = 120) -> None:
    """Wait until Home Assistant has finished starting (needs a token).

    Until then it does not handle SIGTERM (signals are attached once start-up
    is over), so a stop would kill it before it saves its registries.
    """
    deadline = time.monotonic() + timeout
    while api.call("GET", "/api/config")["state"] != "RUNNING":
        if time.monotonic() > deadline:
            raise TimeoutError("Home Assistant did not finish starting in time")
        time.sleep(0.25)
