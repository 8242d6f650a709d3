/**
 * The panel's fixed labels, set again in the conversation's script when it changes (a Taiwan reader
 * whose browser says zh-CN types traditional: the title, buttons and placeholder follow the answers).
 * Bubbles already on screen keep their words: they are what was said.
 */
import { renderHandoff } from './handoff.js';
import { onScriptChange, t } from './labels.js';
import { isOpen } from './panel.js';
import { ui } from './state.js';

const CHROME = [
  [() => ui.newButton, 'text', 'ui.widget.newConversation'],
  [() => ui.closeButton, 'aria-label', 'ui.widget.close'],
  [() => ui.log, 'aria-label', 'ui.widget.log'],
  [() => ui.typing, 'aria-label', 'ui.widget.typing'],
  [() => ui.typing.querySelector('.wub-visually-hidden'), 'text', 'ui.widget.typing'],
  [() => ui.quickReplies, 'aria-label', 'ui.widget.quickReplies'],
  [() => ui.handoff, 'aria-label', 'ui.widget.handoff.label'],
  [() => ui.handoffCancel, 'text', 'ui.widget.handoff.cancel'],
  [() => ui.input, 'placeholder', 'ui.widget.placeholder'],
  [() => ui.send, 'text', 'ui.widget.send'],
  [() => ui.panel, 'aria-label', 'ui.widget.title'],
  [() => ui.panel.querySelector('.wub-title'), 'text', 'ui.widget.title'],
  [() => ui.panel.querySelector('label[for="wub-input"]'), 'text', 'ui.widget.inputLabel'],
  [() => ui.root, 'lang', 'ui.widget.lang'],
  [() => ui.bubble, 'aria-label', () => (isOpen() ? 'ui.widget.close' : 'ui.widget.open')],
];

export function relabelChrome() {
  for (const [nodeOf, attribute, keyOf] of CHROME) {
    const node = nodeOf();
    if (!node) continue;
    const text = t(typeof keyOf === 'function' ? keyOf() : keyOf);
    if (attribute === 'text') node.textContent = text;
    else node.setAttribute(attribute, text);
  }
  renderHandoff();
}

export const followScriptInChrome = () => onScriptChange(relabelChrome);
