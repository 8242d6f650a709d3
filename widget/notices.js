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

export function scrollToEnd() {
  ui.scroller.scrollTop = ui.scroller.scrollHeight;
}
