import { COMPACT_BELOW_PX } from './config.js';
import { ensureStarted, sendMessage } from './conversation.js';
import { coarsePointer, el } from './dom.js';
import { sendUserTyping } from './handoff.js';
import { chatIcon, closeIcon } from './icons.js';
import { t } from './labels.js';
import { checkLength, onComposerInput, resetComposer } from './composer.js';
import { clearUnread } from './launcher.js';
import { clearNotice } from './notices.js';
import { isFollowingEnd, keepPlaceOnResize, onPanelOpened, scrollToNewMessages, watchScrolling } from './scroll.js';
import { requestNewConversation } from './newConversation.js';
import { reconnectAfterIdle, reconnectNow } from './socket.js';
import { state, ui } from './state.js';

// ---------------------------------------------------------------- DOM

export function build() {
  ui.bubble = el(
    'button',
    {
      type: 'button',
      class: 'wub-bubble',
      'data-testid': 'wub-bubble',
      'aria-label': t('ui.widget.open'),
      'aria-expanded': 'false',
      'aria-controls': 'wub-panel',
    },
    [chatIcon(), closeIcon(), (ui.badge = el('span', { class: 'wub-badge', 'data-testid': 'wub-badge', 'aria-hidden': 'true', hidden: true }))],
  );
  ui.previewText = el('span', { class: 'wub-preview-text' });
  ui.preview = el('button', { type: 'button', class: 'wub-preview', 'data-testid': 'wub-preview', hidden: true }, [ui.previewText]);

  ui.newButton = el('button', {
    type: 'button',
    class: 'wub-header-button wub-new',
    'data-testid': 'wub-new',
    text: t('ui.widget.newConversation'),
  });
  ui.closeButton = el(
    'button',
    { type: 'button', class: 'wub-header-button wub-close', 'data-testid': 'wub-close', 'aria-label': t('ui.widget.close') },
    [closeIcon()],
  );

  ui.progressStep = el('div', { class: 'wub-progress-step' });
  ui.progressHint = el('div', { class: 'wub-progress-hint' });
  ui.progressFill = el('div', { class: 'wub-progress-fill' });
  ui.progressDone = el('span', { class: 'wub-visually-hidden' });
  // The step's picture is inside its message (stepPictures.js), so the strip stays one slim line on phones.
  ui.progress = el('div', { class: 'wub-progress', 'data-testid': 'wub-progress', hidden: true }, [
    el('div', { class: 'wub-progress-text' }, [
      ui.progressStep,
      ui.progressHint,
      el('div', { class: 'wub-progress-bar', 'aria-hidden': 'true' }, [ui.progressFill]),
    ]),
  ]);

  ui.log = el('div', {
    class: 'wub-log',
    role: 'log',
    'aria-live': 'polite',
    'aria-label': t('ui.widget.log'),
    'data-testid': 'wub-log',
  });
  ui.typing = el(
    'div',
    { class: 'wub-typing', role: 'status', 'aria-label': t('ui.widget.typing'), 'data-testid': 'wub-typing', hidden: true },
    [
      el('span', { class: 'wub-dot', 'aria-hidden': 'true' }),
      el('span', { class: 'wub-dot', 'aria-hidden': 'true' }),
      el('span', { class: 'wub-dot', 'aria-hidden': 'true' }),
      el('span', { class: 'wub-visually-hidden', text: t('ui.widget.typing') }),
    ],
  );
  ui.agentTypingFace = el('span', { class: 'wub-agent-typing-face' });
  ui.agentTypingLabel = el('span', { class: 'wub-visually-hidden' });
  ui.agentTyping = el('div', { class: 'wub-agent-typing', role: 'status', 'data-testid': 'wub-agent-typing', hidden: true }, [
    ui.agentTypingFace,
    el('span', { class: 'wub-typing wub-typing--agent', 'aria-hidden': 'true' }, [
      el('span', { class: 'wub-dot' }),
      el('span', { class: 'wub-dot' }),
      el('span', { class: 'wub-dot' }),
    ]),
    ui.agentTypingLabel,
  ]);
  ui.quickReplies = el('div', {
    class: 'wub-quick-replies',
    role: 'group',
    'aria-label': t('ui.widget.quickReplies'),
    'data-testid': 'wub-quick-replies',
    hidden: true,
  });
  ui.scroller = el('div', { class: 'wub-scroll', tabindex: '-1' }, [ui.log, ui.typing, ui.agentTyping, ui.quickReplies]);
  ui.newMessages = el('button', {
    type: 'button',
    class: 'wub-new-messages',
    'data-testid': 'wub-new-messages',
    text: t('ui.widget.newMessages'),
    hidden: true,
  });
  // The pill floats over the transcript's lower edge, outside the scroller so it does not scroll away.
  const scrollArea = el('div', { class: 'wub-scroll-area' }, [ui.scroller, ui.newMessages]);

  ui.handoffIcon = el('div', { class: 'wub-handoff-icon', 'aria-hidden': 'true' });
  ui.handoffTitle = el('div', { class: 'wub-handoff-title', 'data-testid': 'wub-handoff-title' });
  ui.handoffDetail = el('div', { class: 'wub-handoff-detail', 'data-testid': 'wub-handoff-detail' });
  ui.handoffHours = el('div', { class: 'wub-handoff-hours', 'data-testid': 'wub-handoff-hours' });
  ui.handoffCancel = el('button', {
    type: 'button',
    class: 'wub-handoff-cancel',
    'data-testid': 'wub-handoff-cancel',
    text: t('ui.widget.handoff.cancel'),
  });
  ui.handoff = el(
    'div',
    { class: 'wub-handoff', role: 'status', 'aria-label': t('ui.widget.handoff.label'), 'data-testid': 'wub-handoff', hidden: true },
    [ui.handoffIcon, el('div', { class: 'wub-handoff-text' }, [ui.handoffTitle, ui.handoffDetail, ui.handoffHours]), ui.handoffCancel],
  );

  ui.notice = el('div', { class: 'wub-notice', role: 'status', 'data-testid': 'wub-notice', hidden: true });

  ui.input = el('textarea', {
    id: 'wub-input',
    class: 'wub-input',
    rows: '1',
    'data-testid': 'wub-input',
    placeholder: t('ui.widget.placeholder'),
    autocomplete: 'off',
    enterkeyhint: 'send',
    'aria-describedby': 'wub-counter',
  });
  ui.counter = el('div', { id: 'wub-counter', class: 'wub-counter', 'data-testid': 'wub-counter', hidden: true });
  ui.send = el('button', { type: 'button', class: 'wub-send', 'data-testid': 'wub-send', text: t('ui.widget.send') });

  ui.panel = el(
    'div',
    { id: 'wub-panel', class: 'wub-panel', role: 'dialog', 'aria-label': t('ui.widget.title'), 'data-testid': 'wub-panel', hidden: true },
    [
      el('div', { class: 'wub-header' }, [
        el('div', { class: 'wub-title', text: t('ui.widget.title') }),
        ui.newButton,
        ui.closeButton,
      ]),
      ui.progress,
      ui.handoff,
      scrollArea,
      ui.notice,
      ui.counter,
      el('div', { class: 'wub-composer' }, [
        el('label', { class: 'wub-visually-hidden', for: 'wub-input', text: t('ui.widget.inputLabel') }),
        ui.input,
        ui.send,
      ]),
    ],
  );

  ui.root = el('div', { class: 'wub-root', lang: t('ui.widget.lang') }, [ui.panel, ui.preview, ui.bubble]);
  document.body.append(ui.root);
  wireEvents();
  syncDialogModality();
  syncViewport();
}

// Below this width the panel covers the whole screen (widget.css, "phones"): the page behind cannot
// be seen or used, so the panel is a modal dialog and Tab stays in it. On a desktop the panel sits
// beside a page that stays usable, so it is a non-modal dialog and Tab may leave it for the page.
const fullScreenPanel = window.matchMedia('(max-width: 480px)');

export function syncDialogModality() {
  if (fullScreenPanel.matches) ui.panel.setAttribute('aria-modal', 'true');
  else ui.panel.removeAttribute('aria-modal');
}

const tabbableInPanel = () =>
  [...ui.panel.querySelectorAll('button, textarea, input, a[href], [tabindex]:not([tabindex="-1"])')].filter(
    (node) => !node.disabled && node.getClientRects().length > 0,
  );

function trapFocus(event) {
  if (event.key !== 'Tab' || !isOpen() || !fullScreenPanel.matches) return;
  const tabbable = tabbableInPanel();
  if (!tabbable.length) return;
  const first = tabbable[0];
  const last = tabbable[tabbable.length - 1];
  const focus = document.activeElement;
  const inside = ui.panel.contains(focus);
  if (!inside || (event.shiftKey ? focus === first : focus === last)) {
    event.preventDefault();
    (event.shiftKey ? last : first).focus();
  }
}

export function wireEvents() {
  ui.bubble.addEventListener('click', () => (isOpen() ? close() : open()));
  ui.preview.addEventListener('click', () => open());
  ui.newMessages.addEventListener('click', scrollToNewMessages);
  watchScrolling();
  ui.input.addEventListener('input', onComposerInput);
  document.addEventListener('keydown', trapFocus);
  fullScreenPanel.addEventListener('change', syncDialogModality);
  ui.closeButton.addEventListener('click', () => close());
  ui.newButton.addEventListener('click', requestNewConversation);
  ui.send.addEventListener('click', submitInput);
  ui.input.addEventListener('input', sendUserTyping);
  ui.input.addEventListener('focus', reconnectAfterIdle);
  ui.input.addEventListener('input', reconnectAfterIdle);
  ui.handoffCancel.addEventListener('click', (event) => {
    if (event.detail === 0 || !coarsePointer()) ui.input.focus({ preventScroll: true });
    sendMessage('/cancel', t('ui.widget.handoff.cancel'));
  });

  let composing = false; // Enter that commits an IME candidate must not send
  ui.input.addEventListener('compositionstart', () => {
    composing = true;
  });
  ui.input.addEventListener('compositionend', () => {
    composing = false;
  });
  ui.input.addEventListener('keydown', (event) => {
    if (event.key !== 'Enter' || event.shiftKey) return;
    if (composing || event.isComposing || event.keyCode === 229) return;
    event.preventDefault();
    submitInput();
  });

  document.addEventListener('keydown', (event) => {
    if (event.key !== 'Escape' || event.isComposing || !isOpen()) return;
    const focus = document.activeElement;
    if (focus && focus !== document.body && !ui.root.contains(focus)) return; // the host page's Esc
    event.preventDefault();
    close();
    ui.bubble.focus();
  });

  window.addEventListener('online', () => {
    clearNotice('connection');
    if (state.conversation) reconnectNow();
    else if (isOpen()) ensureStarted();
  });
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible') reconnectNow(); // phones drop sockets in the background
  });

  if (window.visualViewport) {
    window.visualViewport.addEventListener('resize', syncViewport);
    window.visualViewport.addEventListener('scroll', syncViewport);
  }
}

// On phones the panel follows the visual viewport, so the on-screen keyboard never covers the input.
export function syncViewport() {
  const viewport = window.visualViewport;
  if (!viewport || !ui.root) return;
  const wasFollowingEnd = isFollowingEnd();
  ui.root.style.setProperty('--wub-vv-height', `${viewport.height}px`);
  ui.root.style.setProperty('--wub-vv-top', `${viewport.offsetTop}px`);
  ui.root.classList.add('wub-vv');
  ui.panel.classList.toggle('wub-compact', viewport.height < COMPACT_BELOW_PX);
  if (isOpen()) keepPlaceOnResize(wasFollowingEnd);
}

export function submitInput() {
  const text = ui.input.value.trim();
  if (!text) {
    ui.input.focus();
    return;
  }
  if (!checkLength()) {
    ui.input.focus();
    return;
  }
  ui.input.value = '';
  resetComposer();
  sendMessage(text);
}

export const isOpen = () => Boolean(ui.panel && !ui.panel.hidden);

export function open() {
  if (!ui.panel) {
    state.openRequested = true;
    return;
  }
  if (!isOpen()) {
    ui.panel.hidden = false;
    ui.root.classList.add('wub-open');
    ui.bubble.setAttribute('aria-expanded', 'true');
    ui.bubble.setAttribute('aria-label', t('ui.widget.close'));
    syncViewport();
    clearUnread();
  }
  // On touch screens focusing the input pops up the keyboard over the greeting and its quick
  // replies; the transcript takes the focus instead, so the dialog still holds it.
  if (coarsePointer()) ui.scroller.focus({ preventScroll: true });
  else ui.input.focus({ preventScroll: true });
  onPanelOpened();
  ensureStarted();
}

export function close() {
  if (!ui.panel) {
    state.openRequested = false;
    return;
  }
  if (!isOpen()) return;
  const hadFocus = ui.panel.contains(document.activeElement);
  ui.panel.hidden = true;
  ui.root.classList.remove('wub-open');
  ui.bubble.setAttribute('aria-expanded', 'false');
  ui.bubble.setAttribute('aria-label', t('ui.widget.open'));
  if (hadFocus) ui.bubble.focus();
}

