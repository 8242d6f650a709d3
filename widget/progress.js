import { t } from './labels.js';
import { state, ui } from './state.js';
import { stepTarget } from './stepPictures.js';

const ENDINGS = { done: 'ui.widget.progress.done', cancelled: 'ui.widget.progress.cancelled', handed_off: 'ui.widget.progress.handedOff', stopped: 'ui.widget.progress.stopped' };
const PHASES = { verification: 'ui.widget.progress.verification', confirmation: 'ui.widget.progress.confirmation' };

/**
 * The strip above the messages while the unbinding runs. The bar counts the steps the user has
 * completed (the server's `completed`), so it is full only once the unbinding is done, not at step 7
 * before verification and confirmation; the turn that ends the unbinding shows how it ended
 * (✓, 已取消, 已转人工) instead of the strip vanishing, until the conversation moves on.
 */
export function setProgress(progress) {
  const valid =
    progress && Number.isInteger(progress.step) && Number.isInteger(progress.total) && progress.total > 0 && progress.step > 0;
  state.progress = valid ? progress : null;
  ui.progress.hidden = !valid;
  if (!valid) {
    state.progressKey = '';
    return;
  }
  const { step, total } = progress;
  const status = typeof progress.status === 'string' ? progress.status : 'active';
  const phase = typeof progress.phase === 'string' ? progress.phase : 'steps';
  // Servers before `completed` counted the step on screen as done; those are one step short of it.
  const completed = Number.isInteger(progress.completed) ? progress.completed : status === 'done' ? total : step - 1;
  const key = `${step}/${total}/${completed}/${phase}/${status}`;
  if (key === state.progressKey) return; // unchanged: nothing to redraw
  state.progressKey = key;
  const ending = ENDINGS[status];
  ui.progress.dataset.status = ending ? status : 'active';
  ui.progress.dataset.phase = phase;
  ui.progressFill.style.width = `${Math.min(100, Math.max(0, (completed / total) * 100))}%`;
  const target = ending || PHASES[phase] ? '' : stepTarget(step);
  ui.progressStep.textContent = ending ? t(ending, { step, total }) : t('ui.widget.progress', { step, total });
  const hint = ending ? '' : PHASES[phase] ? t(PHASES[phase]) : target ? t('ui.widget.tapHint', { target }) : '';
  ui.progressHint.textContent = hint;
  ui.progressHint.hidden = !hint;
  ui.progressDone.textContent = t('ui.widget.progress.completed', { completed, total });
}

/** The script changed: redraw the strip in it. */
export function relabelProgress() {
  state.progressKey = '';
  if (state.progress) setProgress(state.progress);
}
