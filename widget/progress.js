import { t } from './labels.js';
import { state, ui } from './state.js';
import { drawStepSketch } from './stepSketches.js';

export function setProgress(progress) {
  const valid =
    progress && Number.isInteger(progress.step) && Number.isInteger(progress.total) && progress.total > 0 && progress.step > 0;
  ui.progress.hidden = !valid;
  if (!valid) {
    state.progressKey = '';
    return;
  }
  const { step, total } = progress;
  const key = `${step}/${total}`;
  if (key === state.progressKey) return; // unchanged: keep the sketch (and its animation) as it is
  state.progressKey = key;
  const target = stepTarget(step);
  ui.progressStep.textContent = t('ui.widget.progress', { step, total });
  ui.progressHint.textContent = target ? t('ui.widget.tapHint', { target }) : '';
  ui.progressHint.hidden = !target;
  ui.progressFill.style.width = `${Math.min(100, (step / total) * 100)}%`;
  const sketch = target ? drawStepSketch(step, t('ui.widget.sketchAlt', { step, target })) : null;
  ui.sketch.replaceChildren(...(sketch ? [sketch] : []));
  ui.sketch.hidden = !sketch;
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
