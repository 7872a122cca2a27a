"""scripts/screenshots: the README's screenshots, each seen in a real browser.

In a fresh temporary folder, on 127.0.0.1 only: a broker, a Home Assistant
with the real frontend, voice_mqtt set up through its config flow (with the
demo's voice server URL, set through its options flow), the example
dashboard, and the simulator's demo fleet (five devices: two voice boxes,
two VR headsets and a browser; two rooms). Then, as a user would see it
happen:

1. an automation is built from a voice_mqtt device trigger (the living
   room's *Tool executed*, failed runs only) and saved through the config
   API, as the automation editor saves one;
2. the rooms talk for a few minutes, the backend answering at varied paces
   (so the response times vary), until a tool has failed (the automation
   runs); the kitchen VR headset is grouped with the bathroom one, sought
   and played through media_player actions (the session plays on both);
   then its connection dies and the broker sends its Last Will;
3. headless Chromium (devkit/browser.py: the system's, never a download)
   opens the logbook, the automation editor, and the history of both rooms'
   response times over the run (the dashboard's graph shows the last hour,
   of which the run is a sliver), and saves docs/images/logbook.png,
   automation.png and response-time.png;
4. the headset reconnects, playing on in its session; its device page is
   saved with its media player's controls open (docs/images/device-page.png),
   then with the group dialog those controls open, which lists the session's
   headsets (session-group.png).

Nothing is made up: every row and every point comes from MQTT messages
through voice_mqtt. It takes about two minutes plus --minutes.
"""

from __future__ import annotations

import argparse
import asyncio
from contextlib import ExitStack
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from random import Random
import sys
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from simulator import BrokerAddress, Simulator, SimulatorOptions

from . import REPO
from .broker import Broker
from .browser import (
    HassTokens,
    chromium,
    logged_in_page,
    login_tokens,
    open_path,
    screenshot as save_screenshot,
)
from .cli import run_in_scratch_folder
from .develop import DEMO_OPTIONS, DEMO_YAML, EXAMPLES, wait_until_loaded
from .hass.api import ApiError, HomeAssistantApi, set_options, wait_until_listening
from .hass.start import set_up_voice_mqtt, start_scratch_hass

if TYPE_CHECKING:
    from playwright.async_api import Page

IMAGES = REPO / "docs" / "images"

ROOMS = ("living_room", "kitchen")
HEADSET = "VR_0001"  # the demo's Kitchen VR headset
HEADSET_CONNECTIVITY = "binary_sensor.kitchen_vr_headset_connectivity"
HEADSET_PLAYER = "media_player.kitchen_vr_headset"
SECOND_PLAYER = "media_player.bathroom_vr_headset"  # VR_0002
DEVICES = 5  # a voice box, a headset, a browser, a voice box, a headset
TOOL = "event.living_room_voice_assistant_tool_executed"
RESPONSE_TIMES = tuple(f"sensor.{room}_voice_assistant_response_time" for room in ROOMS)
# Seconds between a conversation's steps: how quickly the backend answers
# (response times from about 1 s to 4 s).
PACES = (0.15, 0.25, 0.3, 0.4, 0.55)
AUTOMATION_ID = "voice_mqtt_tool_failed"


@dataclass(frozen=True)
class Demo:
    """A running Home Assistant with the demo fleet, and who is who in it."""

    api: HomeAssistantApi
    tokens: HassTokens
    started: datetime  # just before the first conversation
    headset_device: str  # the kitchen headset's registry device id
    automation: str = ""  # its entity id, once created


def build_parser() -> argparse.ArgumentParser:
    """Return the command line's options."""
    parser = argparse.ArgumentParser(
        prog="scripts/screenshots", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "--minutes", type=float, default=4.0, help="of conversations (4)"
    )
    parser.add_argument("--seed", type=int, default=11, help="of every choice (11)")
    parser.add_argument(
        "--out", type=Path, default=IMAGES, help="where the PNGs go (docs/images)"
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the folder (its logs) afterwards"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """Start the demo, play it, take the screenshots; 0 when all five are saved."""
    args = build_parser().parse_args(argv)

    def shoot(stack: ExitStack, workdir: Path) -> tuple[list[str], int]:
        demo, room_device, fleet = start_demo(stack, workdir, args.seed)
        demo = replace(demo, automation=create_automation(demo, room_device))
        talk(demo, fleet, args.minutes, Random(args.seed))  # noqa: S311 - pacing
        play_together(demo.api)
        fleet.drop_device(HEADSET)
        wait_for_state(demo.api, HEADSET_CONNECTIVITY, "off")
        time.sleep(2)  # the recorder commits every second
        saved = asyncio.run(take_screenshots(demo, fleet, args.out))
        return [f"saved {path}" for path in saved], 0

    return run_in_scratch_folder(
        "scripts/screenshots", "screenshots", keep=args.keep, run=shoot
    )


def start_demo(
    stack: ExitStack, workdir: Path, seed: int
) -> tuple[Demo, str, Simulator]:
    """Start the broker, Home Assistant with voice_mqtt, and the demo fleet."""
    broker = Broker(workdir / "broker")
    broker.start()
    stack.callback(broker.stop)
    print(f"broker ({broker.kind}) on 127.0.0.1:{broker.port}; starting Home Assistant")
    api, _hass = start_scratch_hass(
        stack,
        workdir,
        tool="scripts/screenshots",
        name="screenshots",
        extra_yaml=DEMO_YAML,
        real_frontend=True,
        files={
            "voice_fleet_dashboard.yaml": (EXAMPLES / "dashboard.yaml").read_text(),
            "automations.yaml": "[]\n",
        },
    )
    owner: dict[str, Any] = {}
    entry_id = set_up_voice_mqtt(api, owner, broker.port, "demo")
    # As scripts/develop --demo: the voice box gets its Start voice channel.
    if set_options(api, entry_id, DEMO_OPTIONS):
        wait_until_loaded(api)
    wait_until_listening(api)
    # No conversations of its own: talk() plays them, at paces of its choosing.
    fleet = Simulator(
        SimulatorOptions(
            broker=BrokerAddress(port=broker.port),
            devices=DEVICES,
            conversation_interval=0,
            event_interval=0,
            seed=seed,
            quiet=True,
        )
    )
    fleet.start()
    stack.callback(fleet.stop)
    started = datetime.now(UTC)
    # The rooms appear with their first message: one conversation each.
    for room in ROOMS:
        fleet.run_conversation(room, pause=PACES[2])
    wait_for_state(api, TOOL, "unknown", negate=True)
    devices = api.websocket({"type": "config/device_registry/list"})

    def registry_id(identifier: str) -> str:
        return next(
            str(device["id"])
            for device in devices
            if ["voice_mqtt", f"{entry_id}_{identifier}"] in device["identifiers"]
        )

    tokens = login_tokens(api, owner["refresh_token"], f"{api.base_url}/")
    demo = Demo(api, tokens, started, registry_id(f"device_{HEADSET}"))
    return demo, registry_id("room_living_room"), fleet


def talk(demo: Demo, fleet: Simulator, minutes: float, rng: Random) -> None:
    """Converse in both rooms for minutes, then until a tool has failed."""
    deadline = time.monotonic() + minutes * 60
    turns = 0
    failed = False
    while time.monotonic() < deadline or not failed:
        room = ROOMS[turns % len(ROOMS)]
        fleet.run_conversation(room, pause=rng.choice(PACES))
        turns += 1
        failed = failed or tool_failed(demo.api)
        if turns > 200:
            raise RuntimeError("no tool failed in 200 conversations")
        time.sleep(rng.uniform(2, 8))
    print(f"{turns} conversations played")


def play_together(api: HomeAssistantApi) -> None:
    """Group the two headsets and play their session, as a user would.

    Through Home Assistant's media_player actions: the kitchen headset, in no
    session, makes one with the bathroom headset; a seek (while paused: it
    stays paused there) and a play on the kitchen headset go to the session,
    so both play.
    """
    for service, data in (
        ("join", {"group_members": [SECOND_PLAYER]}),
        ("media_seek", {"seek_position": 1234}),
        ("media_play", {}),
    ):
        api.call(
            "POST",
            f"/api/services/media_player/{service}",
            {"entity_id": HEADSET_PLAYER, **data},
        )
        time.sleep(1)  # the headsets' statuses come back
    wait_for_state(api, HEADSET_PLAYER, "playing")
    wait_for_state(api, SECOND_PLAYER, "playing")


def tool_failed(api: HomeAssistantApi) -> bool:
    """Tell whether the living room's last tool run failed."""
    try:
        state = api.call("GET", f"/api/states/{TOOL}")
    except ApiError:
        return False
    return bool(state["attributes"].get("event_type") == "failed")


def wait_for_state(
    api: HomeAssistantApi,
    entity_id: str,
    wanted: str,
    *,
    negate: bool = False,
    within: float = 30,
) -> None:
    """Wait until an entity's state is wanted (or, negate, exists and is not)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            state = api.call("GET", f"/api/states/{entity_id}")["state"]
        except ApiError:
            pass  # not there yet
        else:
            if (state == wanted) is not negate:
                return
        time.sleep(0.5)
    raise TimeoutError(f"{entity_id}: not {'other than ' if negate else ''}{wanted}")


def create_automation(demo: Demo, room_device: str) -> str:
    """Save an automation on the living room's failed tools, as the editor does.

    Return its entity id.
    """
    registry = demo.api.websocket({"type": "config/entity_registry/list"})
    tool = next(entry for entry in registry if entry["entity_id"] == TOOL)
    demo.api.call(
        "POST",
        f"/api/config/automation/config/{AUTOMATION_ID}",
        {
            "id": AUTOMATION_ID,
            "alias": "A tool failed in the living room",
            "description": "Built from the room's device trigger.",
            "triggers": [
                {
                    "trigger": "device",
                    "domain": "voice_mqtt",
                    "device_id": room_device,
                    # The entity registry id, as the editor writes it.
                    "entity_id": tool["id"],
                    "type": "tool_executed",
                    "success": "false",
                }
            ],
            "conditions": [],
            "actions": [
                {
                    "action": "persistent_notification.create",
                    "data": {
                        "title": "Voice assistant",
                        "message": (
                            "{{ trigger.tool_name }} failed in {{ trigger.room_id }}"
                        ),
                    },
                }
            ],
            "mode": "queued",
        },
    )
    # The editor's reload names the entity after the alias; find it by its id.
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        registry = demo.api.websocket({"type": "config/entity_registry/list"})
        if found := [
            entry["entity_id"]
            for entry in registry
            if entry["platform"] == "automation" and entry["unique_id"] == AUTOMATION_ID
        ]:
            wait_for_state(demo.api, found[0], "on")
            return str(found[0])
        time.sleep(0.5)
    raise TimeoutError("the automation was not loaded")


async def take_screenshots(demo: Demo, fleet: Simulator, out: Path) -> list[Path]:
    """Open the pages in one browser and save what they show."""
    saved = []
    async with (
        chromium() as browser,
        logged_in_page(
            demo.api.base_url, demo.tokens, width=1280, height=900, browser=browser
        ) as page,
    ):
        saved.append(await logbook(page, demo, out / "logbook.png"))
        saved.append(await automation(page, out / "automation.png"))
        saved.append(await response_time(page, demo, out / "response-time.png"))
        # Back from its Last Will, the headset plays on in its session.
        await asyncio.to_thread(fleet.reconnect_device, HEADSET)
        await asyncio.to_thread(wait_for_state, demo.api, HEADSET_PLAYER, "playing")
        saved += await device_page(page, demo, out)
    return saved


async def logbook(page: Page, demo: Demo, target: Path) -> Path:
    """The logbook of the living room's turns, tools and panels, and the headset."""
    entities = (
        "event.living_room_voice_assistant_conversation",
        TOOL,
        "event.living_room_voice_assistant_display_action",
        HEADSET_CONNECTIVITY,
        demo.automation,
    )
    query = urlencode({"entity_id": ",".join(entities)})
    await open_path(page, f"/logbook?{query}", ready="ha-logbook")
    await page.get_by_text("went offline (Last Will)").first.wait_for()
    await page.get_by_text(" (failed)").first.wait_for()
    await page.wait_for_timeout(500)
    return await save_screenshot(page, target)


async def automation(page: Page, target: Path) -> Path:
    """The automation editor on the automation built from the device trigger."""
    await open_path(
        page,
        f"/config/automation/edit/{AUTOMATION_ID}",
        ready="ha-automation-trigger-row",
    )
    # Unfold the trigger: the device, its trigger type and the outcome field.
    await page.locator("ha-automation-trigger-row").first.click()
    await page.get_by_text("Outcome").first.wait_for()
    await page.wait_for_timeout(500)
    return await save_screenshot(page, target)


async def response_time(page: Page, demo: Demo, target: Path) -> Path:
    """Both rooms' response times over the demo's run, in the history panel.

    The example dashboard plots the same sensors over the last hour; the
    run lasts minutes, so the panel shows just its span.
    """
    query = urlencode(
        {
            "entity_id": ",".join(RESPONSE_TIMES),
            "start_date": demo.started.isoformat(),
            "end_date": datetime.now(UTC).isoformat(),
        }
    )
    chart = "state-history-chart-line"
    await open_path(page, f"/history?{query}", ready=chart)
    await page.wait_for_timeout(1500)  # the chart's drawing animation
    return await save_screenshot(page, target)


# Opens an entity's more-info dialog, as clicking its row does.
MORE_INFO = """(entityId) => {
  const detail = {entityId};
  document.querySelector("home-assistant").dispatchEvent(
    new CustomEvent("hass-more-info", {detail, bubbles: true, composed: true})
  );
}"""


async def device_page(page: Page, demo: Demo, out: Path) -> list[Path]:
    """The kitchen headset's device page, its media player's controls open.

    The dialog shows what the headset plays (its state, its position and the
    film's length as a progress bar), its controls, and the group button with
    the size of its session; the group dialog that button opens lists the
    session's headsets, this one first.
    """
    await open_path(
        page,
        f"/config/devices/device/{demo.headset_device}",
        ready="ha-config-device-page",
    )
    await page.get_by_text("Kitchen VR headset").first.wait_for()
    await page.evaluate(MORE_INFO, HEADSET_PLAYER)
    grouping = page.locator("#grouping-button").first
    await grouping.wait_for()
    await page.wait_for_timeout(1000)  # the dialog's opening animation
    saved = [await save_screenshot(page, out / "device-page.png")]
    await grouping.click()
    await page.get_by_text("Bathroom VR headset").first.wait_for()
    await page.wait_for_timeout(1000)
    saved.append(await save_screenshot(page, out / "session-group.png"))
    return saved


if __name__ == "__main__":
    sys.exit(main())
