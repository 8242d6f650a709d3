/**
 * Part of npm run build: bundles the widget and the dashboard's files for the content in
 * CONTENT_DIR (default intents/) and writes them to dist/widget/ with their fingerprint, so that no
 * visitor waits for the bundling. A server started with other content bundles its own instead.
 */
import { loadBuildContent } from './buildContent.js';
import { buildWidgetAssets, uiTextsOf, widgetLabels } from '../server/widgetAssets.js';
import { prebuiltWidgetDir, widgetFingerprint, writePrebuiltWidget } from '../server/prebuiltWidget.js';

const started = performance.now();
const content = loadBuildContent();
const uiTexts = uiTextsOf(content);
const assets = buildWidgetAssets(widgetLabels(uiTexts, content.wording));
writePrebuiltWidget(widgetFingerprint(uiTexts, content.wording), assets);
console.log(`widget bundled into ${prebuiltWidgetDir} in ${(performance.now() - started).toFixed(0)} ms (${(assets.widgetJs.identity.length / 1024).toFixed(0)} KB script)`);
