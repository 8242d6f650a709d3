/**
 * What the widget does when the phone loses and regains its connection: buttons look unavailable
 * while offline, with a line saying why (a tap still waits in the outbox rather than vanishing),
 * and what waited is sent as soon as the browser says it is back.
 */
import { flushOutbox } from './conversation.js';
import { t } from './labels.js';
import { setNotice } from './notices.js';
import { offline } from './outbox.js';
import { ui } from './state.js';

export function watchNetwork() {
  const mark = () => {
    ui.root.classList.toggle('wub-offline', offline());
    // Dimmed buttons alone would look broken; the panel's `online` handler clears the line.
    if (offline()) setNotice('connection', t('ui.widget.offline'));
  };
  window.addEventListener('offline', mark);
  window.addEventListener('online', () => {
    mark();
    flushOutbox();
  });
  mark();
}
