import { showFailure } from './conversation.js';
import { coarsePointer, el } from './dom.js';
import { conversationPath, request } from './http.js';
import { t } from './labels.js';
import { clearNotice, scrollToEnd } from './notices.js';
import { state, ui } from './state.js';

// ---------------------------------------------------------------- rating

/**
 * Puts the one-tap "was this helpful?" row right under a bot message. `answerSeq` names that
 * answer to the server, so the rating lands on it even if more was said before the tap.
 */
export function offerRating(messageRow, answerSeq) {
  withdrawRatingOffer();
  const generation = state.generation;
  const questionId = `wub-rating-question-${++state.ratingCount}`;
  const question = el('span', { id: questionId, class: 'wub-rating-question', text: t('ui.widget.rating.question') });
  const helpful = el('button', {
    type: 'button',
    class: 'wub-rate',
    'data-testid': 'wub-rate-helpful',
    text: t('ui.widget.rating.helpful'),
  });
  const notHelpful = el('button', {
    type: 'button',
    class: 'wub-rate',
    'data-testid': 'wub-rate-not-helpful',
    text: t('ui.widget.rating.notHelpful'),
  });
  const buttons = el('div', { class: 'wub-rating-buttons', role: 'group', 'aria-labelledby': questionId }, [helpful, notHelpful]);
  // Present (and empty) from the start, so screen readers announce the thanks when it is filled in.
  const thanks = el('span', { class: 'wub-rating-thanks', role: 'status', 'aria-live': 'polite', 'data-testid': 'wub-rating-thanks' });
  const row = el('div', { class: 'wub-rating', 'data-testid': 'wub-rating' }, [question, buttons, thanks]);

  let sending = false;
  let failed = false;
  const rate = async (isHelpful, event) => {
    if (sending || state.ratingOffer !== row || generation !== state.generation || !state.conversation) return;
    sending = true;
    row.setAttribute('aria-busy', 'true');
    const { id, token } = state.conversation;
    try {
      const body = Number.isInteger(answerSeq) ? { helpful: isHelpful, answerSeq } : { helpful: isHelpful };
      await request('POST', conversationPath(id, '/rating'), { body, token });
    } catch (error) {
      sending = false;
      row.removeAttribute('aria-busy');
      if (generation !== state.generation || state.ratingOffer !== row) return;
      failed = true;
      showFailure(error); // the buttons stay, so the user can tap again
      return;
    }
    if (failed) {
      clearNotice('error');
      clearNotice('connection');
    }
    if (generation !== state.generation || !row.isConnected) return;
    if (state.ratingOffer === row) state.ratingOffer = null;
    // The focused button is about to go; keyboard users continue in the input, as after a quick reply.
    const hadFocus = row.contains(document.activeElement);
    question.remove();
    buttons.remove();
    row.removeAttribute('aria-busy');
    row.classList.add('wub-rating--done');
    thanks.textContent = t('ui.widget.rating.thanks');
    if (hadFocus && (event.detail === 0 || !coarsePointer())) ui.input.focus({ preventScroll: true });
  };
  helpful.addEventListener('click', (event) => rate(true, event));
  notHelpful.addEventListener('click', (event) => rate(false, event));

  messageRow.after(row);
  state.ratingOffer = row;
  scrollToEnd();
}

/** A newer answer makes an unanswered rating row stale: remove it. */
export function withdrawRatingOffer() {
  if (state.ratingOffer) state.ratingOffer.remove();
  state.ratingOffer = null;
}
