import { svg } from './dom.js';

export function chatIcon() {
  return svg('svg', { class: 'wub-icon wub-icon-chat', viewBox: '0 0 24 24', 'aria-hidden': 'true', focusable: 'false' }, [
    svg('path', { d: 'M4 6a3 3 0 0 1 3-3h10a3 3 0 0 1 3 3v7a3 3 0 0 1-3 3h-6l-5 4v-4a2 2 0 0 1-2-2z', fill: 'currentColor' }),
  ]);
}

export function closeIcon(extraClass = '') {
  return svg('svg', { class: `wub-icon wub-icon-close ${extraClass}`.trim(), viewBox: '0 0 24 24', 'aria-hidden': 'true', focusable: 'false' }, [
    svg('path', { d: 'M6 6l12 12M18 6L6 18', fill: 'none', stroke: 'currentColor', 'stroke-width': 2.2, 'stroke-linecap': 'round' }),
  ]);
}
