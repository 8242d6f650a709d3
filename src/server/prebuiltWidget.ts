import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { compiledAsset } from './compiledAssets.js';
import type { RegionalWording } from '../nlu/scriptConverter.js';
import type { WidgetAssets } from './widgetAssets.js';

/**
 * The widget bundle written by `npm run build` (dist/widget/), with a fingerprint of everything it
 * was made from: the widget's sources, the dashboard's files, the labels in `ui.widget.*`, the
 * regional wording and the versions of the tools that bundle and convert. A server uses the files
 * only when the fingerprint of what it runs with is the same, so edited labels or widget code are
 * never served from an old build.
 */

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
export const prebuiltWidgetDir = path.join(repoRoot, 'dist', 'widget');
const manifestFile = path.join(prebuiltWidgetDir, 'manifest.json');

const files = { widgetJs: 'widget.js', widgetCss: 'widget.css', adminJs: 'admin.js', adminCss: 'admin.css' } as const;
const types = { widgetJs: 'application/javascript; charset=utf-8', widgetCss: 'text/css; charset=utf-8', adminJs: 'application/javascript; charset=utf-8', adminCss: 'text/css; charset=utf-8' };

let sourcesDigest: string | undefined;

/** The files and tools the bundle is made from; they do not change while a process runs. */
function widgetSourcesDigest(): string {
  if (sourcesDigest) return sourcesDigest;
  const hash = createHash('sha256');
  for (const tool of ['esbuild', 'opencc-js', 'chart.js']) hash.update(`${tool}@${installedVersion(tool)}\n`);
  const widgetDir = path.join(repoRoot, 'widget');
  const sources = [
    ...readdirSync(widgetDir).sort().map((name) => path.join(widgetDir, name)),
    path.join(repoRoot, 'public', 'admin', 'admin.js'),
    path.join(repoRoot, 'public', 'admin', 'admin.css'),
  ];
  for (const file of sources) hash.update(`${path.relative(repoRoot, file)}\n`).update(readFileSync(file)).update('\n');
  return (sourcesDigest = hash.digest('hex'));
}

/** The version of an installed package, from its package.json (opencc-js does not export that file). */
function installedVersion(name: string): string {
  let dir = path.dirname(createRequire(import.meta.url).resolve(name));
  while (dir !== path.dirname(dir)) {
    const manifest = path.join(dir, 'package.json');
    if (existsSync(manifest)) {
      const { name: found, version } = JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string; version?: string };
      if (found === name && version) return version;
    }
    dir = path.dirname(dir);
  }
  throw new Error(`no package.json found for ${name}`);
}

/** What a bundle for these labels and this wording would be made from. */
export function widgetFingerprint(uiTexts: Record<string, string>, wording: RegionalWording): string {
  const labels = Object.entries(uiTexts).filter(([key]) => key.startsWith('ui.widget.')).sort(([a], [b]) => a.localeCompare(b));
  return createHash('sha256').update(widgetSourcesDigest()).update(JSON.stringify({ labels, wording })).digest('hex');
}

export type PrebuiltWidget = { assets: Omit<WidgetAssets, 'chartJs'> } | { stale: 'missing' | 'other content or sources' };

/** The prebuilt files when they were made from exactly this content and these sources. */
export function loadPrebuiltWidget(fingerprint: string): PrebuiltWidget {
  if (!existsSync(manifestFile)) return { stale: 'missing' };
  const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as { fingerprint?: string };
  if (manifest.fingerprint !== fingerprint) return { stale: 'other content or sources' };
  const asset = (name: keyof typeof files) => compiledAsset(types[name], readFileSync(path.join(prebuiltWidgetDir, files[name])));
  return { assets: { widgetJs: asset('widgetJs'), widgetCss: asset('widgetCss'), adminJs: asset('adminJs'), adminCss: asset('adminCss') } };
}

/** Writes the bundle and, last, its manifest: a build stopped half-way leaves no matching manifest. */
export function writePrebuiltWidget(fingerprint: string, assets: WidgetAssets): void {
  rmSync(manifestFile, { force: true });
  mkdirSync(prebuiltWidgetDir, { recursive: true });
  for (const [name, file] of Object.entries(files)) writeFileSync(path.join(prebuiltWidgetDir, file), assets[name as keyof typeof files].identity);
  writeFileSync(manifestFile, `${JSON.stringify({ fingerprint }, null, 2)}\n`);
}
