import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Content } from './loadContent.js';

/**
 * The content as `npm run build` loaded and checked it, kept as one JSON file (dist/content/), so
 * the compiled server skips parsing the YAML and checking it against the flows at every start (about
 * 0.6 s of its start-up, bench/RESULTS.md). It is used only by the compiled server of the same build
 * (the build's source fingerprint) and only while the content files are byte for byte the ones it
 * was made from: an edited answer is read from the YAML, and a mistake in it still stops start-up.
 */
const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
export const compiledContentFile = path.join(repoRoot, 'dist', 'content', 'content.json');

interface CompiledContent {
  buildFingerprint: string;
  contentFingerprint: string;
  content: Omit<Content, 'responses'> & { responses: [string, unknown][] };
}

/** A hash of every file under the content folder: its path in the folder and its bytes. */
export function contentFilesFingerprint(contentDir: string): string {
  const hash = createHash('sha256');
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile()) hash.update(`${path.relative(contentDir, full)}\0`).update(readFileSync(full)).update('\0');
    }
  };
  walk(contentDir);
  return hash.digest('hex');
}

export function writeCompiledContent(content: Content, contentDir: string, buildFingerprint: string, file = compiledContentFile): void {
  const compiled: CompiledContent = { buildFingerprint, contentFingerprint: contentFilesFingerprint(contentDir), content: { ...content, responses: [...content.responses] } };
  mkdirSync(path.dirname(file), { recursive: true });
  // Written aside and renamed: a server starting meanwhile reads the old file or the new one, whole.
  writeFileSync(`${file}.tmp`, JSON.stringify(compiled));
  renameSync(`${file}.tmp`, file);
}

/** The build's content, if it was made by this build (`buildFingerprint`) from the files there are now; else undefined. */
export function readCompiledContent(contentDir: string, buildFingerprint: string, file = compiledContentFile): Content | undefined {
  if (!existsSync(file)) return undefined;
  let compiled: CompiledContent;
  try {
    compiled = JSON.parse(readFileSync(file, 'utf8')) as CompiledContent;
  } catch {
    return undefined;
  }
  if (compiled.buildFingerprint !== buildFingerprint || compiled.contentFingerprint !== contentFilesFingerprint(contentDir)) return undefined;
  return { ...compiled.content, responses: new Map(compiled.content.responses) } as Content;
}
