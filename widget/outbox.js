/**
 * Messages the network did not carry. Their bubble stays, marked as not sent with a retry button,
 * and they go out again, in order, when the connection is back (the browser's `online`, a socket
 * that opens again) or when the user taps retry. Each keeps the clientMessageId it was first sent
 * with, so a message that did reach the server before the line dropped is answered as the first
 * time instead of being said twice.
 */
import { el } from './dom.js';
import { t } from './labels.js';
import { state } from './state.js';

/** An id for one message, unique enough to tell its resends from other messages of the conversation. */
export function newClientMessageId() {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (byte) => 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'[byte & 63]).join('');
}

/** Marks a bubble as waiting for the network, with a retry button that calls `retry`. */
export function holdMessage(message, retry) {
  state.outbox.push(message);
  const row = message.row;
  row.classList.add('wub-row--failed');
  row.querySelector('.wub-failed')?.remove();
  const button = el('button', { type: 'button', class: 'wub-retry', 'data-testid': 'wub-retry', text: t('ui.widget.retry') });
  button.addEventListener('click', () => retry());
  const failed = el('div', { class: 'wub-failed', 'data-testid': 'wub-failed', role: 'status' }, [
    el('span', { class: 'wub-failed-text', text: t('ui.widget.notSent') }),
    button,
  ]);
  row.querySelector('.wub-stack')?.append(failed);
}

/** The bubble went out after all: it looks like any other. */
export function releaseMessage(message) {
  state.outbox = state.outbox.filter((other) => other !== message);
  message.row.classList.remove('wub-row--failed');
  message.row.querySelector('.wub-failed')?.remove();
}

/** Whether the browser says it is offline (buttons are dimmed and taps wait in the outbox). */
export const offline = () => typeof navigator === 'object' && navigator.onLine === false;
