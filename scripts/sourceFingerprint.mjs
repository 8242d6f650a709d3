import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const projectRoot = fileURLToPath(new URL('..', import.meta.url));
export const buildInfoFile = path.join(projectRoot, 'dist', 'build-info.json');

/**
 * Everything dist/ is made from: the server's sources, the flows, the widget, the dashboard's
 * files, the default content (its labels are baked into the widget), the build itself and the
 * lockfile (the build bundles the dependencies' code).
 */
const inputs = ['src', 'flows', 'types', 'widget', 'public/admin', 'intents', 'scripts', 'package.json', 'package-lock.json', 'tsconfig.json'];

function filesUnder(relative) {
  const absolute = path.join(projectRoot, relative);
  if (!existsSync(absolute)) return [];
  if (!statSync(absolute).isDirectory()) return [relative];
  return readdirSync(absolute)
    .sort()
    .flatMap((name) => filesUnder(path.join(relative, name)));
}

/** Whether this copy has the sources at all (a runtime image may carry dist/ alone). */
export function hasSources() {
  return existsSync(path.join(projectRoot, 'src', 'server', 'main.ts'));
}

/** A hash of the names and contents of every input file: equal only if nothing was edited. */
export function sourceFingerprint() {
  const hash = createHash('sha256');
  for (const file of inputs.flatMap(filesUnder)) hash.update(`${file}\n`).update(readFileSync(path.join(projectRoot, file))).update('\n');
  return hash.digest('hex');
}

/** The fingerprint dist/ was built from, or undefined when there is no complete build. */
export function builtFingerprint() {
  if (!existsSync(buildInfoFile)) return undefined;
  return JSON.parse(readFileSync(buildInfoFile, 'utf8')).sourceFingerprint;
}
