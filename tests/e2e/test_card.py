"""The conversation card in a real browser, on a real Home Assistant.

A scratch Home Assistant (its own process, the real frontend) runs voice_mqtt
on a broker of our own; the simulator plays a conversation; headless Chromium
(the system's, driven by Playwright) opens the example dashboard and watches
the card: the turns from before the page opened (the integration's history),
the interim text, then the answer as it streams, then the final one. Each step
is saved as a screenshot in the test's folder, or in VOICE_MQTT_SCREENSHOTS
when set (docs/images/ to refresh the README's).
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
from devkit.hass.api import HomeAssistantApi
from devkit.hass.start import set_up_voice_mqtt, start_scratch_hass
from simulator import BrokerAddress, Simulator, SimulatorOptions
from simulator.script import ConversationPlan
from simulator.wire import protocol

from .conftest import eventually, kept_turns

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

    api: HomeAssistantApi
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
        yield Stage(api, api.base_url, tokens, simulator)


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


async def listed(
    page: Page, selector: str, accept: Callable[[list[str]], bool], what: str
) -> list[str]:
    """Wait until the elements of the living room's card show accepted texts."""
    card = page.locator(CARD).first
    deadline = time.monotonic() + WITHIN
    seen: list[str] = []
    while time.monotonic() < deadline:
        seen = [
            text.strip() for text in await card.locator(selector).all_text_contents()
        ]
        if accept(seen):
            return seen
        await asyncio.sleep(0.05)
    pytest.fail(f"not within {WITHIN} s: {what}; the card showed {seen}")


async def shown(
    page: Page, selector: str, accept: Callable[[str], bool], what: str
) -> str:
    """Wait until an element of the living room's card shows an accepted text."""
    seen = await listed(page, selector, lambda texts: any(map(accept, texts)), what)
    return next(text for text in seen if accept(text))


def timed(turns: list[dict[str, Any]]) -> Callable[[list[str]], bool]:
    """Accept the response times of these turns, as the card writes them."""

    def close(text: str, seconds: float) -> bool:
        # "0.84 s" under ten seconds, "12 s" above: as close as that allows.
        found = re.fullmatch(r"(\d+(?:\.\d\d)?) s", text)
        slack = 0.0051 if seconds < 10 else 0.51
        return found is not None and abs(float(found[1]) - seconds) <= slack

    return lambda texts: (
        len(texts) == len(turns)
        and all(
            close(text, turn["response_time"])
            for text, turn in zip(texts, turns, strict=True)
        )
    )


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

# A second card, on a hass whose voice_mqtt/history fails (an integration
# without the command): it asks once, shows the room's current turn all the
# same, and asks again after a reconnection and for another room.
WITHOUT_HISTORY = """async ({ tag, room }) => {
  const real = document.querySelector("home-assistant").hass;
  const asked = [];
  const older = {
    ...real,
    callWS: async (message) => {
      asked.push(message.type);
      throw { code: "unknown_command", message: "Unknown command." };
    },
  };
  const card = document.createElement(tag);
  card.setConfig({ room, turns: 2 });
  card.hass = older;
  document.body.append(card);
  await new Promise((done) => setTimeout(done, 50));
  const root = card.shadowRoot;
  const shown = {
    past: root.querySelectorAll(".history .exchange").length,
    now: root.querySelector(".now .answer")?.textContent.trim(),
  };
  card.hass = { ...older, connected: false };
  card.hass = { ...older, connected: true };
  card.setConfig({ room: "no_such_room", turns: 2 });
  card.setConfig({ room, turns: 2 });
  await new Promise((done) => setTimeout(done, 50));
  card.remove();
  return { asked, ...shown };
}"""


@pytest.mark.timeout(240)
async def test_the_card_shows_a_conversation_as_it_happens(
    stage: Stage, tmp_path: Path
) -> None:
    shots = Path(os.environ.get("VOICE_MQTT_SCREENSHOTS") or tmp_path / "screenshots")
    # Two turns before the page opens (unstreamed, which is quicker): only the
    # integration's history has the first, the event entity only the last.
    for _ in range(2):
        await asyncio.to_thread(stage.simulator.run_conversation, ROOM, False)
    before = await asyncio.to_thread(
        eventually,
        lambda: kept_turns(stage.api, ROOM),
        lambda turns: len(turns) == 2,
        "two turns in the history",
    )
    answers = [turn["answer"].strip() for turn in before]
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

            # On load: the earlier turn above, the last one below, both timed.
            await listed(page, ".history .answer", [answers[0]].__eq__, "history")
            await listed(page, ".history .time", timed(before[:1]), "its time")
            await listed(page, ".now .answer", [answers[1]].__eq__, "the last turn")
            await listed(page, ".now .time", timed(before[1:]), "its time")
            await screenshot(
                page, shots / "conversation-card-history.png", selector=CARD
            )

            without = await page.evaluate(WITHOUT_HISTORY, {"tag": CARD, "room": ROOM})
            history = "voice_mqtt/history"
            assert without == {"asked": [history] * 3, "past": 0, "now": answers[1]}

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
            # The last turn moved above, after the earlier one, each once.
            await listed(page, ".history .answer", answers.__eq__, "both turns above")
            await listed(page, ".history .time", timed(before), "their times")
            await screenshot(
                page, shots / "conversation-card-interim.png", selector=CARD
            )
            partial = await shown(
                page,
                ".now .answer[data-streaming=true]",
                lambda text: text != answer and answer.startswith(text) and text != "",
                "a part of the answer, streaming",
            )
            await screenshot(
                page, shots / "conversation-card-streaming.png", selector=CARD
            )
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
            await screenshot(page, shots / "conversation-card-final.png", selector=CARD)

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
            # A new page: the turns above come from the history again.
            await listed(phone, ".history .answer", answers.__eq__, "history, phone")
            await screenshot(
                phone, shots / "conversation-card-phone-dark.png", selector=CARD
            )
