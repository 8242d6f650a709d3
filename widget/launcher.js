/**
 * The launcher bubble while the panel is closed: a count of the bot's and agents' messages that
 * came since, and the first line of the newest one, so a reply to a closed panel is not missed.
 */
import { t } from './labels.js';
import { ui } from './state.js';

let unread = 0;

const panelShown = () => Boolean(ui.panel && !ui.panel.hidden);

export function noteArrival(role, text) {
  if (role === 'user' || panelShown() || !ui.badge) return;
  unread++;
  ui.badge.textContent = unread > 99 ? '99+' : String(unread);
  ui.badge.hidden = false;
  ui.bubble.setAttribute('aria-label', t('ui.widget.launcher.unread', { count: unread }));
  ui.previewText.textContent = text.trim().split('\n')[0];
  ui.preview.hidden = false;
}

export function clearUnread() {
  unread = 0;
  if (!ui.badge) return;
  ui.badge.hidden = true;
  ui.badge.textContent = '';
  ui.preview.hidden = true;
  ui.previewText.textContent = '';
}
