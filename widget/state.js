import { OPEN_AT_LOAD } from './config.js';

export const state = {
  conversation: null, // { id, token }
  generation: 0, // bumped when a conversation is abandoned, so its late answers are dropped
  starting: null,
  renderedEntries: 0, // transcript entries on screen, to append only what a resync finds missing
  // Lines carry their place in the conversation (seq 1, 2, …). syncedSeq: every line up to it is on
  // screen; unsynced: bubbles shown live whose seq is not known yet (the user's, the bot's replies),
  // matched to their lines by the next resync so nothing shows twice.
  syncedSeq: 0,
  unsynced: [],
  quickReplies: [],
  progressKey: '',
  outbox: [], // messages the network did not carry, oldest first (outbox.js)
  progress: null, // the strip's last progress, to redraw it when the script changes
  ratingOffer: null, // the rating row still waiting for a tap; older ones go when the next answer comes
  ratingCount: 0, // makes the ids of rating rows unique
  socket: null,
  socketReady: false,
  socketRejected: false, // hello refused: this conversation goes over REST only
  socketEverReady: false,
  reconnectAttempt: 0,
  reconnectTimer: 0,
  socketClosedIdle: false,
  awaitingSocketReply: false,
  socketReplyTimer: 0,
  // Messages sent over the socket whose turn has not answered yet, oldest first (see handleFrame).
  socketPending: [],
  openRequested: OPEN_AT_LOAD,
  originWarned: false,
  // The handover as the server last described it: { status, position, agentName, serviceHours, available } or null.
  handoff: null,
  servingAgent: null, // the agent whose "已接入" note is the latest on screen (null once they left)
  lastSender: '', // who wrote the last bubble ('bot', 'user', 'agent:<name>'), to group bubbles
  lastRow: null, // the newest bubble's row: a bubble joining its group takes over its time
  lastAt: 0, // when the newest bubble was written (ms), to start a new group after a pause
  lastDay: '', // the day of the newest bubble, to put "今天" / "昨天" / a date between days
  turnRows: [], // the bot rows of the current turn, in order: a turn's answerIndex points into it
  previousShown: false, // the previous conversation (kept after "新对话") is on screen, or was looked for
  agentTypingTimer: 0,
  userTypingSentAt: 0,
  handoffPollTimer: 0,
};
export const notices = new Map(); // kind → text; the newest one is shown
export const ui = {};
