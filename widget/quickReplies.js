import { sendMessage } from './conversation.js';
import { coarsePointer, el } from './dom.js';
import { scrollToEnd } from './notices.js';
import { state, ui } from './state.js';

export function setQuickReplies(replies) {
  state.quickReplies = replies;
  ui.quickReplies.replaceChildren(
    ...replies.map((reply) => {
      const button = el('button', { type: 'button', class: 'wub-quick-reply', text: reply.title });
      button.addEventListener('click', (event) => {
        // Keyboard users keep a focus; on touch screens focusing the input would pop up the keyboard.
        if (event.detail === 0 || !coarsePointer()) ui.input.focus({ preventScroll: true });
        sendMessage(reply.payload, reply.title);
      });
      return button;
    }),
  );
  ui.quickReplies.hidden = replies.length === 0;
  scrollToEnd();
}
