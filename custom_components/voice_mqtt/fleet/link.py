"""The fleet's link: the broker bridge between the fleet's broker and Home Assistant's.

A fleet may run its own broker (a voice server's mosquitto in the cloud) and
reach Home Assistant's through a bridge (docs/bridge.md). With the
broker-health option on, mosquitto's retained notification of each bridge's
state (`$SYS/broker/connection/<remote client id>/state`: `1` or `0`) says
whether the fleet can be heard at all:

- While the link that carries the fleet is down, nobody knows what its rooms
  and devices do: their entities are unavailable (not offline), and silence
  proves nothing, so no heartbeat timeout runs. After ISSUE_AFTER seconds
  down, a repair issue names the bridge.
- Back up, the bridge subscribes again and the fleet's broker sends its
  retained messages (statuses, Last Wills, retained voice topics), which the
  local broker forwards as live ones (retain flag 0). For REPLAY_WINDOW
  seconds after the link's `1` what arrives counts as replayed: an older Last
  Will loses to a newer status, an old session does not take a room over, no
  event fires twice.

A broker without such notifications says nothing here: the sensor stays
unavailable and nothing else changes. With several bridges the entry's
option names the one that carries the fleet (by its remote client id).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
import logging
from typing import TYPE_CHECKING, Any, Final

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback

from ..broker.connection import Subscribe
from ..broker.intake import Intake, Payload
from ..issues.catalog import IssueKind, clear_issue, raise_issue
from ..models.settings import Settings
from ..protocol import BRIDGE_STATE_FILTER, TopicScheme, parse_bridge_state

if TYPE_CHECKING:
    from homeassistant.components.mqtt import ReceiveMessage

_LOGGER = logging.getLogger(__name__)

# mosquitto resends a bridge's retained messages as soon as the bridge has
# subscribed again, within a second or two of its `1` even for a large fleet
# over the internet; ten seconds covers a slow link with room to spare. A
# live message in the window is taken as a replay: its timestamp decides.
REPLAY_WINDOW: Final = 10.0
# A link down this long is more than a blip (mosquitto retries every 2-20 s
# with the recipe's restart_timeout): a repair issue says so.
ISSUE_AFTER: Final = 60.0


def _parse(_scheme: TopicScheme, topic: str, payload: Payload) -> tuple[str, bool]:
    return parse_bridge_state(topic, payload)


class FleetLink:
    """Whether the bridge that carries the fleet is up, and what a replay is."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ConfigEntry,
        settings: Settings,
        intake: Intake,
        changed: Callable[[], None],
    ) -> None:
        """Know nothing until the broker says something of its bridges."""
        self._hass = hass
        self._entry = entry
        self._scheme = settings.scheme
        self.enabled = settings.broker_health
        self._wanted = settings.fleet_link
        self._intake = intake
        self._changed = changed
        # Every bridge the broker told of, by remote client id: connected?
        self.links: dict[str, bool] = {}
        self.name: str | None = None  # the bridge that carries the fleet
        self.up: bool | None = None  # None: no such bridge known
        # While True, what arrives is taken as replayed (REPLAY_WINDOW).
        self.replaying = False
        self._replay_timer: asyncio.TimerHandle | None = None
        self._issue_timer: asyncio.TimerHandle | None = None
        self._told_of_many = False

    @property
    def down(self) -> bool:
        """Tell whether the bridge that carries the fleet is known to be down."""
        return self.up is False

    async def async_start(self, subscribe: Subscribe) -> CALLBACK_TYPE:
        """Subscribe to the bridges' states (when enabled); return what stops it."""
        clear_issue(self._hass, self._entry.entry_id, IssueKind.FLEET_LINK_DOWN)
        if not self.enabled:
            return lambda: None
        await subscribe(BRIDGE_STATE_FILTER, self._message)
        return self.cancel

    @callback
    def _message(self, msg: ReceiveMessage) -> None:
        parsed = self._intake.parse(
            "broker", _parse, self._scheme, msg.topic, msg.payload
        )
        if parsed is None:
            return
        client_id, connected = parsed
        if self.links.get(client_id) is connected:
            return  # the retained state again, on a resubscribe
        self.links[client_id] = connected
        self._update()

    def _carrier(self) -> str | None:
        """Return the bridge that carries the fleet, None when it is not known."""
        if self._wanted:
            return self._wanted if self._wanted in self.links else None
        if len(self.links) == 1:
            return next(iter(self.links))
        if not self._told_of_many:
            self._told_of_many = True
            _LOGGER.warning(
                "The broker has several bridges (%s): set the option 'Fleet link' of"
                " %s to the one that carries the fleet to show its state",
                ", ".join(sorted(self.links)),
                self._entry.title,
            )
        return None

    def _update(self) -> None:
        name = self._carrier()
        up = None if name is None else self.links[name]
        if (name, up) == (self.name, self.up):
            return
        was_down = self.down
        self.name, self.up = name, up
        if was_down and up:
            self._replay()
        self._watch_issue()
        self._changed()

    def _replay(self) -> None:
        self.replaying = True
        if self._replay_timer is not None:
            self._replay_timer.cancel()
        self._replay_timer = self._hass.loop.call_later(
            REPLAY_WINDOW, self._replay_over
        )

    @callback
    def _replay_over(self) -> None:
        self._replay_timer = None
        self.replaying = False

    def _watch_issue(self) -> None:
        if self.down:
            if self._issue_timer is None:
                self._issue_timer = self._hass.loop.call_later(
                    ISSUE_AFTER, self._raise_issue
                )
            return
        if self._issue_timer is not None:
            self._issue_timer.cancel()
            self._issue_timer = None
        clear_issue(self._hass, self._entry.entry_id, IssueKind.FLEET_LINK_DOWN)

    @callback
    def _raise_issue(self) -> None:
        self._issue_timer = None
        raise_issue(
            self._hass,
            self._entry.entry_id,
            IssueKind.FLEET_LINK_DOWN,
            {
                "entry": self._entry.title,
                "bridge": self.name or "",
                "minutes": str(round(ISSUE_AFTER / 60)),
            },
        )

    @callback
    def cancel(self) -> None:
        """Stop the timers (the entry is unloading)."""
        for timer in (self._replay_timer, self._issue_timer):
            if timer is not None:
                timer.cancel()
        self._replay_timer = self._issue_timer = None

    def as_dict(self) -> dict[str, Any]:
        """Return plain data for diagnostics."""
        return {
            "links": dict(self.links),
            "carrier": self.name,
            "up": self.up,
            "replaying": self.replaying,
        }
