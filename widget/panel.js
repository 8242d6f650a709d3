import { COMPACT_BELOW_PX } from './config.js';
import { ensureStarted, sendMessage } from './conversation.js';
import { coarsePointer, el } from './dom.js';
import { sendUserTyping } from './handoff.js';
import { chatIcon, closeIcon } from './icons.js';
import { t } from './labels.js';
import { requestNewConversation } from './newConversation.js';
import { clearNotice, scrollToEnd } from './notices.js';
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
    [chatIcon(), closeIcon()],
  );

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

  ui.sketch = el('div', { class: 'wub-sketch', 'data-testid': 'wub-sketch' });
  ui.progressStep = el('div', { class: 'wub-progress-step' });
  ui.progressHint = el('div', { class: 'wub-progress-hint' });
  ui.progressFill = el('div', { class: 'wub-progress-fill' });
  ui.progress = el('div', { class: 'wub-progress', 'data-testid': 'wub-progress', hidden: true }, [
    ui.sketch,
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

  ui.input = el('input', {
    id: 'wub-input',
    class: 'wub-input',
    type: 'text',
    'data-testid': 'wub-input',
    placeholder: t('ui.widget.placeholder'),
    autocomplete: 'off',
    enterkeyhint: 'send',
  });
  ui.send = el('button', { type: 'button', class: 'wub-send', 'data-testid': 'wub-send', text: t('ui.widget.send') });

  ui.panel = el(
    'div',
    { id: 'wub-panel', class: 'wub-panel', role: 'region', 'aria-label': t('ui.widget.title'), 'data-testid': 'wub-panel', hidden: true },
    [
      el('div', { class: 'wub-header' }, [
        el('div', { class: 'wub-title', text: t('ui.widget.title') }),
        ui.newButton,
        ui.closeButton,
      ]),
      ui.progress,
      ui.handoff,
      ui.scroller,
      ui.notice,
      el('div', { class: 'wub-composer' }, [
        el('label', { class: 'wub-visually-hidden', for: 'wub-input', text: t('ui.widget.inputLabel') }),
        ui.input,
        ui.send,
      ]),
    ],
  );

  ui.root = el('div', { class: 'wub-root', lang: t('ui.widget.lang') }, [ui.panel, ui.bubble]);
  document.body.append(ui.root);
  wireEvents();
  syncViewport();
}

export function wireEvents() {
  ui.bubble.addEventListener('click', () => (isOpen() ? close() : open()));
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
  ui.root.style.setProperty('--wub-vv-height', `${viewport.height}px`);
  ui.root.style.setProperty('--wub-vv-top', `${viewport.offsetTop}px`);
  ui.root.classList.add('wub-vv');
  ui.panel.classList.toggle('wub-compact', viewport.height < COMPACT_BELOW_PX);
  if (isOpen()) scrollToEnd();
}

export function submitInput() {
  const text = ui.input.value.trim();
  if (!text) {
    ui.input.focus();
    return;
  }
  ui.input.value = '';
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
  }
  ui.input.focus({ preventScroll: true });
  scrollToEnd();
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

