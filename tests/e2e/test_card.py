"""The conversation card in a real browser, on a real Home Assistant.

A scratch Home Assistant (its own process, the real frontend) runs voice_mqtt
on a broker of our own; the simulator plays a conversation; headless Chromium
(the system's, driven by Playwright) opens the example dashboard and watches
the card: the interim text, then the answer as it streams, then the final one.
Each step is saved as a screenshot in the test's folder, or in
VOICE_MQTT_SCREENSHOTS when set (docs/images/ to refresh the README's).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
import os
from pathlib import Path
import re
import time
from typing import Any

import pytest

from devkit.broker import Broker
from devkit.browser import (
    HassTokens,
    chromium,
    logged_in_page,
    login_tokens,
    open_path,
    screenshot,
)
from devkit.scratch import set_up_voice_mqtt, start_scratch_hass
from simulator import BrokerAddress, Simulator, SimulatorOptions
from simulator.script import ConversationPlan
from simulator.wire import protocol

CARD = "voice-mqtt-conversation-card"
ROOM = "living_room"
EXAMPLES = Path(__file__).parents[2] / "examples"
LOVELACE = """
lovelace:
  dashboards:
    voice-fleet:
      mode: yaml
      title: Voice fleet
      filename: voice_fleet_dashboard.yaml
"""
# Slow enough to be watched: a word every third of a second, heard or
# answered (the response entity writes at most four times a second).
SPEECH = {"interim_rate": 3.0, "chunk_rate": 3.0, "phase_pause": 0.3}
WITHIN = 30.0
Page = Any  # playwright.async_api.Page, imported by devkit.browser only


@dataclass
class Stage:
    """A running Home Assistant with voice_mqtt, its login and the simulator."""

    base_url: str
    tokens: HassTokens
    simulator: Simulator


@pytest.fixture
def stage(loopback_sockets: None, tmp_path: Path) -> Iterator[Stage]:
    with ExitStack() as stack:
        broker = Broker(tmp_path / "broker")
        broker.start()
        stack.callback(broker.stop)
        api, _hass = start_scratch_hass(
            stack,
            tmp_path,
            tool="tests/e2e/test_card.py",
            name="card",
            extra_yaml=LOVELACE,
            real_frontend=True,
            files={
                "voice_fleet_dashboard.yaml": (EXAMPLES / "dashboard.yaml").read_text()
            },
        )
        owner: dict[str, Any] = {}
        set_up_voice_mqtt(api, owner, broker.port, "card")
        simulator = Simulator(
            SimulatorOptions(
                broker=BrokerAddress(port=broker.port),
                devices=0,
                xiaozhi_macs=(),
                rooms=1,
                heartbeat=0,
                conversation_interval=0,
                event_interval=0,
                quiet=True,
                seed=3,
                **SPEECH,
            )
        )
        simulator.start()
        stack.callback(simulator.stop)
        tokens = login_tokens(api, owner["refresh_token"], f"{api.base_url}/")
        yield Stage(api.base_url, tokens, simulator)


def spoken(plan: ConversationPlan) -> tuple[list[str], set[str], str]:
    """Return the interim texts, the final (or refined) texts and the answer."""
    interims, heard, chunks, answer = [], set(), [], ""
    for step in plan.steps:
        match step.message_type:
            case protocol.VoiceType.TRANSCRIPT_INTERIM:
                interims.append(step.payload["text"])
            case (
                protocol.VoiceType.TRANSCRIPT_FINAL
                | protocol.VoiceType.TRANSCRIPT_REFINED
            ):
                heard.add(step.payload["text"])
            case protocol.VoiceType.STREAM_CHUNK:
                chunks.append(step.payload["chunk"])
            case protocol.VoiceType.RESPONSE:
                answer = step.payload["text"]
    return interims, heard, ("".join(chunks) or answer).strip()


async def shown(
    page: Page, selector: str, accept: Callable[[str], bool], what: str
) -> str:
    """Wait until an element of the living room's card shows an accepted text."""
    card = page.locator(CARD).first
    deadline = time.monotonic() + WITHIN
    seen: list[str] = []
    while time.monotonic() < deadline:
        seen = [
            text.strip() for text in await card.locator(selector).all_text_contents()
        ]
        for text in seen:
            if accept(text):
                return text
        await asyncio.sleep(0.05)
    pytest.fail(f"not within {WITHIN} s: {what}; the card showed {seen}")


APP_MODULE = re.compile(r"/frontend_latest/app\.[0-9a-f]+\.js$")


async def late(route: Any) -> None:
    await asyncio.sleep(1.5)
    await route.continue_()


REGISTERED = """(tag) => {
  const Card = customElements.get(tag);
  const hass = document.querySelector("home-assistant").hass;
  if (!Card) return { defined: false };
  const editor = Card.getConfigElement();
  editor.setConfig(Card.getStubConfig(hass));
  editor.hass = hass;
  const select = editor.shadowRoot.querySelector("select");
  return {
    defined: true,
    picker: (window.customCards || []).some((card) => card.type === tag),
    stub: Card.getStubConfig(hass),
    editor: editor.localName,
    rooms: [...select.options].map((option) => [option.value, option.text]),
  };
}"""


@pytest.mark.timeout(240)
async def test_the_card_shows_a_conversation_as_it_happens(
    stage: Stage, tmp_path: Path
) -> None:
    shots = Path(os.environ.get("VOICE_MQTT_SCREENSHOTS") or tmp_path / "screenshots")
    # A first turn: the room exists, and the card has a past turn to show.
    await asyncio.to_thread(stage.simulator.run_conversation, ROOM)
    console: list[str] = []
    async with chromium() as browser:
        async with logged_in_page(
            stage.base_url,
            stage.tokens,
            height=1000,
            scale=2,
            console=console,
            browser=browser,
        ) as page:
            # The frontend's app module, which swaps in the scoped element
            # registry, comes late (as on a slow phone): the card's module runs
            # first, and its element must still reach the dashboards' registry.
            await page.route(APP_MODULE, late)
            await open_path(page, "/voice-fleet/rooms", ready=f"{CARD} .title")
            registered = await page.evaluate(REGISTERED, CARD)
            assert registered == {
                "defined": True,
                "picker": True,
                "stub": {"room": ROOM},  # the first room (the only one)
                "editor": f"{CARD}-editor",
                "rooms": [[ROOM, "Living room voice assistant"]],
            }
            assert not [line for line in console if "Custom element" in line]

            plan = stage.simulator.backend.begin(ROOM, streamed=True).plan
            interims, heard, answer = spoken(plan)
            # A word at a time: a few words make a stream worth watching.
            assert len(answer.split()) >= 3, answer
            await shown(
                page,
                ".now .heard[data-stage=interim]",
                interims.__contains__,
                "interim",
            )
            # The first turn moved above, with its response time.
            await shown(page, ".history .answer", bool, "the first turn, above")
            await shown(page, ".history .time", bool, "its response time")
            await screenshot(page, shots / "card-1-interim.png", selector=CARD)
            partial = await shown(
                page,
                ".now .answer[data-streaming=true]",
                lambda text: text != answer and answer.startswith(text) and text != "",
                "a part of the answer, streaming",
            )
            await screenshot(page, shots / "card-2-streaming.png", selector=CARD)
            await shown(
                page,
                ".now .answer[data-streaming=false]",
                answer.__eq__,
                f"the whole answer {answer!r} after {partial!r}",
            )
            assert (
                await page.locator(CARD).first.locator(".now .heard").inner_text()
                in heard
            )
            # The turn is over when its response time is shown.
            await shown(page, ".now .meta .time", bool, "the turn's response time")
            await screenshot(page, shots / "card-3-final.png", selector=CARD)

        async with logged_in_page(
            stage.base_url,
            stage.tokens,
            width=390,
            height=844,
            color_scheme="dark",
            scale=2,
            browser=browser,
        ) as phone:
            await open_path(phone, "/voice-fleet/rooms", ready=f"{CARD} .now .answer")
            await shown(phone, ".now .answer", answer.__eq__, "the answer on a phone")
            await screenshot(phone, shots / "card-4-phone-dark.png", selector=CARD)
