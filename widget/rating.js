import { coarsePointer, el } from './dom.js';
import { conversationPath, request } from './http.js';
import { t } from './labels.js';
import { clearNotice, scrollToEnd } from './notices.js';
import { sendMessage, showFailure } from './conversation.js';
import { state, ui } from './state.js';
import { rowOfSeq } from './transcript.js';

// ---------------------------------------------------------------- rating

/**
 * Puts the one-tap "was this helpful?" row right under the answer it rates. `answerSeq` names that
 * answer to the server, so the rating lands on it even if more was said before the tap; an FAQ
 * asked mid-flow is followed by a reminder of the step, so the answer is not always the turn's
 * last reply (`messageRow`): it is the bubble of that seq, or the turn's reply at `answerIndex`.
 */
export function offerRating(messageRow, answerSeq, answerIndex) {
  withdrawRatingOffer();
  const answerRow =
    (Number.isInteger(answerSeq) && rowOfSeq(answerSeq)) || (Number.isInteger(answerIndex) && state.turnRows[answerIndex]) || messageRow;
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
    if (isHelpful) {
      thanks.textContent = t('ui.widget.rating.thanks');
      if (hadFocus && (event.detail === 0 || !coarsePointer())) ui.input.focus({ preventScroll: true });
      return;
    }
    thanks.textContent = `${t('ui.widget.rating.thanks')}${t('ui.widget.rating.sorry')}`;
    const next = notHelpfulFollowUp(generation);
    row.append(next);
    if (hadFocus) next.querySelector('button').focus({ preventScroll: true });
    scrollToEnd();
  };
  helpful.addEventListener('click', (event) => rate(true, event));
  notHelpful.addEventListener('click', (event) => rate(false, event));

  answerRow.after(row);
  state.ratingOffer = row;
  scrollToEnd();
}

/** A newer answer makes an unanswered rating row stale: remove it. */
export function withdrawRatingOffer() {
  if (state.ratingOffer) state.ratingOffer.remove();
  state.ratingOffer = null;
}

/**
 * "没帮助" should not be a dead end: ask again in other words (the input, with a hint), or a person
 * (the same request as the bot's own "转人工客服" button).
 */
function notHelpfulFollowUp(generation) {
  const rephrase = el('button', { type: 'button', class: 'wub-rate wub-rate--next', 'data-testid': 'wub-rate-rephrase', text: t('ui.widget.rating.rephrase') });
  const human = el('button', { type: 'button', class: 'wub-rate wub-rate--next', 'data-testid': 'wub-rate-human', text: t('ui.widget.rating.human') });
  const group = el('div', { class: 'wub-rating-buttons', role: 'group', 'aria-label': t('ui.widget.rating.sorry') }, [rephrase, human]);
  rephrase.addEventListener('click', () => {
    const placeholder = ui.input.placeholder;
    ui.input.placeholder = t('ui.widget.rating.rephraseHint');
    // The hint is for this question only: once the user types, the usual placeholder is back for next time.
    ui.input.addEventListener('input', () => (ui.input.placeholder = placeholder), { once: true });
    ui.input.focus({ preventScroll: true });
  });
  human.addEventListener('click', (event) => {
    if (generation !== state.generation) return;
    group.remove();
    if (event.detail === 0 || !coarsePointer()) ui.input.focus({ preventScroll: true });
    sendMessage('/contact_human', t('ui.widget.rating.human'));
  });
  return group;
}
