// What the card shows of one room, read from the frontend's hass object.
// Pure functions of hass and the card's config: no DOM, no connection.
//
// A room is the voice_mqtt device whose identifier is "<entry id>_room_<room
// id>"; its entities are found in the entity registry (hass.entities) by that
// device and their translation keys, never by entity id, so renaming an
// entity or the room's device does not lose them.

export const DOMAIN = "voice_mqtt";
const ROOM_MARK = "_room_";

// The translation keys of a room's entities that the card reads.
export const KEYS = [
  "assistant_state",
  "transcript",
  "response",
  "response_time",
  "tool_executed",
  "display_action",
  "conversation",
];

function roomIdOf(device) {
  for (const [domain, identifier] of device.identifiers || []) {
    const at = domain === DOMAIN ? identifier.indexOf(ROOM_MARK) : -1;
    // Entry ids have no underscore: the first mark ends the entry's part.
    if (at > 0) return identifier.slice(at + ROOM_MARK.length);
  }
  return undefined;
}

// Every room of every voice_mqtt entry: [{deviceId, roomId, name}], by name.
export function findRooms(hass) {
  const rooms = [];
  for (const device of Object.values(hass?.devices || {})) {
    const roomId = roomIdOf(device);
    if (roomId !== undefined) {
      rooms.push({
        deviceId: device.id,
        roomId,
        name: device.name_by_user || device.name || roomId,
      });
    }
  }
  return rooms.sort((a, b) => a.name.localeCompare(b.name));
}

// The room a config names, by device_id (exact) or by room id (the first
// entry's room of that id). undefined when no such room is known yet.
export function resolveRoom(hass, config) {
  const rooms = findRooms(hass);
  if (config.device_id) return rooms.find((r) => r.deviceId === config.device_id);
  return rooms.find((r) => r.roomId === config.room);
}

// {translation_key: entity_id} of the room's voice_mqtt entities.
export function roomEntities(hass, deviceId) {
  const found = {};
  for (const entity of Object.values(hass.entities || {})) {
    if (
      entity.device_id === deviceId &&
      entity.platform === DOMAIN &&
      KEYS.includes(entity.translation_key)
    ) {
      found[entity.translation_key] = entity.entity_id;
    }
  }
  return found;
}

function usable(stateObj) {
  return stateObj && !["unavailable", "unknown"].includes(stateObj.state);
}

function text(stateObj) {
  if (!usable(stateObj)) return "";
  const full = stateObj.attributes.full_text;
  return (typeof full === "string" ? full : stateObj.state).trim();
}

// A past turn from its plain data: a voice_mqtt/history turn, or the
// attributes of the conversation event entity (the same fields). Its key,
// session and start, is the same either way: one turn is shown once.
export function turnFrom(data, fired) {
  if (!data || !data.session_id) return undefined;
  const started = data.started || data.ended || fired;
  return {
    key: `${data.session_id}@${started}`,
    sessionId: data.session_id,
    outcome: data.event_type || data.outcome,
    heard: (data.heard || "").trim(),
    answer: (data.answer || "").trim(),
    tools: Array.isArray(data.tools) ? data.tools : [],
    panels: Array.isArray(data.display_actions) ? data.display_actions : [],
    responseTime: typeof data.response_time === "number" ? data.response_time : null,
    started: Date.parse(started) || 0,
  };
}

// The room's last turn, from the conversation event entity's state.
export function turnFromEvent(stateObj) {
  return usable(stateObj) ? turnFrom(stateObj.attributes, stateObj.state) : undefined;
}

// An event entity's last event (tool run, panel shown), with its session.
export function eventFrom(stateObj) {
  if (!usable(stateObj)) return undefined;
  const a = stateObj.attributes;
  return { key: stateObj.state, sessionId: a.session_id, attributes: a };
}

// The assistant's state, heard text and answer of the room's latest session.
export function readRoom(hass, entities) {
  const get = (key) => hass.states[entities[key]];
  const state = get("assistant_state");
  const transcript = get("transcript");
  const response = get("response");
  const session = (usable(state) && state.attributes.session_id) || undefined;
  // Texts of an older session than the state's are last turn's: not shown.
  const current = (s) => usable(s) && (!session || s.attributes.session_id === session);
  return {
    session,
    state: usable(state) ? state.state : "idle",
    stateLabel: usable(state) ? label(hass, state) : "",
    heard: current(transcript) ? text(transcript) : "",
    stage: current(transcript) ? transcript.attributes.stage || "" : "",
    answer: current(response) ? text(response) : "",
    streaming: current(response) && Boolean(response.attributes.streaming),
    turn: turnFromEvent(get("conversation")),
    tool: eventFrom(get("tool_executed")),
    panel: eventFrom(get("display_action")),
  };
}

function label(hass, stateObj) {
  // The frontend translates known states; unknown ones are shown as they came.
  return hass.formatEntityState ? hass.formatEntityState(stateObj) : stateObj.state;
}

// Seconds as the card shows a response time: "0.84 s", "12 s".
export function formatSeconds(seconds) {
  if (typeof seconds !== "number") return "";
  return seconds < 10 ? `${seconds.toFixed(2)} s` : `${Math.round(seconds)} s`;
}
