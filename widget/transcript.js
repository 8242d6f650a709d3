import { GROUP_WITHIN_MS } from './config.js';
import { asText, el } from './dom.js';
import { hideAgentTyping, markServing, setHandoff, withAgent } from './handoff.js';
import { conversationPath, request } from './http.js';
import { followScript, t } from './labels.js';
import { noteArrival } from './launcher.js';
import { showTyping } from './notices.js';
import { pictureThumbnail } from './pictureViewer.js';
import { setProgress } from './progress.js';
import { setQuickReplies } from './quickReplies.js';
import { withdrawRatingOffer } from './rating.js';
import { revealUpdate, showLatest } from './scroll.js';
import { stopWaitingForSocketReply } from './socket.js';
import { state, ui } from './state.js';

export function normalizeQuickReplies(list) {
  if (!Array.isArray(list)) return [];
  return list
    .filter((reply) => reply && typeof reply.title === 'string' && typeof reply.payload === 'string' && reply.title)
    .map((reply) => ({ title: reply.title, payload: reply.payload }));
}

export const quickRepliesOf = (message) => normalizeQuickReplies(message && (message.quickReplies ?? message.quick_replies));


export async function resyncTranscript() {
  if (!state.conversation) return false;
  const { id, token } = state.conversation;
  const generation = state.generation;
  const after = state.syncedSeq;
  try {
    const data = await request('GET', conversationPath(id, `?after=${after}`), { token });
    if (generation !== state.generation) return false;
    const entries = Array.isArray(data.transcript) ? data.transcript : [];
    const bySeq = entries.every((entry) => entry && Number.isInteger(entry.seq));
    // A server without seq sends every line: the ones past those on screen are new.
    const fresh = bySeq ? entries.filter((entry) => entry.seq > after && !rowOfSeq(entry.seq) && !adoptLine(entry)) : entries.slice(state.renderedEntries);
    if (bySeq) state.syncedSeq = entries.reduce((max, entry) => Math.max(max, entry.seq), state.syncedSeq);
    if (fresh.length) appendEntries(fresh, handoffOf(data));
    else if ('handoff' in data) setHandoff(handoffOf(data));
    if (!fresh.length) return false;
    if ('progress' in data) setProgress(data.progress);
    stopWaitingForSocketReply();
    showTyping(false);
    return true;
  } catch {
    return false;
  }
}

/**
 * A line that is on screen already, shown live before its seq was known, gets its seq now. Lines
 * are stored in the order they were shown, so it is the oldest unplaced bubble of the same role;
 * the user's then shows the stored text, with any secret it held hidden as the server hid it.
 */
export function adoptLine(entry) {
  if (entry.role !== 'user' && entry.role !== 'bot') return false;
  const row = state.unsynced.find((candidate) => candidate.classList.contains(`wub-row--${entry.role}`));
  if (!row) return false;
  const bubble = row.querySelector('[data-testid="wub-message"]');
  if (entry.role === 'user' && bubble && bubble.textContent !== entry.text) bubble.textContent = entry.text;
  row.dataset.seq = String(entry.seq);
  state.unsynced = state.unsynced.filter((other) => other !== row);
  return true;
}

export const handoffOf = (data) => (data && data.handoff && typeof data.handoff === 'object' ? data.handoff : null);

export const rowOfSeq = (seq) => ui.log.querySelector(`[data-seq="${Number(seq)}"]`);

// ---------------------------------------------------------------- rendering

/** Shows a turn's replies; returns the row of the last one (null if none), for the rating. */
export function renderReplies(replies, progress) {
  const list = Array.isArray(replies) ? replies : [];
  let lastRow = null;
  for (const reply of list) {
    if (!reply || typeof reply.text !== 'string') continue;
    lastRow = appendMessage('bot', reply.text, { tone: asText(reply.tone), picture: asText(reply.picture) });
    setQuickReplies(quickRepliesOf(reply));
  }
  if (progress !== undefined) setProgress(progress);
  return lastRow;
}

// History after a reload is shown without rating rows: the offer belonged to that moment.
export function renderTranscript(data) {
  followScript(data);
  ui.log.replaceChildren();
  state.renderedEntries = 0;
  state.syncedSeq = 0;
  state.unsynced = [];
  state.ratingOffer = null;
  resetGrouping();
  state.servingAgent = null;
  state.handoff = null;
  const lines = Array.isArray(data.transcript) ? data.transcript : [];
  state.syncedSeq = lines.reduce((max, entry) => (entry && Number.isInteger(entry.seq) ? Math.max(max, entry.seq) : max), 0);
  restoringHistory = true;
  try {
    appendEntries(Array.isArray(data.transcript) ? data.transcript : [], handoffOf(data));
  } finally {
    restoringHistory = false;
  }
  setProgress(data.progress ?? null);
  showLatest();
}

let restoringHistory = false; // lines shown again after a reload are not new to the user

/**
 * Appends transcript lines (the whole history, or what a resync found), with the notes a user saw
 * live: "客服 … 已接入" before an agent's first line, and their leaving before the bot speaks again
 * once they are gone (a later agent, or a handover that is no longer theirs).
 */
export function appendEntries(entries, handoff) {
  const lines = entries.filter((entry) => entry && typeof entry.text === 'string');
  const names = lines.map((entry) => (entry.role === 'agent' ? asText(entry.agentName) : null));
  const lastAgentLine = names.reduce((last, name, index) => (name !== null ? index : last), -1);
  const holderAtEnd = handoff && handoff.status === 'assigned' ? asText(handoff.agentName) : null;
  // A user line may hold the payload of the quick reply that was clicked; show its title instead.
  let offered = state.quickReplies;
  lines.forEach((entry, index) => {
    const meta = { at: entry.at, seq: entry.seq };
    if (entry.role === 'agent') {
      markServing(names[index]);
      appendMessage('agent', entry.text, { ...meta, agentName: names[index] });
    } else if (entry.role === 'user') {
      const clicked = offered.find((reply) => reply.payload === entry.text);
      appendMessage('user', asText(entry.displayText) || (clicked ? clicked.title : entry.text), meta);
      offered = [];
    } else {
      // The bot speaks after the agent's last line here: they left (unless they still hold it).
      if (state.servingAgent && index > lastAgentLine && state.servingAgent !== holderAtEnd) markServing(null);
      appendMessage('bot', entry.text, { ...meta, tone: asText(entry.tone), picture: asText(entry.picture) });
      offered = quickRepliesOf(entry);
    }
  });
  if (handoff !== undefined) setHandoff(handoff);
  const last = lines[lines.length - 1];
  if (last) setQuickReplies(last.role === 'bot' && !withAgent() ? quickRepliesOf(last) : []);
}

/** Who a bubble is from, for grouping: consecutive bubbles of one sender show the name once. */
export const senderOf = (role, agentName) => (role === 'agent' ? `agent:${agentName}` : role);

/** The first character of a name, in a circle: the agent's "face" (and the assistant's). */
export function avatar(role, name) {
  const initial = Array.from(name.trim())[0] || '?';
  return el('span', { class: `wub-avatar wub-avatar--${role}`, 'aria-hidden': 'true', text: initial });
}

export function appendMessage(role, text, { at, agentName = '', seq, tone = '', picture = '' } = {}) {
  if (role !== 'user') withdrawRatingOffer();
  if (role === 'agent') hideAgentTyping();
  const stamp = stampOf(at);
  if (dayKey(stamp) !== state.lastDay) {
    ui.log.append(daySeparator(stamp));
    state.lastDay = dayKey(stamp);
    state.lastSender = ''; // a new day starts a new group
  }
  const sender = senderOf(role, agentName);
  const first = sender !== state.lastSender;
  // One time per run of bubbles written close together: it moves to the newest one.
  if (!first && state.lastRow && stamp.getTime() - state.lastAt < GROUP_WITHIN_MS) {
    const earlierTime = state.lastRow.querySelector('[data-testid="wub-time"]');
    if (earlierTime) earlierTime.remove();
  }
  const row = messageRow(role, text, { stamp, agentName, seq, first, tone, picture });
  state.lastSender = sender;
  state.lastRow = row;
  state.lastAt = stamp.getTime();
  if (role === 'user') state.turnRows = [];
  else if (role === 'bot') state.turnRows.push(row);
  ui.log.append(row);
  state.renderedEntries++;
  if (!Number.isInteger(seq)) state.unsynced.push(row);
  // A line right after the last known one, with nothing unplaced before it, extends what is known.
  else if (seq === state.syncedSeq + 1 && state.unsynced.length === 0) state.syncedSeq = seq;
  if (!restoringHistory) noteArrival(role, text);
  revealUpdate(row, { own: role === 'user' });
  return row;
}

/** A line's time as a Date: now when it has none (shown live) or it cannot be read. */
export function stampOf(at) {
  const when = at ? new Date(at) : new Date();
  return Number.isNaN(when.getTime()) ? new Date() : when;
}

/**
 * One bubble with its sender (on the first of a run), avatar and time; nothing is added to the page.
 * A bot line naming a step picture carries it inside the bubble, under the text it illustrates.
 */
export function messageRow(role, text, { stamp, agentName = '', seq, first, tone = '', picture = '' }) {
  const name = role === 'agent' ? t('ui.widget.agentName', { name: agentName }) : role === 'bot' ? t('ui.widget.botName') : '';
  const says =
    role === 'agent' ? t('ui.widget.agentSays', { name: agentName }) : t(role === 'user' ? 'ui.widget.userSays' : 'ui.widget.botSays');
  const column = el('div', { class: 'wub-stack' }, [
    ...(first && name ? [el('div', { class: 'wub-sender', 'data-testid': 'wub-sender', 'aria-hidden': 'true', text: name })] : []),
    el('span', { class: 'wub-visually-hidden', text: says }),
    el('div', { class: `wub-msg wub-msg--${role}${tone === 'warning' ? ' wub-msg--warning' : ''}`, 'data-testid': 'wub-message', 'data-role': role, 'data-tone': tone || undefined }, [
      text,
      ...(role === 'bot' && picture ? [pictureThumbnail(picture)].filter(Boolean) : []),
    ]),
    el('time', { class: 'wub-time', datetime: stamp.toISOString(), 'data-testid': 'wub-time', text: formatTime(stamp) }),
  ]);
  const face = role === 'user' ? [] : [first ? avatar(role, role === 'agent' ? agentName : t('ui.widget.botName')) : el('span', { class: 'wub-avatar-gap' })];
  return el(
    'div',
    {
      class: `wub-row wub-row--${role}${first ? ' wub-row--first' : ''}`,
      'data-seq': Number.isInteger(seq) ? seq : undefined,
      'data-agent': role === 'agent' ? agentName : undefined,
    },
    [...face, column],
  );
}

/** "今天", "昨天" or the date, between bubbles of different days. */
export function daySeparator(date) {
  return el('div', { class: 'wub-day', 'data-testid': 'wub-day', role: 'separator' }, [
    el('span', { class: 'wub-day-text', text: dayLabel(date, new Date()) }),
  ]);
}

// Local days, as the user's clock counts them.
export const dayKey = (date) => date.toDateString();

export function dayLabel(date, now) {
  if (dayKey(date) === dayKey(now)) return t('ui.widget.day.today');
  const yesterday = new Date(now.getFullYear(), now.getMonth(), now.getDate() - 1);
  if (dayKey(date) === dayKey(yesterday)) return t('ui.widget.day.yesterday');
  const options = date.getFullYear() === now.getFullYear() ? { month: 'long', day: 'numeric' } : { year: 'numeric', month: 'long', day: 'numeric' };
  return formatDate(date, options);
}

/** A line between the bubbles about the conversation itself (an agent joined or left). */
export function appendNote(text) {
  const note = el('div', { class: 'wub-note', 'data-testid': 'wub-note' }, [el('span', { class: 'wub-note-text', text })]);
  ui.log.append(note);
  state.lastSender = ''; // the next bubble shows its sender again
  state.lastRow = null;
  revealUpdate(note);
}

// Times as the user's clock shows them; the day is on the separator above.
export const formatTime = (date) => formatDate(date, { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });

function formatDate(date, options) {
  try {
    return new Intl.DateTimeFormat(t('ui.widget.lang'), options).format(date);
  } catch {
    return new Intl.DateTimeFormat(undefined, options).format(date);
  }
}

/** The next bubble starts a new group, and a new day shows its separator. */
export function resetGrouping() {
  state.lastSender = '';
  state.lastRow = null;
  state.lastAt = 0;
  state.lastDay = '';
  state.turnRows = [];
}
