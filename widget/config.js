/** Where the widget runs from, and how long it waits for what. */

export const scriptTag = document.currentScript || document.querySelector('script[src*="widget.js"]');
export const scriptUrl = new URL(scriptTag ? scriptTag.src : 'widget.js', document.baseURI);
// The server serves widget.js next to its API, so the script's folder is the API base.
export const BASE = new URL('.', scriptUrl).href.replace(/\/$/, '');
export const SOCKET_URL = `${BASE.replace(/^http/, 'ws')}/ws`;
export const STORAGE_KEY = `wub.conversation.${BASE}`;
export const PREVIOUS_STORAGE_KEY = `wub.previousConversation.${BASE}`;
export const OPEN_AT_LOAD = Boolean(scriptTag && scriptTag.dataset.open === 'true');

export const RECONNECT_MIN_MS = 500;
export const RECONNECT_MAX_MS = 10000;
export const IDLE_CLOSE_CODE = 4000; // the server closed a socket nobody used: reconnect when the user acts, not at once
export const SOCKET_REPLY_TIMEOUT_MS = 20000;
export const STARTUP_TIMEOUT_MS = 5000;
export const COMPACT_BELOW_PX = 520; // shorter than this (e.g. phone keyboard open): the progress strip keeps to one line
export const AGENT_TYPING_SHOWN_MS = 6000; // an agent.typing frame shows the dots this long, unless a message comes first
export const USER_TYPING_EVERY_MS = 3000; // the user's typing goes to the agent at most this often
export const TAKEN_AFTER_MS = 5000; // a message to an agent gets no reply: after this long without an error, it was taken
export const HANDOFF_POLL_MS = 5000; // handed over but no socket (refused, or between reconnects): read on this often
export const SVG_NS = 'http://www.w3.org/2000/svg';
export const GROUP_WITHIN_MS = 5 * 60 * 1000; // bubbles of one sender this close together share one time
