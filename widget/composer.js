/**
 * The message box: a textarea that grows with the text up to a few lines, and a counter that
 * appears near the server's length limit, so a long message is trimmed before it is refused.
 */
import { t } from './labels.js';
import { clearNotice, setNotice } from './notices.js';
import { ui } from './state.js';

export const MAX_MESSAGE_CHARACTERS = 1000; // the server's limit (maxMessageLength in src/dialogue/dialogueEngine.ts)
const COUNTER_FROM_REMAINING = 100;

// The server counts code points (an emoji is one character), of the text the widget sends: trimmed.
export const charactersOf = (text) => [...text.trim()].length;

export const charactersOver = () => Math.max(0, charactersOf(ui.input.value) - MAX_MESSAGE_CHARACTERS);

/** Height follows the text; CSS max-height caps it at about five lines, then the box scrolls. */
export function fitInputHeight() {
  const input = ui.input;
  input.style.height = 'auto';
  const borders = input.offsetHeight - input.clientHeight;
  input.style.height = `${input.scrollHeight + borders}px`;
}

export function updateCounter() {
  const remaining = MAX_MESSAGE_CHARACTERS - charactersOf(ui.input.value);
  const over = remaining < 0;
  ui.counter.hidden = remaining > COUNTER_FROM_REMAINING;
  ui.counter.classList.toggle('wub-counter--over', over);
  ui.counter.textContent = ui.counter.hidden
    ? ''
    : over
      ? t('ui.widget.composer.over', { count: -remaining })
      : t('ui.widget.composer.remaining', { count: remaining });
  if (over) ui.input.setAttribute('aria-invalid', 'true');
  else {
    ui.input.removeAttribute('aria-invalid');
    clearNotice('tooLong');
  }
}

export function onComposerInput() {
  fitInputHeight();
  updateCounter();
}

/** False (and the user told how much to cut) when the text is over the limit: it stays in the box. */
export function checkLength() {
  const over = charactersOver();
  if (!over) return true;
  setNotice('tooLong', t('ui.widget.composer.tooLong', { max: MAX_MESSAGE_CHARACTERS, count: over }));
  return false;
}

export function resetComposer() {
  fitInputHeight();
  updateCounter();
}
