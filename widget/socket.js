import { IDLE_CLOSE_CODE, RECONNECT_MAX_MS, RECONNECT_MIN_MS, SOCKET_REPLY_TIMEOUT_MS, SOCKET_URL } from './config.js';
import { flushOutbox, showStoredForm, withdrawMessage } from './conversation.js';
import { asText } from './dom.js';
import { endAgentSession, receiveAgentLine, setHandoff, showAgentTyping, withAgent } from './handoff.js';
import { request } from './http.js';
import { errorText, followScript, t } from './labels.js';
import { clearNotice, setNotice, showTyping } from './notices.js';
import { setProgress } from './progress.js';
import { setQuickReplies } from './quickReplies.js';
import { offerRating } from './rating.js';
import { state } from './state.js';
import { appendMessage, quickRepliesOf, resyncTranscript, rowOfSeq } from './transcript.js';

// ---------------------------------------------------------------- websocket

export const socketIsReady = () =>
  Boolean(state.socket && state.socketReady && state.socket.readyState === WebSocket.OPEN);

export function connectSocket() {
  clearTimeout(state.reconnectTimer);
  if (!state.conversation || state.socketRejected || state.socket || typeof WebSocket !== 'function') return;
  const conversation = state.conversation;
  let socket;
  try {
    socket = new WebSocket(SOCKET_URL);
  } catch {
    scheduleReconnect();
    return;
  }
  state.socket = socket;
  state.socketReady = false;
  socket.addEventListener('open', () => {
    socket.send(JSON.stringify({ type: 'hello', conversation: conversation.id, token: conversation.token }));
  });
  socket.addEventListener('message', (event) => {
    if (state.socket === socket) handleFrame(event.data);
  });
  socket.addEventListener('close', (event) => {
    if (state.socket !== socket) return; // replaced or closed on purpose
    state.socket = null;
    state.socketReady = false;
    // A new socket reports nothing about these; the reply timeout's resync finds what was taken.
    state.socketPending = [];
    state.socketClosedIdle = event.code === IDLE_CLOSE_CODE;
    if (state.socketRejected || state.socketClosedIdle) return;
    // Only a drop is news to the user; a server that never had a socket still answers over REST.
    if (state.socketEverReady) setNotice('reconnecting', t('ui.widget.reconnecting'));
    scheduleReconnect();
  });
}

export function scheduleReconnect() {
  clearTimeout(state.reconnectTimer);
  const delay = Math.min(RECONNECT_MAX_MS, RECONNECT_MIN_MS * 2 ** Math.min(state.reconnectAttempt, 10));
  state.reconnectAttempt++;
  state.reconnectTimer = setTimeout(connectSocket, delay);
}

export function reconnectNow() {
  if (!state.conversation || state.socket || state.socketRejected) return;
  state.reconnectAttempt = 0;
  connectSocket();
}

/** After the server closed an unused socket, the user's next step opens one again (nothing was lost: nothing came). */
export function reconnectAfterIdle() {
  if (!state.socketClosedIdle) return;
  state.socketClosedIdle = false;
  reconnectNow();
}

export function closeSocket() {
  const socket = state.socket;
  state.socket = null;
  state.socketReady = false;
  state.socketPending = [];
  clearTimeout(state.reconnectTimer);
  if (socket) {
    try {
      socket.close(1000);
    } catch {
      // already closed
    }
  }
}

export function handleFrame(raw) {
  let frame;
  try {
    frame = JSON.parse(raw);
  } catch {
    return;
  }
  if (!frame || typeof frame !== 'object') return;
  switch (frame.type) {
    case 'ready':
      state.socketReady = true;
      state.socketEverReady = true;
      state.reconnectAttempt = 0;
      clearNotice('reconnecting');
      clearNotice('connection');
      // Whatever came while no socket was open (a reply lost with the old one, an agent's message, a
      // claim or a resolve) is in the transcript: read on from the last line on screen.
      resyncTranscript();
      // Messages that waited for the network go now, in order.
      flushOutbox();
      break;
    case 'typing':
      // The server runs one message at a time, in order, and announces each turn with "typing".
      {
        // A later turn started: earlier messages to the agent were taken.
        state.socketPending = state.socketPending.filter((pending) => !(pending.started && pending.toAgent));
        const next = state.socketPending.find((pending) => !pending.started);
        if (next) next.started = true;
        // While an agent holds the conversation the bot is not answering: no bot typing dots.
        if (!(next ? next.toAgent : withAgent())) showTyping(true);
      }
      break;
    case 'message':
      followScript(frame);
      {
        // While an agent holds the conversation, a bot line outside the user's turns means the agent
        // resolved or handed back: their note goes first. A turn's replies name the turn's intent
        // (the secret warning, say); lines pushed outside a turn have none.
        const inTurn = 'intent' in frame && state.socketPending.some((pending) => pending.started || pending.toAgent);
        if (!inTurn && withAgent()) endAgentSession();
        // A reply means the started message was taken; only messages not started yet stay pending.
        state.socketPending = state.socketPending.filter((pending) => !pending.started);
        stopWaitingForSocketReply();
        showTyping(false);
        const row = appendMessage('bot', asText(frame.text), { tone: asText(frame.tone), picture: asText(frame.picture) });
        // Only the last frame of a turn says whether to ask; the earlier ones say false.
        if (frame.askRating === true) offerRating(row, frame.answerSeq, frame.answerIndex);
      }
      setQuickReplies(quickRepliesOf(frame));
      if ('progress' in frame) setProgress(frame.progress);
      break;
    case 'message.accepted':
      // The stored form of a message the user sent (from this tab or another): a secret it held is hidden now.
      {
        const pending = state.socketPending.find((candidate) => candidate.clientMessageId && candidate.clientMessageId === frame.clientMessageId);
        if (pending) showStoredForm(pending.row, frame);
        // Sent from the user's other tab: shown here too, in its stored form, before the replies that follow it.
        else if (frame.duplicate !== true && typeof frame.text === 'string' && !(Number.isInteger(frame.seq) && rowOfSeq(frame.seq))) {
          const row = appendMessage('user', frame.text, { seq: frame.seq });
          if (frame.redacted === true) row.dataset.redacted = 'true';
        }
      }
      break;
    case 'agent.message':
      receiveAgentLine(frame);
      break;
    case 'agent.typing':
      showAgentTyping();
      break;
    case 'handoff.status':
      setHandoff(frame);
      break;
    case 'error':
      // Only typing frames can be invalid (message frames are built here): a server that does not
      // take them yet is not an error for the user, and is not sent more.
      if (frame.code === 'invalid_frame' && state.userTypingSentAt) {
        state.typingUnsupported = true;
        return;
      }
      if (frame.code === 'unauthorized') {
        // The server closes now. REST still carries this conversation, and starts over if it is gone.
        state.socketRejected = true;
        clearNotice('reconnecting');
        return;
      }
      stopWaitingForSocketReply();
      showTyping(false);
      refuseSocketMessage(state.socketPending.shift());
      setNotice('error', errorText(asText(frame.code)));
      break;
    default:
      break;
  }
}

/**
 * An error frame answers the oldest pending message: turns run in order and every taken message
 * gets at least one reply first. Like a failed REST request, it means the server did not take it,
 * whatever the code, so it comes back to the input to be resent: rate_limited, invalid_frame and
 * the like are refused before the turn; the input checks (empty_text, text_too_long,
 * control_characters, invalid_unicode) run before the conversation is touched; and turn_failed or
 * internal_error leave the conversation as it was (a turn is saved in one transaction or not at
 * all). Keeping the bubble would show a message the transcript does not have.
 */
export function refuseSocketMessage(pending) {
  if (!pending) return; // e.g. another tab's message: only the notice applies here
  withdrawMessage(pending.row, pending.text, pending.displayText);
  // Offer the buttons again if nothing newer replaced them (a refused tap can be tapped again).
  if (state.socketPending.length === 0 && state.quickReplies.length === 0) setQuickReplies(pending.previousQuickReplies);
}

export function waitForSocketReply() {
  state.awaitingSocketReply = true;
  showTyping(true);
  clearTimeout(state.socketReplyTimer);
  state.socketReplyTimer = setTimeout(onSocketReplyTimeout, SOCKET_REPLY_TIMEOUT_MS);
}

export function stopWaitingForSocketReply() {
  state.awaitingSocketReply = false;
  clearTimeout(state.socketReplyTimer);
}

export async function onSocketReplyTimeout() {
  if (!state.awaitingSocketReply) return;
  const found = await resyncTranscript();
  if (!state.awaitingSocketReply) return;
  stopWaitingForSocketReply();
  showTyping(false);
  if (!found) setNotice('error', t('ui.widget.noReply'));
}

/**
 * Appends transcript lines that are not on screen yet, and takes the handover's state; true if
 * there were new lines. Asks only for the lines after the last one known (`?after=<seq>`).
 */
