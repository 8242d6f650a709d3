import { startOver } from './conversation.js';
import { el, keepKeysInside } from './dom.js';
import { t } from './labels.js';
import { keepAsPrevious } from './previousConversation.js';
import { state, ui } from './state.js';

// ---------------------------------------------------------------- "新对话"

/**
 * Whether "新对话" would throw away something: the user said anything, is in the unbinding steps,
 * or is handed to a person. A conversation that is only the greeting starts over without asking.
 */
export const conversationInProgress = () =>
  Boolean(ui.log.querySelector('.wub-row--user') || (ui.progress && !ui.progress.hidden) || state.handoff);

export function requestNewConversation() {
  if (ui.confirm) return;
  if (!conversationInProgress()) {
    startNewConversation();
    return;
  }
  askToConfirm();
}

function startNewConversation() {
  if (state.conversation && ui.log.querySelector('.wub-row--user, .wub-row--agent')) keepAsPrevious(state.conversation);
  startOver();
  ui.input.focus({ preventScroll: true });
}

/** An inline dialog inside the panel (not window.confirm, which some in-app browsers block). */
function askToConfirm() {
  const titleId = 'wub-confirm-title';
  const detailId = 'wub-confirm-detail';
  const confirm = el('button', { type: 'button', class: 'wub-confirm-button wub-confirm-button--primary', 'data-testid': 'wub-confirm-new', text: t('ui.widget.newConfirm.confirm') });
  const cancel = el('button', { type: 'button', class: 'wub-confirm-button', 'data-testid': 'wub-confirm-cancel', text: t('ui.widget.newConfirm.cancel') });
  const sheet = el(
    'div',
    { class: 'wub-confirm-sheet', role: 'alertdialog', 'aria-modal': 'true', 'aria-labelledby': titleId, 'aria-describedby': detailId, 'data-testid': 'wub-confirm' },
    [
      el('div', { id: titleId, class: 'wub-confirm-title', text: t('ui.widget.newConfirm.title') }),
      el('div', { id: detailId, class: 'wub-confirm-detail', text: t('ui.widget.newConfirm.detail') }),
      el('div', { class: 'wub-confirm-buttons' }, [cancel, confirm]),
    ],
  );
  const backdrop = el('div', { class: 'wub-confirm' }, [sheet]);
  const dismiss = (then) => {
    backdrop.remove();
    ui.confirm = null;
    then();
  };
  const backToButton = () => ui.newButton.focus({ preventScroll: true });
  confirm.addEventListener('click', () => dismiss(startNewConversation));
  cancel.addEventListener('click', () => dismiss(backToButton));
  backdrop.addEventListener('click', (click) => {
    if (click.target === backdrop) dismiss(backToButton);
  });
  keepKeysInside(backdrop, [cancel, confirm], () => dismiss(backToButton));
  ui.confirm = backdrop;
  ui.panel.append(backdrop);
  // The harmless choice has the focus, so a stray Enter keeps the conversation.
  cancel.focus({ preventScroll: true });
}
