// The card's visual editor: a room picker, how many past turns, a title.
// Plain form controls in the theme's colours: it depends on no frontend
// element that might not be loaded when the editor opens.

import { findRooms } from "./room.js";

const EDITOR_STYLES = `
:host { display: block; }
label { display: flex; flex-direction: column; gap: 4px; margin-bottom: 12px;
  color: var(--secondary-text-color); font-size: 0.9em; }
select, input { font: inherit; font-size: 1rem; padding: 8px; border-radius: 4px;
  color: var(--primary-text-color);
  background: var(--card-background-color, var(--secondary-background-color));
  border: 1px solid var(--divider-color, #ccc); }
`;

export class ConversationCardEditor extends HTMLElement {
  setConfig(config) {
    this._config = { ...config };
    this._draw();
  }

  set hass(hass) {
    const before = this._rooms;
    this._hass = hass;
    this._rooms = findRooms(hass);
    if (JSON.stringify(before) !== JSON.stringify(this._rooms)) this._draw();
  }

  _draw() {
    if (!this._config || !this._rooms) return;
    const root = this.shadowRoot || this.attachShadow({ mode: "open" });
    if (!root.querySelector("form")) {
      root.innerHTML = `<style>${EDITOR_STYLES}</style><form>
        <label>Room <select name="room"></select></label>
        <label>Past turns shown <input name="turns" type="number" min="0" max="20"></label>
        <label>Title (default: the room's name) <input name="title" type="text"></label>
      </form>`;
      root.querySelector("form").addEventListener("change", () => this._changed());
    }
    const select = root.querySelector("select");
    const current = this._config.room || "";
    const options = this._rooms.map((room) => [room.roomId, room.name]);
    if (current && !options.some(([id]) => id === current)) options.unshift([current, current]);
    select.replaceChildren(
      ...options.map(([id, name]) => {
        const option = document.createElement("option");
        option.value = id;
        option.textContent = name;
        return option;
      }),
    );
    select.value = current;
    root.querySelector("[name=turns]").value = this._config.turns ?? 3;
    root.querySelector("[name=title]").value = this._config.title || "";
  }

  _changed() {
    const root = this.shadowRoot;
    const config = { ...this._config, room: root.querySelector("select").value };
    // A room id names the room; a device_id from YAML would override it.
    delete config.device_id;
    const turns = Number.parseInt(root.querySelector("[name=turns]").value, 10);
    if (Number.isInteger(turns) && turns >= 0) config.turns = turns;
    const title = root.querySelector("[name=title]").value.trim();
    if (title) config.title = title;
    else delete config.title;
    this._config = config;
    this.dispatchEvent(
      new CustomEvent("config-changed", { detail: { config }, bubbles: true, composed: true }),
    );
  }
}
