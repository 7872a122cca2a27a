// The card's look: Home Assistant's theme variables only, so light, dark and
// custom themes all apply; narrow screens wrap instead of scrolling.

export const STYLES = `
:host { display: block; }
ha-card { overflow: hidden; }
.card { padding: 12px 16px 16px; display: flex; flex-direction: column; gap: 12px; }
header { display: flex; align-items: center; gap: 12px; min-height: 40px; }
.title { flex: 1; min-width: 0; font-size: 1.1em; font-weight: 500;
  color: var(--primary-text-color); overflow: hidden; text-overflow: ellipsis;
  white-space: nowrap; }
.state { color: var(--secondary-text-color); font-size: 0.9em; white-space: nowrap; }

/* The assistant's state: three bars that move as it works. */
.indicator { --tone: var(--disabled-text-color, #9e9e9e);
  display: inline-flex; align-items: center; justify-content: center; gap: 3px;
  width: 36px; height: 36px; border-radius: 50%; flex: none;
  background: color-mix(in srgb, var(--tone) 18%, transparent); }
.indicator i { display: block; width: 4px; height: 8px; border-radius: 2px;
  background: var(--tone); }
.indicator[data-state="wake_detected"] { --tone: var(--warning-color, #ffa600);
  animation: pulse 0.9s ease-out infinite; }
.indicator[data-state="listening"] { --tone: var(--primary-color, #03a9f4); }
.indicator[data-state="listening"] i { animation: hear 0.8s ease-in-out infinite; }
.indicator[data-state="processing"] { --tone: var(--accent-color, #ff9800); }
.indicator[data-state="processing"] i { height: 6px; width: 6px;
  animation: think 1.2s ease-in-out infinite; }
.indicator[data-state="responding"] { --tone: var(--success-color, #43a047); }
.indicator[data-state="responding"] i { animation: speak 0.5s ease-in-out infinite; }
.indicator[data-state="error"] { --tone: var(--error-color, #db4437); }
.indicator i:nth-child(2) { animation-delay: 0.15s; }
.indicator i:nth-child(3) { animation-delay: 0.3s; }
@keyframes hear { 50% { height: 20px; } }
@keyframes speak { 50% { height: 14px; } }
@keyframes think { 50% { transform: translateY(-6px); opacity: 0.5; } }
@keyframes pulse { 0% { box-shadow: 0 0 0 0 color-mix(in srgb, var(--tone) 60%, transparent); }
  100% { box-shadow: 0 0 0 12px transparent; } }
@media (prefers-reduced-motion: reduce) {
  .indicator, .indicator i, .caret { animation: none !important; } }

/* Turns: what was heard on the right, the answer on the left, as in a chat. */
ol { list-style: none; margin: 0; padding: 0; display: flex; flex-direction: column; gap: 10px; }
.exchange { display: flex; flex-direction: column; gap: 4px; }
.past { opacity: 0.75; font-size: 0.92em; }
.bubble { max-width: 85%; padding: 8px 12px; border-radius: 16px; margin: 0;
  line-height: 1.4; overflow-wrap: anywhere; white-space: pre-wrap; }
.heard { align-self: flex-end; border-bottom-right-radius: 4px;
  background: var(--primary-color, #03a9f4);
  color: var(--text-primary-color, #fff); }
.answer { align-self: flex-start; border-bottom-left-radius: 4px;
  background: var(--secondary-background-color, #e5e5e5);
  color: var(--primary-text-color); }
.heard[data-stage="interim"] { opacity: 0.7; font-style: italic; }
.answer[data-streaming="true"] .caret { display: inline-block; width: 0.5em;
  height: 1em; margin-left: 2px; vertical-align: text-bottom;
  background: currentColor; animation: blink 1s steps(2) infinite; }
@keyframes blink { 50% { opacity: 0; } }
.meta { display: flex; flex-wrap: wrap; gap: 6px; align-items: center;
  color: var(--secondary-text-color); font-size: 0.85em; }
.chip { display: inline-flex; align-items: center; gap: 4px; padding: 2px 8px;
  border-radius: 12px; border: 1px solid var(--divider-color, #e0e0e0); }
.chip ha-icon { --mdc-icon-size: 16px; }
.chip.failed { color: var(--error-color, #db4437); }
.stage { font-size: 0.8em; color: var(--secondary-text-color); align-self: flex-end; }
.empty, .missing { color: var(--secondary-text-color); margin: 0; }
.missing { color: var(--error-color, #db4437); }
[hidden] { display: none !important; }
`;
