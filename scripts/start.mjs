/**
 * npm start: the compiled server (dist/server/main.js) under plain node. When the sources, the
 * widget or the default content changed since dist/ was built (or it never was), it is built
 * first, so `npm start` never serves old code; a copy without sources (a runtime image that
 * carries dist/ alone) runs what it has.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { builtFingerprint, hasSources, projectRoot, sourceFingerprint } from './sourceFingerprint.mjs';

const serverEntry = path.join(projectRoot, 'dist', 'server', 'main.js');

if (hasSources()) {
  const built = builtFingerprint();
  if (built !== sourceFingerprint()) {
    console.error(built ? 'start: the sources changed since the last build: building again' : 'start: no build yet: building');
    const { build } = await import('./build.mjs');
    await build();
  }
} else if (!existsSync(serverEntry)) {
  console.error('cannot start: neither a build (dist/) nor the sources to make one');
  process.exit(2);
}
await import(pathToFileURL(serverEntry).href);
