import { BASE, TAKEN_AFTER_MS } from './config.js';
import { holdMessage, newClientMessageId, offline, releaseMessage } from './outbox.js';
import { forgetPending, hideAgentTyping, renderHandoff, withAgent } from './handoff.js';
import { HttpError, NetworkError, conversationPath, isConversationGone, request } from './http.js';
import { followScript, errorText, t } from './labels.js';
import { clearNotice, renderNotice, setNotice, showTyping } from './notices.js';
import { closePicture } from './pictureViewer.js';
import { setProgress } from './progress.js';
import { setQuickReplies } from './quickReplies.js';
import { offerRating } from './rating.js';
import { closeSocket, connectSocket, reconnectAfterIdle, socketIsReady, stopWaitingForSocketReply, waitForSocketReply } from './socket.js';
import { notices, state, ui } from './state.js';
import { forgetConversation, readStoredConversation, storeConversation } from './storage.js';
import { restorePrevious } from './previousConversation.js';
import { appendMessage, renderReplies, renderTranscript, resetGrouping, resyncTranscript } from './transcript.js';

// ---------------------------------------------------------------- conversation

export function ensureStarted() {
  if (state.conversation) return Promise.resolve();
  if (!state.starting) {
    const starting = startConversation().finally(() => {
      if (state.starting === starting) state.starting = null;
    });
    state.starting = starting;
  }
  return state.starting;
}

/**
 * The reader's language goes with the new conversation, so a Taiwan or Hong Kong reader is greeted
 * in traditional, worded their way, before typing anything. Only a plain language tag is sent.
 */
function newConversationBody() {
  const locale = typeof navigator === 'object' ? navigator.language : '';
  return typeof locale === 'string' && locale.length <= 35 && /^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$/.test(locale) ? { locale } : {};
}

export async function startConversation() {
  const generation = state.generation;
  showTyping(true);
  restorePrevious();
  try {
    const stored = readStoredConversation();
    if (stored) {
      try {
        const data = await request('GET', conversationPath(stored.id), { token: stored.token });
        if (generation !== state.generation) return;
        state.conversation = stored;
        renderTranscript(data);
        connectSocket();
        return;
      } catch (error) {
        if (!isConversationGone(error)) throw error;
        forgetConversation();
      }
    }
    const data = await request('POST', '/api/conversations', { body: newConversationBody() });
    if (generation !== state.generation) return;
    if (typeof data.id !== 'string' || typeof data.token !== 'string') {
      throw new HttpError('POST', '/api/conversations', 500, 'bad_response', '');
    }
    state.conversation = { id: data.id, token: data.token };
    storeConversation(state.conversation);
    clearNotice('connection');
    followScript(data);
    renderReplies(data.replies, data.progress ?? null);
    connectSocket();
  } catch (error) {
    if (generation !== state.generation) return;
    if (error instanceof NetworkError && (await originRefused())) {
      if (generation === state.generation) showOriginRefused();
    } else {
      showFailure(error);
    }
  } finally {
    if (generation === state.generation && !state.awaitingSocketReply) showTyping(false);
  }
}

/**
 * Whether a request that failed like a network error was this page being refused instead: the
 * browser withholds the bot's answers from pages of origins its ALLOWED_ORIGINS does not list
 * (CORS), and tells scripts no more than for a dropped connection. If the server still answers a
 * no-cors request, it is reachable, and "check your connection" would send the user on a
 * pointless hunt.
 */
export async function originRefused() {
  if (new URL(BASE).origin === window.location.origin || navigator.onLine === false) return false;
  try {
    await fetch(`${BASE}/healthz`, { mode: 'no-cors', cache: 'no-store' });
    return true;
  } catch {
    return false;
  }
}

export function showOriginRefused() {
  setNotice('connection', t('ui.widget.error.origin_not_allowed'));
  if (state.originWarned) return;
  state.originWarned = true;
  // For the site's developer; the browser's own CORS error above names the request, not the setting.
  console.warn(
    `Wallet unbinding widget: ${BASE} does not let pages of ${window.location.origin} use it (CORS). ` +
      `If this page should embed the widget, add ${window.location.origin} to the bot's ALLOWED_ORIGINS.`,
  );
}

/** Drops the current conversation (on the "new conversation" button, or when the server no longer knows it). */
export function startOver(noticeKey) {
  state.generation++;
  closeSocket();
  state.conversation = null;
  state.starting = null;
  state.socketRejected = false;
  state.socketEverReady = false;
  state.reconnectAttempt = 0;
  forgetConversation();
  stopWaitingForSocketReply();
  closePicture();
  ui.log.replaceChildren();
  state.renderedEntries = 0;
  state.syncedSeq = 0;
  state.unsynced = [];
  state.outbox = [];
  state.ratingOffer = null;
  resetGrouping();
  state.servingAgent = null;
  state.handoff = null;
  clearTimeout(state.handoffPollTimer);
  hideAgentTyping();
  renderHandoff();
  setQuickReplies([]);
  setProgress(null);
  notices.clear();
  if (noticeKey) setNotice('info', t(noticeKey));
  else renderNotice();
  return ensureStarted();
}

export async function sendMessage(text, displayText) {
  if (!state.conversation) {
    await ensureStarted();
    if (!state.conversation) {
      restoreInput(text, displayText);
      return;
    }
  }
  reconnectAfterIdle(); // this message goes over REST while the socket opens; the next ones go live
  const previousQuickReplies = state.quickReplies;
  setQuickReplies([]);
  clearNotice('error');
  clearNotice('info');
  const message = { row: appendMessage('user', displayText || text), text, displayText, clientMessageId: newClientMessageId(), previousQuickReplies };
  // Offline, or earlier messages still waiting: this one waits behind them, so the order holds.
  if (offline() || state.outbox.length) {
    holdMessage(message, flushOutbox);
    setNotice('connection', t('ui.widget.offlineQueued'));
    return;
  }
  await deliver(message);
}

/** Sends one message (over the socket when it is open, else REST); false if the network failed and it waits. */
async function deliver(message) {
  const { id, token } = state.conversation;
  const generation = state.generation;
  const { row, text, displayText, clientMessageId, previousQuickReplies } = message;
  const body = { text, ...(displayText ? { displayText } : {}), clientMessageId };
  if (socketIsReady()) {
    try {
      state.socket.send(JSON.stringify({ type: 'message', ...body }));
      const pending = { row, text, displayText, clientMessageId, previousQuickReplies, started: false, toAgent: withAgent() };
      state.socketPending.push(pending);
      // An agent answers in their own time: no bot typing and no "no reply" timeout. Only an error frame
      // within a few seconds says the message was not taken.
      if (pending.toAgent) setTimeout(() => forgetPending(pending), TAKEN_AFTER_MS);
      else waitForSocketReply();
      return true;
    } catch {
      // socket died between the check and the send: REST below
    }
  }

  const toAgent = withAgent();
  if (!toAgent) showTyping(true);
  try {
    const data = await request('POST', conversationPath(id, '/messages'), { body, token });
    if (generation !== state.generation) return true;
    showTyping(false);
    clearNotice('connection');
    followScript(data);
    showStoredForm(row, data.userMessage);
    // A resend the server had taken before the line dropped: its answer may be on screen already.
    if (data.duplicate === true) {
      await resyncTranscript();
      return true;
    }
    const lastReply = renderReplies(data.replies, data.progress);
    if (data.askRating === true && lastReply) offerRating(lastReply, data.answerSeq, data.answerIndex);
    return true;
  } catch (error) {
    if (generation !== state.generation) return true;
    showTyping(false);
    if (error instanceof NetworkError) {
      // Not refused, just not carried: the bubble stays with a retry, and goes again when the network is back.
      holdMessage(message, flushOutbox);
      setNotice('connection', t('ui.widget.offlineQueued'));
      return false;
    }
    withdrawMessage(row, text, displayText);
    if (isConversationGone(error)) {
      await startOver('ui.widget.expired');
      return true;
    }
    setQuickReplies(previousQuickReplies);
    showFailure(error);
    return true;
  }
}

let flushing = false;

/** Sends what waits in the outbox, oldest first, stopping at the first that fails again. */
export async function flushOutbox() {
  if (flushing || !state.conversation) return;
  flushing = true;
  try {
    while (state.outbox.length) {
      const message = state.outbox[0];
      releaseMessage(message);
      if (!(await deliver(message))) {
        // deliver() put it back at the end; keep the order: it goes first again.
        state.outbox = [message, ...state.outbox.filter((other) => other !== message)];
        return;
      }
    }
    clearNotice('connection');
  } finally {
    flushing = false;
  }
}

/**
 * The user's bubble shows what the server kept of the message: a verification code or card number
 * typed into it is replaced by its placeholder at once, not only after a reload.
 */
export function showStoredForm(row, stored) {
  if (!row || !stored || typeof stored.text !== 'string') return;
  const bubble = row.querySelector('[data-testid="wub-message"]');
  if (bubble && bubble.textContent !== stored.text) bubble.textContent = stored.text;
  if (stored.redacted === true) row.dataset.redacted = 'true';
  if (Number.isInteger(stored.seq) && !row.dataset.seq) {
    row.dataset.seq = String(stored.seq);
    state.unsynced = state.unsynced.filter((other) => other !== row);
  }
}

/** The server did not take this message: its bubble goes, and its text back into the input. */
export function withdrawMessage(row, text, displayText) {
  row.remove();
  state.renderedEntries--;
  state.unsynced = state.unsynced.filter((other) => other !== row);
  restoreInput(text, displayText);
}

/** A message that could not be sent goes back where it came from, so the user can retry. */
export function restoreInput(text, displayText) {
  if (!displayText && ui.input && !ui.input.value) ui.input.value = text;
}

export function showFailure(error) {
  if (error instanceof HttpError) setNotice('error', errorText(error.code));
  else setNotice('connection', t('ui.widget.connectionLost'));
}
