import { svg } from './dom.js';
import { t } from './labels.js';

/**
 * The phone screens of the unbinding steps, drawn as simple shapes on a 72×128 phone (the screen
 * is x 5–67, y 12–116) with the spot to tap ringed in orange. Content names the picture a reply
 * carries (`picture: step3` in intents/responses/unbind.yml); the labels are the ui.widget.sketch.*
 * texts, so they follow the reader's script. Label sizes are chosen for the thumbnail in the
 * message (112 px wide, about 1.56 px per unit): 7 units is about 11 px, the smallest text a phone
 * user reads without zooming.
 */

const COLOR = {
  ink: '#4b5563',
  screen: '#f3f4f6',
  block: '#d1d5db',
  light: '#e5e7eb',
  grey: '#9ca3af',
  white: '#ffffff',
  green: '#07c160',
  darkGreen: '#067a3c',
  blue: '#2563eb',
  red: '#b91c1c',
  text: '#111827',
  target: '#ea580c',
};

const rect = (x, y, width, height, fill, extra = {}) => svg('rect', { x, y, width, height, fill, ...extra });
const bar = (x, y, width, fill = COLOR.block) => rect(x, y, width, 2.5, fill, { rx: 1.25 });
const circle = (cx, cy, r, fill) => svg('circle', { cx, cy, r, fill });
const LABEL_SIZE = 7;
const label = (x, y, text, extra = {}) =>
  svg('text', { x, y, 'font-size': LABEL_SIZE, 'text-anchor': 'middle', fill: COLOR.text, class: 'wub-sk-label', text, ...extra });
const chevron = (x, y, direction = 1) =>
  svg('path', {
    d: `M${x - 1.2 * direction} ${y - 2.4} L${x + 1.2 * direction} ${y} L${x - 1.2 * direction} ${y + 2.4}`,
    fill: 'none',
    stroke: COLOR.grey,
    'stroke-width': 0.9,
    'stroke-linecap': 'round',
  });
// A white halo under the orange ring keeps it visible on light and dark backgrounds alike.
const highlight = (x, y, width, height) =>
  svg('g', { class: 'wub-sk-target' }, [
    rect(x, y, width, height, 'none', { rx: 3, stroke: COLOR.white, 'stroke-width': 3.5 }),
    rect(x, y, width, height, 'none', { rx: 3, stroke: COLOR.target, 'stroke-width': 2 }),
  ]);

function phoneFrame() {
  return [
    rect(1, 1, 70, 126, COLOR.white, { rx: 10, stroke: COLOR.ink, 'stroke-width': 2 }),
    rect(5, 12, 62, 104, COLOR.screen, { rx: 2 }),
    rect(28, 5, 16, 3, COLOR.grey, { rx: 1.5 }),
    rect(30, 120, 12, 3, COLOR.grey, { rx: 1.5 }),
  ];
}

function tabBar(labels, active) {
  const parts = [rect(5, 97, 62, 19, '#fafafa'), rect(5, 97, 62, 0.6, COLOR.block)];
  [12.75, 28.25, 43.75, 59.25].forEach((cx, index) => {
    parts.push(circle(cx, 102, 2.8, index === active ? COLOR.green : COLOR.grey));
    if (index === 0) parts.push(label(cx, 112.5, labels.wechat, { 'font-size': 6.5 }));
    else if (index === 3) parts.push(label(cx, 112.5, labels.me, { 'font-size': 6.5 }));
    else parts.push(bar(cx - 4, 109.5, 8));
  });
  return parts;
}

const sketches = [
  // 1: home screen, the green chat-bubble app
  (labels) => {
    const parts = [];
    [20, 42, 64, 86].forEach((y, row) =>
      [11, 29, 47].forEach((x, column) => {
        if (row === 1 && column === 1) return;
        parts.push(rect(x, y, 14, 14, COLOR.block, { rx: 3.5 }), bar(x + 2, y + 17, 10));
      }),
    );
    parts.push(
      rect(29, 42, 14, 14, COLOR.green, { rx: 3.5 }),
      svg('ellipse', { cx: 34.5, cy: 48, rx: 3.6, ry: 3, fill: COLOR.white }),
      svg('ellipse', { cx: 38.6, cy: 51, rx: 3, ry: 2.5, fill: COLOR.white, stroke: COLOR.green, 'stroke-width': 0.8 }),
      label(36, 63.5, labels.wechat),
      highlight(25, 39, 22, 27),
    );
    return parts;
  },
  // 2: chat list with the bottom tab bar, rightmost tab
  (labels) => {
    const parts = [rect(5, 12, 62, 10, COLOR.light), bar(28, 16, 16, COLOR.grey)];
    for (let index = 0; index < 5; index++) {
      const y = 26 + index * 14;
      parts.push(rect(9, y, 9, 9, COLOR.block, { rx: 2 }), bar(22, y + 1, 30), bar(22, y + 6, 20, COLOR.light));
    }
    parts.push(...tabBar(labels, 0), highlight(52.5, 97.5, 14, 18));
    return parts;
  },
  // 3: the "me" page, the services/pay row under the profile
  (labels) => {
    const parts = [
      rect(5, 12, 62, 28, COLOR.white),
      rect(10, 20, 12, 12, COLOR.block, { rx: 2 }),
      bar(26, 21, 22, COLOR.grey),
      bar(26, 28, 30),
      rect(5, 44, 62, 13, COLOR.white),
      rect(9, 47.5, 6, 6, COLOR.green, { rx: 1.5 }),
      label(18, 53, labels.servicePay, { 'text-anchor': 'start' }),
      chevron(61, 50.5),
    ];
    for (const y of [60, 72, 84]) {
      parts.push(rect(5, y, 62, 11, COLOR.white), rect(9, y + 3, 5, 5, COLOR.block, { rx: 1.2 }), bar(18, y + 4.2, 22));
    }
    parts.push(...tabBar(labels, 3), highlight(6, 43.5, 60, 14));
    return parts;
  },
  // 4: pay page, the wallet tile in the green header
  (labels) => {
    const parts = [
      rect(5, 12, 62, 38, '#059669'),
      rect(13, 20, 10, 10, 'none', { rx: 1.5, stroke: COLOR.white, 'stroke-width': 1.2 }),
      rect(16, 23, 4, 4, COLOR.white),
      bar(12, 38, 12, 'rgba(255,255,255,0.75)'),
      rect(44, 21, 12, 9, 'none', { rx: 1.5, stroke: COLOR.white, 'stroke-width': 1.2 }),
      rect(51, 24, 5, 3, COLOR.white, { rx: 1 }),
      label(50, 41.5, labels.wallet, { fill: COLOR.white }),
    ];
    for (const y of [58, 76, 94]) {
      for (const x of [10, 24, 38, 52]) parts.push(rect(x, y, 8, 8, COLOR.block, { rx: 2 }), bar(x - 1, y + 11, 10, COLOR.light));
    }
    parts.push(highlight(39, 16, 22, 30));
    return parts;
  },
  // 5: wallet page, one row of the list of bound wallets
  (labels) => {
    const parts = [rect(5, 12, 62, 11, COLOR.light), chevron(10, 17.5, -1), label(36, 19.5, labels.wallet)];
    for (let index = 0; index < 4; index++) {
      const y = 28 + index * 16;
      const chosen = index === 1;
      parts.push(rect(8, y, 56, 13, COLOR.white, { rx: 2 }), circle(14, y + 6.5, 3.5, chosen ? COLOR.blue : COLOR.block));
      parts.push(chosen ? label(20, y + 9, labels.walletItem, { 'text-anchor': 'start' }) : bar(20, y + 5.2, 26));
      parts.push(chevron(60, y + 6.5));
    }
    parts.push(highlight(7, 43, 58, 15));
    return parts;
  },
  // 6: the chosen wallet's page, its 解绑 button (the article: "选择要解绑的钱包后，通常会出现“解绑”按钮")
  (labels) => [...walletPage(labels, { button: true }), highlight(10, 90, 52, 16)],
  // 7: confirmation dialog over the dimmed page, the confirm button
  (labels) => [
    ...walletPage(labels, { button: true }),
    rect(5, 12, 62, 104, '#000000', { 'fill-opacity': 0.45, rx: 2 }),
    rect(11, 42, 50, 40, COLOR.white, { rx: 4 }),
    bar(17, 50, 38),
    bar(17, 56, 30),
    rect(11, 66, 50, 0.6, COLOR.block),
    rect(36, 66, 0.6, 16, COLOR.block),
    label(23.5, 76.5, labels.cancel, { fill: COLOR.ink }),
    label(48.5, 76.5, labels.confirm, { fill: COLOR.darkGreen, 'font-weight': 600 }),
    highlight(37.5, 67, 22.5, 14),
  ],
];

/**
 * The wallet's own page at step 6: the wallet's card, its details, the 解绑 button when it is
 * there, and the "…" menu at the top right, where step 6's help says to look when it is not.
 */
function walletPage(labels, { button }) {
  return [
    rect(5, 12, 62, 11, COLOR.light),
    chevron(10, 17.5, -1),
    ...moreMenu(59, 17.5),
    rect(10, 28, 52, 30, COLOR.blue, { rx: 4 }),
    circle(18, 36, 3.5, 'rgba(255,255,255,0.85)'),
    bar(24, 35, 20, 'rgba(255,255,255,0.85)'),
    bar(16, 48, 30, 'rgba(255,255,255,0.6)'),
    bar(10, 66, 40),
    bar(10, 73, 32),
    bar(10, 80, 44),
    ...(button
      ? [rect(12, 92, 48, 12, COLOR.white, { rx: 3, stroke: COLOR.red, 'stroke-width': 0.8 }), label(36, 100.5, labels.unbind, { fill: COLOR.red })]
      : []),
  ];
}

const moreMenu = (cx, cy) => [-3, 0, 3].map((dx) => circle(cx + dx, cy, 0.9, COLOR.ink));

const pictures = {
  step1: sketches[0],
  step2: sketches[1],
  step3: sketches[2],
  step4: sketches[3],
  step5: sketches[4],
  step6: sketches[5],
  // Step 6's help, for a page without the 解绑 button: the same page without it, the "…" menu ringed.
  step6Menu: (labels) => [...walletPage(labels, { button: false }), highlight(53, 13, 12, 9)],
  step7: sketches[6],
};

/** The labels drawn in the pictures, in the reader's script. */
export function sketchLabels() {
  return {
    wechat: t('ui.widget.sketch.wechat'),
    me: t('ui.widget.sketch.me'),
    servicePay: `${t('ui.widget.sketch.service')}/${t('ui.widget.sketch.pay')}`,
    wallet: t('ui.widget.sketch.wallet'),
    walletItem: t('ui.widget.sketch.walletItem'),
    unbind: t('ui.widget.sketch.unbind'),
    cancel: t('ui.widget.sketch.cancel'),
    confirm: t('ui.widget.sketch.confirm'),
  };
}

/** What the user taps at each of the 7 steps, as the progress strip names it. */
export function stepTarget(step) {
  const labels = sketchLabels();
  return [labels.wechat, labels.me, labels.servicePay, labels.wallet, labels.walletItem, labels.unbind, labels.confirm][step - 1];
}

export const isStepPicture = (name) => typeof name === 'string' && Object.hasOwn(pictures, name);

/** The step a picture belongs to (`step6Menu` → 6). */
export const stepOfPicture = (name) => Number(/^step(\d)/.exec(name)?.[1] ?? 0);

/** What the picture shows, for screen readers and as the enlarged picture's caption. */
export function pictureDescription(name) {
  const step = stepOfPicture(name);
  const target = name === 'step6Menu' ? t('ui.widget.sketch.moreMenu') : stepTarget(step);
  return t('ui.widget.sketchAlt', { step, target });
}

/** Draws a picture (null for a name this widget does not know, e.g. from a newer server). */
export function drawStepPicture(name, className) {
  if (!isStepPicture(name)) return null;
  return svg(
    'svg',
    { class: className, viewBox: '0 0 72 128', role: 'img', 'aria-label': pictureDescription(name), focusable: 'false' },
    [...phoneFrame(), ...pictures[name](sketchLabels())],
  );
}
