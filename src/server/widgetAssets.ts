import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { compiledAsset, type CompiledAsset } from './compiledAssets.js';
import { labelsInScript, type RegionalWording } from '../nlu/scriptConverter.js';
import { loadPrebuiltWidget, widgetFingerprint } from './prebuiltWidget.js';
import type { Content } from '../content/loadContent.js';

const require = createRequire(import.meta.url);

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const widgetDir = path.join(repoRoot, 'widget');
const publicDir = path.join(repoRoot, 'public');

/** The scripts the widget can show its interface in; the first is the default. */
export type InterfaceScript = 'hans' | 'hant-tw' | 'hant-hk';

export interface WidgetAssets {
  widgetJs: CompiledAsset;
  widgetCss: CompiledAsset;
  adminJs: CompiledAsset;
  adminCss: CompiledAsset;
  chartJs: CompiledAsset;
}

/**
 * Bundles and minifies the widget (widget/*.js, widget/*.css) with esbuild, the widget's labels
 * baked in for each script, and minifies the dashboard's files, in memory (about a second).
 * `npm run build` writes the result to dist/widget/ (prebuiltWidget.ts); a server whose content or
 * widget differs from that build's builds its own with this.
 */
export function buildWidgetAssets(labels: Record<InterfaceScript, Record<string, string>>): WidgetAssets {
  // Loaded here, not with the server: a server whose bundle was prebuilt never needs esbuild.
  const { buildSync, transformSync } = require('esbuild') as typeof import('esbuild');
  const widget = buildSync({
    entryPoints: [path.join(widgetDir, 'main.js')],
    bundle: true,
    format: 'iife',
    // Chinese labels as UTF-8 (3 bytes a character) rather than \u escapes (6).
    charset: 'utf8',
    minify: true,
    target: 'es2020',
    legalComments: 'none',
    write: false,
    define: { __WUB_LABELS__: JSON.stringify(labels) },
  });
  const css = buildSync({
    entryPoints: [path.join(widgetDir, 'widget.css')],
    bundle: true,
    minify: true,
    target: ['chrome90', 'safari14', 'firefox90'],
    charset: 'utf8',
    write: false,
  });
  const minified = (file: string, loader: 'js' | 'css') =>
    transformSync(readFileSync(file, 'utf8'), { loader, minify: true, charset: 'utf8', target: loader === 'js' ? 'es2020' : 'chrome90', legalComments: 'none' }).code;
  return {
    widgetJs: compiledAsset('application/javascript; charset=utf-8', widget.outputFiles[0]!.text),
    widgetCss: compiledAsset('text/css; charset=utf-8', css.outputFiles[0]!.text),
    adminJs: compiledAsset('application/javascript; charset=utf-8', minified(path.join(publicDir, 'admin', 'admin.js'), 'js')),
    adminCss: compiledAsset('text/css; charset=utf-8', minified(path.join(publicDir, 'admin', 'admin.css'), 'css')),
    chartJs: chartJsAsset(),
  };
}

/** Chart.js ships a minified build: the dashboard loads that one, from the installed package. */
function chartJsAsset(): CompiledAsset {
  const chartDir = path.dirname(require.resolve('chart.js'));
  return compiledAsset('application/javascript; charset=utf-8', readFileSync(path.join(chartDir, 'chart.umd.min.js')));
}

/** The interface texts (`ui.*`: the widget's and the dashboard's labels), by id. */
export function uiTextsOf(content: Pick<Content, 'responses'>): Record<string, string> {
  return Object.fromEntries([...content.responses].filter(([key]) => key.startsWith('ui.')).map(([key, response]) => [key, response.text]));
}

/**
 * The widget's own labels (`ui.widget.*`), in each script, worded for Taiwan and Hong Kong readers
 * as the answers are (intents/wording.yml).
 */
export function widgetLabels(uiTexts: Record<string, string>, wording: RegionalWording): Record<InterfaceScript, Record<string, string>> {
  const simplified = Object.fromEntries(Object.entries(uiTexts).filter(([key]) => key.startsWith('ui.widget.')));
  return {
    hans: simplified,
    'hant-tw': labelsInScript(simplified, 'hant-tw', wording),
    'hant-hk': labelsInScript(simplified, 'hant-hk', wording),
  };
}

const built = new Map<string, WidgetAssets>();

/**
 * The assets, built when first asked for and kept for the process (servers of one process with the
 * same labels share them, as tests do).
 */
export function lazyWidgetAssets(labels: () => Record<InterfaceScript, Record<string, string>>): WidgetAssets {
  let own: WidgetAssets | undefined;
  const get = (): WidgetAssets => {
    if (own) return own;
    const resolved = labels();
    const key = JSON.stringify(resolved);
    own = built.get(key) ?? buildWidgetAssets(resolved);
    built.set(key, own);
    return own;
  };
  return {
    get widgetJs() { return get().widgetJs; },
    get widgetCss() { return get().widgetCss; },
    get adminJs() { return get().adminJs; },
    get adminCss() { return get().adminCss; },
    get chartJs() { return get().chartJs; },
  };
}

/**
 * What the server sends: the files `npm run build` wrote when they were made from this content and
 * these widget sources, else a bundle built on the first request (the labels must match the answers).
 */
export function servedWidgetAssets(uiTexts: Record<string, string>, wording: RegionalWording, warn: (message: string) => void): WidgetAssets {
  const prebuilt = loadPrebuiltWidget(widgetFingerprint(uiTexts, wording));
  if ('stale' in prebuilt) {
    // No build at all is the development setup (tsx): nothing to warn about.
    if (prebuilt.stale !== 'missing') warn('dist/widget was built from other content or widget sources: bundling the widget on its first request instead (run npm run build)');
    return lazyWidgetAssets(() => widgetLabels(uiTexts, wording));
  }
  let chartJs: CompiledAsset | undefined;
  return {
    ...prebuilt.assets,
    get chartJs() {
      return (chartJs ??= chartJsAsset());
    },
  };
}
