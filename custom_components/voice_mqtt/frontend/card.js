// <voice-mqtt-conversation-card>: one room's conversation as it happens.
//
// Lovelace hands the card its config (setConfig) and, on every change in
// Home Assistant, the frontend's hass object: states, registries and the
// websocket connection the frontend already has. The card reads its room's
// entities from it and opens nothing of its own. The turns from before the
// page opened come from the integration's history (voice_mqtt/history), over
// that same connection.

import {
  DOMAIN,
  findRooms,
  formatSeconds,
  readRoom,
  resolveRoom,
  roomEntities,
  turnFrom,
  turnFromEvent,
} from "./room.js";
import { STYLES } from "./styles.js";

export const CARD_TAG = "voice-mqtt-conversation-card";
const DEFAULT_TURNS = 3;
const MAX_HISTORY = 500; // the most turns voice_mqtt/history gives at once

function h(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (name === "class") node.className = value;
    else if (value !== undefined && value !== null) node.setAttribute(name, value);
  }
  node.append(...children.filter((child) => child !== undefined && child !== null));
  return node;
}

function chip(kind, icon, text, failed = false) {
  const classes = `chip ${kind}${failed ? " failed" : ""}`;
  return h("span", { class: classes }, h("ha-icon", { icon }), text);
}

export class ConversationCard extends HTMLElement {
  constructor() {
    super();
    this._turns = new Map(); // past turns by key, oldest first
    this._tools = { session: undefined, list: [], seen: undefined };
    this._panels = { session: undefined, list: [], seen: undefined };
    this._watched = [];
  }

  static getConfigElement() {
    return document.createElement(`${CARD_TAG}-editor`);
  }

  // The first room known: what the card picker shows before any editing.
  static getStubConfig(hass) {
    const [first] = findRooms(hass);
    return { room: first ? first.roomId : "" };
  }

  setConfig(config) {
    if (!config || (!config.room && !config.device_id)) {
      throw new Error("Pick a room: set room (a room id) or device_id");
    }
    const turns = config.turns ?? DEFAULT_TURNS;
    if (!Number.isInteger(turns) || turns < 0) {
      throw new Error("turns must be a whole number, 0 or more");
    }
    this._config = { ...config, turns };
    this._relocate = true; // it may name another room
    this._historyFor = undefined; // and want more turns
    this._render(true);
  }

  set hass(hass) {
    this._hass = hass;
    // Turns may end while the connection is down: ask again once it is back.
    if (hass.connected === false) this._historyFor = undefined;
    this._render(false);
  }

  get hass() {
    return this._hass;
  }

  // A dashboard view that is not shown gets no hass: ask again on its return.
  connectedCallback() {
    this._render(false);
  }

  disconnectedCallback() {
    this._historyFor = undefined;
  }

  getCardSize() {
    return 3 + Math.min(this._turns.size, this._config?.turns ?? DEFAULT_TURNS);
  }

  getGridOptions() {
    return { columns: 12, min_columns: 6, rows: "auto" };
  }

  _build() {
    const root = this.shadowRoot || this.attachShadow({ mode: "open" });
    root.replaceChildren(
      h("style", {}, STYLES),
      h(
        "ha-card",
        {},
        h(
          "div",
          { class: "card" },
          h(
            "header",
            {},
            h("span", { class: "indicator", "data-state": "idle" }, h("i"), h("i"), h("i")),
            h("span", { class: "title" }),
            h("span", { class: "state" }),
          ),
          h("p", { class: "missing", hidden: "" }),
          h("ol", { class: "history" }),
          h("div", { class: "exchange now" }),
          h("p", { class: "empty", hidden: "" }, "No conversation yet."),
        ),
      ),
    );
    this._nodes = {
      indicator: root.querySelector(".indicator"),
      title: root.querySelector(".title"),
      state: root.querySelector(".state"),
      missing: root.querySelector(".missing"),
      history: root.querySelector(".history"),
      now: root.querySelector(".now"),
      empty: root.querySelector(".empty"),
    };
  }

  _locate() {
    // The registries change rarely: look the room up again only then.
    const hass = this._hass;
    if (!this._relocate && this._devices === hass.devices && this._entityReg === hass.entities) {
      return this._room;
    }
    this._relocate = false;
    this._devices = hass.devices;
    this._entityReg = hass.entities;
    const room = resolveRoom(hass, this._config);
    if (room?.deviceId !== this._room?.deviceId) {
      // Another room: none of the turns shown are its.
      this._turns = new Map();
      this._watched = [];
      this._historyFor = undefined;
      this._asking = undefined; // an answer still to come is the other room's
    }
    this._room = room && { ...room, entities: roomEntities(hass, room.deviceId) };
    return this._room;
  }

  _render(force) {
    if (!this._config || !this._hass) return;
    if (!this._nodes) this._build();
    const room = this._locate();
    const n = this._nodes;
    n.missing.hidden = Boolean(room);
    if (!room) {
      n.missing.textContent = `No voice_mqtt room "${this._config.device_id || this._config.room}" yet.`;
      n.title.textContent = this._config.title || "";
      return;
    }
    if (this._historyFor !== room.deviceId && this._hass.connected !== false) {
      this._loadHistory(room);
    }
    // Most updates are of other entities: draw only when ours changed.
    const watched = Object.values(room.entities).map((id) => this._hass.states[id]);
    if (!force && watched.every((s, i) => s === this._watched[i])) return;
    this._watched = watched;
    const view = readRoom(this._hass, room.entities);
    this._collect(view);
    n.title.textContent = this._config.title || room.name;
    n.indicator.dataset.state = view.state;
    n.state.textContent = view.stateLabel;
    this._drawHistory(view.session);
    this._drawNow(view);
  }

  _collect(view) {
    if (view.turn) this._remember([view.turn], false);
    for (const [bag, event, name] of [
      [this._tools, view.tool, (a) => ({ name: a.tool_name, success: a.success })],
      [this._panels, view.panel, (a) => a.type],
    ]) {
      if (bag.session !== view.session) {
        bag.session = view.session;
        bag.list = [];
      }
      // An event entity's state is the time of its last event: a new one.
      if (event && event.key !== bag.seen && event.sessionId === view.session) {
        bag.list.push(name(event.attributes));
      }
      if (event) bag.seen = event.key;
    }
  }

  // Keep the turns the card may show (and the current one), oldest first.
  // A turn known already is kept as it was, unless fresh (the history's texts
  // are whole; the event entity's are cut to 255 characters).
  _remember(turns, fresh) {
    const known = this._turns.size;
    for (const turn of turns) {
      if (turn && (fresh || !this._turns.has(turn.key))) this._turns.set(turn.key, turn);
    }
    if (this._turns.size === known && !fresh) return;
    const ordered = [...this._turns.values()].sort((a, b) => a.started - b.started);
    this._turns = new Map(ordered.slice(-(this._config.turns + 1)).map((t) => [t.key, t]));
  }

  // The room's last turns from the integration's history, kept across
  // restarts: those from before the page opened, or missed while away.
  async _loadHistory(room) {
    this._historyFor = room.deviceId;
    const asked = (this._asking = {});
    if (!this._config.turns) return;
    // One more than shown: the last turn is often the current one, below.
    const limit = Math.min(this._config.turns + 1, MAX_HISTORY);
    let answer;
    try {
      answer = await this._hass.callWS({
        type: `${DOMAIN}/history`,
        device_id: room.deviceId,
        limit,
      });
    } catch (err) {
      // An integration without the command, or a room just removed: the card
      // shows the turns it sees happen. It asks again after a reconnection.
      console.debug(`${CARD_TAG}: no history for ${room.name}`, err);
      return;
    }
    if (this._asking !== asked) return; // another room or connection since
    this._remember((answer?.turns || []).map((data) => turnFrom(data)), true);
    this._render(true);
  }

  _drawHistory(session) {
    const past = [...this._turns.values()].filter((t) => t.sessionId !== session);
    const shown = this._config.turns ? past.slice(-this._config.turns) : [];
    this._nodes.history.replaceChildren(
      ...shown.map((turn) =>
        h("li", { class: "exchange past" }, ...this._exchange(turn.heard, turn.answer), this._meta(turn)),
      ),
    );
  }

  _drawNow(view) {
    const finished = view.turn && view.turn.sessionId === view.session ? view.turn : undefined;
    const heard = view.heard || finished?.heard || "";
    const answer = view.answer || finished?.answer || "";
    const nodes = this._exchange(heard, answer, view.stage, view.streaming);
    if (view.stage && heard) {
      nodes.splice(1, 0, h("span", { class: "stage" }, view.stage));
    }
    const meta = this._meta(
      finished || {
        tools: this._tools.list,
        panels: this._panels.list,
        responseTime: null,
      },
    );
    this._nodes.now.replaceChildren(...nodes, meta);
    this._nodes.empty.hidden = Boolean(heard || answer || this._turns.size);
  }

  _exchange(heard, answer, stage = "", streaming = false) {
    const nodes = [];
    if (heard) nodes.push(h("p", { class: "bubble heard", "data-stage": stage }, heard));
    if (answer || streaming) {
      nodes.push(
        h(
          "p",
          { class: "bubble answer", "data-streaming": String(streaming) },
          answer,
          streaming ? h("span", { class: "caret" }) : null,
        ),
      );
    }
    return nodes;
  }

  _meta(turn) {
    const chips = [];
    if (turn.responseTime !== null && turn.responseTime !== undefined) {
      chips.push(chip("time", "mdi:timer-outline", formatSeconds(turn.responseTime)));
    }
    for (const tool of turn.tools || []) {
      chips.push(chip("tool", "mdi:wrench", tool.name, tool.success === false));
    }
    for (const panel of turn.panels || []) {
      chips.push(chip("panel", "mdi:monitor-dashboard", panel));
    }
    return h("div", { class: "meta" }, ...chips);
  }
}
