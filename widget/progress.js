import { t } from './labels.js';
import { state, ui } from './state.js';
import { drawStepSketch } from './stepSketches.js';

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
  if (key === state.progressKey) return; // unchanged: keep the sketch (and its animation) as it is
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
  // The picture shows where to tap; once the tapping is over (verification, an ending) there is nothing to point at.
  const sketch = target ? drawStepSketch(step, t('ui.widget.sketchAlt', { step, target })) : null;
  ui.sketch.replaceChildren(...(sketch ? [sketch] : []));
  ui.sketch.hidden = !sketch;
}

/** The script changed: redraw the strip in it. */
export function relabelProgress() {
  state.progressKey = '';
  if (state.progress) setProgress(state.progress);
}

// ---------------------------------------------------------------- step sketches

export function sketchLabels() {
  return {
    wechat: t('ui.widget.sketch.wechat'),
    me: t('ui.widget.sketch.me'),
    servicePay: `${t('ui.widget.sketch.service')}/${t('ui.widget.sketch.pay')}`,
    wallet: t('ui.widget.sketch.wallet'),
    walletItem: t('ui.widget.sketch.walletItem'),
    unbind: t('ui.widget.sketch.unbind'),
    confirm: t('ui.widget.sketch.confirm'),
  };
}

/** What the user taps at each of the 7 steps. */
export function stepTarget(step) {
  const labels = sketchLabels();
  return [labels.wechat, labels.me, labels.servicePay, labels.wallet, labels.walletItem, labels.unbind, labels.confirm][
    step - 1
  ];
}

// Simple shapes on a 72×128 phone; the screen is x 5–67, y 12–116.
