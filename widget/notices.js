import { revealUpdate } from './scroll.js';
import { notices, ui } from './state.js';

export function showTyping(visible) {
  ui.typing.hidden = !visible;
  if (visible) scrollToEnd();
}

export function setNotice(kind, text) {
  notices.delete(kind);
  notices.set(kind, text);
  renderNotice();
}

export function clearNotice(kind) {
  if (notices.delete(kind)) renderNotice();
}

export function renderNotice() {
  const kinds = [...notices.keys()];
  const kind = kinds[kinds.length - 1];
  ui.notice.hidden = !kind;
  ui.notice.textContent = kind ? notices.get(kind) : '';
  ui.notice.dataset.kind = kind || '';
}

/**
 * Something was added below the transcript (typing dots, quick replies, a rating): follow it only
 * if the user is at the end (scroll.js). The name stays for the modules that call it.
 */
export function scrollToEnd() {
  revealUpdate();
}
