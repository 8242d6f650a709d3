import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, expect } from 'vitest';
import { ContentError, defaultContentDir, isContentError, loadContent } from '../../src/content/loadContent.js';

/** The repository root: flow sources are named relative to it (flows/conversationMachine.ts). */
export const repoRoot = path.dirname(defaultContentDir);

/**
 * Private copies of intents/ to break, removed after each test. A copy lives in a folder named
 * intents/ so that errors name its files as intents/…, like the real ones.
 */
export function useContentCopies(): () => string {
  const roots: string[] = [];
  afterEach(() => {
    for (const root of roots.splice(0)) fs.rmSync(root, { recursive: true, force: true });
  });
  return () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'content-'));
    roots.push(root);
    const dir = path.join(root, 'intents');
    fs.cpSync(defaultContentDir, dir, { recursive: true });
    return dir;
  };
}

export function loadError(dir: string): ContentError {
  try {
    loadContent(dir);
  } catch (error) {
    if (isContentError(error)) return error;
    throw error;
  }
  throw new Error('expected loadContent to fail');
}

/** Deletes a top-level response (its `id:` line and the indented lines under it) from a responses file. */
export function removeResponse(file: string, id: string): void {
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  const start = lines.findIndex((line) => line.startsWith(`${id}:`));
  expect(start, `${id} is defined in ${file}`).toBeGreaterThanOrEqual(0);
  let end = start + 1;
  while (end < lines.length && /^\s+\S/.test(lines[end]!)) end++;
  lines.splice(start, end - start);
  fs.writeFileSync(file, lines.join('\n'));
}

export function append(file: string, text: string): void {
  const before = fs.readFileSync(file, 'utf8');
  fs.writeFileSync(file, `${before}${before.endsWith('\n') ? '' : '\n'}${text}`);
}

/** The 1-based line of the first line of `file` that contains `text`. */
export function lineContaining(file: string, text: string): number {
  const index = fs.readFileSync(file, 'utf8').split('\n').findIndex((line) => line.includes(text));
  expect(index, `${file} contains ${text}`).toBeGreaterThanOrEqual(0);
  return index + 1;
}
