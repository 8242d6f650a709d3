import { appendFileSync, cpSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readCompiledContent, writeCompiledContent } from '../../src/content/compiledContent.js';
import { defaultContentDir, loadContent } from '../../src/content/loadContent.js';

/** The content the build keeps for its compiled server: the same content, and never a stale one. */
const dir = mkdtempSync(path.join(os.tmpdir(), 'compiled-content-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the content kept by the build', () => {
  it('reads back as exactly the content the YAML loads to', () => {
    const file = path.join(dir, 'same.json');
    const content = loadContent();
    writeCompiledContent(content, defaultContentDir, 'build-1', file);
    const read = readCompiledContent(defaultContentDir, 'build-1', file);
    expect(read).toEqual(content);
    expect(read!.responses).toBeInstanceOf(Map);
  });

  it('is not used by another build, or once a content file has changed', () => {
    const contentDir = path.join(dir, 'intents');
    cpSync(defaultContentDir, contentDir, { recursive: true });
    const file = path.join(dir, 'edited.json');
    writeCompiledContent(loadContent(contentDir), contentDir, 'build-1', file);
    expect(readCompiledContent(contentDir, 'build-2', file)).toBeUndefined();
    expect(readCompiledContent(contentDir, 'build-1', file)).toBeDefined();
    // An answer edited after the build: the server must read (and check) the YAML instead.
    appendFileSync(path.join(contentDir, 'lexicon.yml'), '\n# edited after the build\n');
    expect(readCompiledContent(contentDir, 'build-1', file)).toBeUndefined();
  });

  it('is not used when the file is missing or unreadable', () => {
    expect(readCompiledContent(defaultContentDir, 'build-1', path.join(dir, 'missing.json'))).toBeUndefined();
    const broken = path.join(dir, 'broken.json');
    appendFileSync(broken, '{"buildFingerprint": "build-1", "conte');
    expect(readCompiledContent(defaultContentDir, 'build-1', broken)).toBeUndefined();
  });
});
