import { SVG_NS } from './config.js';

export function el(tag, attrs = {}, children = []) {
  const node = document.createElement(tag);
  setAttributes(node, attrs);
  node.append(...children);
  return node;
}

export function svg(tag, attrs = {}, children = []) {
  const node = document.createElementNS(SVG_NS, tag);
  setAttributes(node, attrs);
  node.append(...children);
  return node;
}

export function setAttributes(node, attrs) {
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'text') node.textContent = String(value);
    else node.setAttribute(name, value === true ? '' : String(value));
  }
}

export const asText = (value) => (typeof value === 'string' ? value : '');


export const coarsePointer = () => window.matchMedia && window.matchMedia('(pointer: coarse)').matches;

export const withTimeout = (promise, ms, fallback) =>
  Promise.race([promise, new Promise((resolve) => setTimeout(() => resolve(fallback), ms))]);

/**
 * Keys inside a dialog drawn over the panel (the "新对话" question, an enlarged picture): Esc closes
 * the dialog, not the panel behind it, and Tab / Shift+Tab go round the dialog's own buttons.
 */
export function keepKeysInside(dialog, buttons, onEscape) {
  dialog.addEventListener('keydown', (key) => {
    if (key.key === 'Escape' && !key.isComposing) {
      key.preventDefault();
      key.stopPropagation();
      onEscape();
    } else if (key.key === 'Tab') {
      key.preventDefault();
      key.stopPropagation(); // the panel's own focus trap must not move it on
      const at = buttons.indexOf(document.activeElement);
      buttons[at === -1 ? 0 : (at + (key.shiftKey ? buttons.length - 1 : 1)) % buttons.length].focus();
    }
  });
}
