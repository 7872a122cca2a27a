// voice_mqtt's conversation card, loaded by every frontend (the integration
// adds this module to the frontend's extra modules): defines
// <voice-mqtt-conversation-card> and its editor, and lists the card in the
// dashboard's card picker.

import { CARD_TAG, ConversationCard } from "./card.js";
import { ConversationCardEditor } from "./editor.js";

const EDITOR_TAG = `${CARD_TAG}-editor`;

function define() {
  // The registry at this moment: since 2026.7 the frontend replaces
  // window.customElements with a scoped registry as it starts, and an element
  // defined on the registry it replaced is unknown to dashboards ("Custom
  // element doesn't exist"). This runs again once <home-assistant> is defined,
  // by which time the registry dashboards use is in place.
  const registry = window.customElements;
  if (!registry.get(CARD_TAG)) registry.define(CARD_TAG, class extends ConversationCard {});
  if (!registry.get(EDITOR_TAG)) {
    registry.define(EDITOR_TAG, class extends ConversationCardEditor {});
  }
}

window.customElements.whenDefined("home-assistant").then(define);

window.customCards = window.customCards || [];
if (!window.customCards.some((card) => card.type === CARD_TAG)) {
  window.customCards.push({
    type: CARD_TAG,
    name: "Voice assistant conversation",
    description:
      "A room's voice assistant as it listens and answers: what is heard, the answer as it streams, tools and panels, the last turns and their response times.",
    preview: true,
    documentationURL: "https://github.com/voice-mqtt/voice_mqtt#the-conversation-card",
  });
}
