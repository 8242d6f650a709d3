import { AGENT_TYPING_SHOWN_MS, HANDOFF_POLL_MS, USER_TYPING_EVERY_MS } from './config.js';
import { asText, el } from './dom.js';
import { t } from './labels.js';
import { scrollToEnd } from './notices.js';
import { setQuickReplies } from './quickReplies.js';
import { socketIsReady } from './socket.js';
import { state, ui } from './state.js';
import { appendMessage, appendNote, avatar, resyncTranscript, rowOfSeq } from './transcript.js';

// ---------------------------------------------------------------- handover to a human

export const withAgent = () => Boolean(state.handoff && state.handoff.status === 'assigned');
export const handedOver = () => Boolean(state.handoff && state.handoff.status !== 'resolved');

/** The note of an agent joining (name) or of the one on screen leaving (null), each shown once. */
export function markServing(name) {
  const current = state.servingAgent;
  if (current === name) return;
  if (current) appendNote(t('ui.widget.handoff.ended', { name: current }));
  state.servingAgent = name || null;
  if (name) appendNote(t('ui.widget.handoff.joined', { name }));
}

/** The agent is gone (resolved or handed back): the bot answers again. */
export function endAgentSession() {
  markServing(null);
  hideAgentTyping();
  if (state.handoff && state.handoff.status === 'assigned') state.handoff = { ...state.handoff, status: 'resolved' };
  renderHandoff();
}

export function receiveAgentLine(frame) {
  const agentName = asText(frame.agentName);
  if (Number.isInteger(frame.seq) && rowOfSeq(frame.seq)) return; // a resync showed it already
  // Said to this user, so someone holds the conversation even if the status frame was missed.
  if (!withAgent()) setHandoff({ ...(state.handoff || {}), status: 'assigned', agentName });
  markServing(agentName);
  // Messages sent before this were taken (an agent only answers what arrived).
  state.socketPending = state.socketPending.filter((pending) => !(pending.started && pending.toAgent));
  appendMessage('agent', asText(frame.text), { at: frame.at, agentName, seq: frame.seq });
}

/** A message to the agent that got no error in time was taken: it no longer answers an error frame. */
export function forgetPending(pending) {
  state.socketPending = state.socketPending.filter((other) => other !== pending);
}

/** Takes the server's view of the handover (a `handoff.status` frame or the conversation's `handoff`). */
export function setHandoff(view) {
  const valid = view && ['waiting', 'assigned', 'resolved'].includes(view.status);
  const next = valid
    ? {
        status: view.status,
        position: Number.isInteger(view.position) && view.position >= 0 ? view.position : null,
        agentName: asText(view.agentName),
        serviceHours: asText(view.serviceHours),
        available: view.available !== false,
      }
    : null;
  state.handoff = next;
  if (next && next.status === 'assigned' && next.agentName) {
    markServing(next.agentName);
    setQuickReplies([]); // the waiting buttons ("不等了…") no longer apply
  } else if (!next || next.status !== 'assigned') {
    markServing(null);
    hideAgentTyping();
  }
  renderHandoff();
  scheduleHandoffPoll();
}

/**
 * An agent writes whenever they like: without a socket to push it, the widget reads on from the
 * transcript every few seconds while the conversation is handed over.
 */
export function scheduleHandoffPoll() {
  clearTimeout(state.handoffPollTimer);
  if (!handedOver() || !state.conversation) return;
  const generation = state.generation;
  state.handoffPollTimer = setTimeout(async () => {
    if (generation !== state.generation) return;
    if (!socketIsReady()) await resyncTranscript();
    if (generation === state.generation) scheduleHandoffPoll();
  }, HANDOFF_POLL_MS);
}

/**
 * The strip above the messages while a conversation is handed over: where the user is in the
 * queue and the service hours, or that nobody is online (then without the waiting animation, since
 * nobody is coming soon), and a way back to the bot; once claimed, who is answering.
 */
export function renderHandoff() {
  const handoff = state.handoff;
  const status = handoff && handoff.status !== 'resolved' ? handoff.status : '';
  ui.handoff.hidden = !status;
  ui.handoff.dataset.status = status;
  ui.handoff.classList.toggle('wub-handoff--offline', status === 'waiting' && !handoff.available);
  if (!status) return;
  const hours = handoff.serviceHours ? t('ui.widget.handoff.hours', { hours: handoff.serviceHours }) : '';
  if (status === 'assigned') {
    const name = handoff.agentName;
    ui.handoffIcon.replaceChildren(avatar('agent', name || '?'));
    ui.handoffTitle.textContent = t('ui.widget.handoff.serving', { name });
    ui.handoffDetail.textContent = '';
    ui.handoffHours.textContent = '';
    ui.handoffCancel.hidden = true;
    return;
  }
  const position = handoff.position;
  ui.handoffIcon.replaceChildren(...(handoff.available ? [el('span', { class: 'wub-handoff-pulse' })] : [el('span', { class: 'wub-handoff-clock' })]));
  if (handoff.available) {
    ui.handoffTitle.textContent = t('ui.widget.handoff.waiting');
    ui.handoffDetail.textContent =
      position === null ? t('ui.widget.handoff.next') : position === 0 ? t('ui.widget.handoff.next') : t('ui.widget.handoff.position', { position });
  } else {
    ui.handoffTitle.textContent = t('ui.widget.handoff.nobody');
    ui.handoffDetail.textContent = t('ui.widget.handoff.queued', { position: position ?? 0 });
  }
  ui.handoffHours.textContent = hours;
  ui.handoffHours.hidden = !hours;
  ui.handoffCancel.hidden = false;
}

export function showAgentTyping() {
  if (!withAgent()) return;
  const name = state.handoff.agentName;
  ui.agentTypingFace.replaceChildren(avatar('agent', name || '?'));
  ui.agentTypingLabel.textContent = t('ui.widget.agentTyping', { name });
  ui.agentTyping.hidden = false;
  clearTimeout(state.agentTypingTimer);
  state.agentTypingTimer = setTimeout(hideAgentTyping, AGENT_TYPING_SHOWN_MS);
  scrollToEnd();
}

export function hideAgentTyping() {
  clearTimeout(state.agentTypingTimer);
  if (ui.agentTyping) ui.agentTyping.hidden = true;
}

/** While handed over, the agent sees that the user is typing; at most one frame every few seconds. */
export function sendUserTyping() {
  if (!handedOver() || state.typingUnsupported || !socketIsReady() || !ui.input.value.trim()) return;
  const now = Date.now();
  if (now - state.userTypingSentAt < USER_TYPING_EVERY_MS) return;
  state.userTypingSentAt = now;
  try {
    state.socket.send(JSON.stringify({ type: 'typing' }));
  } catch {
    // socket closing: typing is only a hint
  }
}
