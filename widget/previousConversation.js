import { asText, el } from './dom.js';
import { conversationPath, isConversationGone, request } from './http.js';
import { t } from './labels.js';
import { state, ui } from './state.js';
import { forgetPreviousConversation, readPreviousConversation, storePreviousConversation } from './storage.js';
import { dayKey, daySeparator, messageRow, senderOf, stampOf } from './transcript.js';

// ---------------------------------------------------------------- the conversation before "新对话"

/**
 * Keeps the bubbles of the conversation being left readable above the new one, dimmed and inert:
 * its rating and buttons belonged to it. Only one conversation back is kept, here and in storage.
 */
export function keepAsPrevious(conversation) {
  const rows = [...ui.log.children].filter((node) => !node.matches('[data-testid="wub-rating"]'));
  for (const row of rows) {
    // The new conversation's lines are found by seq: the old ones must not answer to it.
    row.removeAttribute('data-seq');
    for (const button of row.querySelectorAll('button')) button.remove();
  }
  showPrevious(rows);
  storePreviousConversation(conversation);
  state.previousShown = true;
}

/** After a reload: the previous conversation's transcript, read-only, if the server still has it. */
export async function restorePrevious() {
  if (state.previousShown) return;
  state.previousShown = true;
  const previous = readPreviousConversation();
  if (!previous) return;
  try {
    const data = await request('GET', conversationPath(previous.id), { token: previous.token });
    const lines = Array.isArray(data.transcript) ? data.transcript.filter((line) => line && typeof line.text === 'string') : [];
    if (lines.length && !ui.root.querySelector('[data-testid="wub-previous"]')) showPrevious(rowsOf(lines));
  } catch (error) {
    if (isConversationGone(error)) forgetPreviousConversation(); // expired or deleted: nothing to show
    else state.previousShown = false; // offline: try again on the next start
  }
}

function rowsOf(lines) {
  const rows = [];
  let lastSender = '';
  let lastDay = '';
  for (const line of lines) {
    const role = line.role === 'agent' || line.role === 'user' ? line.role : 'bot';
    const agentName = typeof line.agentName === 'string' ? line.agentName : '';
    const stamp = stampOf(line.at);
    if (dayKey(stamp) !== lastDay) {
      rows.push(daySeparator(stamp));
      lastDay = dayKey(stamp);
      lastSender = '';
    }
    const sender = senderOf(role, agentName);
    const text = role === 'user' && typeof line.displayText === 'string' && line.displayText ? line.displayText : line.text;
    rows.push(messageRow(role, text, { stamp, agentName, first: sender !== lastSender, tone: asText(line.tone), picture: asText(line.picture) }));
    lastSender = sender;
  }
  return rows;
}

function showPrevious(rows) {
  for (const old of ui.root.querySelectorAll('[data-testid="wub-previous"], [data-testid="wub-previous-separator"]')) old.remove();
  // Outside the live log: moving it here must not be read out again as new messages.
  const previous = el('div', { class: 'wub-previous', 'data-testid': 'wub-previous', role: 'group', 'aria-label': t('ui.widget.previous.label') }, rows);
  const separator = el('div', { class: 'wub-previous-separator', 'data-testid': 'wub-previous-separator', role: 'separator' }, [
    el('span', { class: 'wub-previous-separator-text', text: t('ui.widget.previous.separator') }),
  ]);
  ui.log.before(previous, separator);
}
