import { describe, expect, it } from 'vitest';
import { loadContent } from '../../src/content/loadContent.js';
import { loadPrebuiltWidget, widgetFingerprint } from '../../src/server/prebuiltWidget.js';
import { uiTextsOf } from '../../src/server/widgetAssets.js';

const content = loadContent();
const uiTexts = uiTextsOf(content);

describe('the widget bundle written by npm run build', () => {
  it('has a fingerprint that changes with any widget label or regional wording, and with nothing else of the content', () => {
    const fingerprint = widgetFingerprint(uiTexts, content.wording);
    expect(widgetFingerprint({ ...uiTexts }, content.wording)).toBe(fingerprint);
    expect(widgetFingerprint({ ...uiTexts, 'ui.widget.title': `${uiTexts['ui.widget.title']}!` }, content.wording)).not.toBe(fingerprint);
    expect(widgetFingerprint(uiTexts, { ...content.wording, 'hant-tw': { ...content.wording['hant-tw'], 测试: '測驗' } })).not.toBe(fingerprint);
    // The dashboard's labels are read over /api/ui/dashboard, not baked into the widget.
    const dashboardOnly = Object.keys(uiTexts).find((key) => !key.startsWith('ui.widget.'));
    if (dashboardOnly) expect(widgetFingerprint({ ...uiTexts, [dashboardOnly]: 'x' }, content.wording)).toBe(fingerprint);
  });

  it('is never served for content it was not built from', () => {
    const other = widgetFingerprint({ ...uiTexts, 'ui.widget.title': 'another title' }, content.wording);
    expect(loadPrebuiltWidget(other)).toHaveProperty('stale');
  });
});
