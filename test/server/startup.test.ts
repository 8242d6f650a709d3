import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { append, lineContaining, removeResponse, repoRoot, useContentCopies } from '../support/brokenContent.js';

/** Runs `npx tsx src/server/main.ts` as `npm start` does, over the given content; resolves when it exits. */
function startServer(contentDir: string): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('npx', ['tsx', 'src/server/main.ts'], {
      cwd: repoRoot,
      env: { ...process.env, CONTENT_DIR: contentDir, PORT: '0', DATABASE_URL: 'memory:' },
      stdio: ['ignore', 'ignore', 'pipe'],
      // Its own process group, so the timeout below can stop npx and the server it runs together.
      detached: true,
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    // A server that starts anyway would never exit; stop it so the assertion below reports that.
    const timer = setTimeout(() => process.kill(-child.pid!, 'SIGTERM'), 30_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

// (The server entry point's own behaviour; it lives here with the content checks it surfaces.)
describe('npm start with broken content', () => {
  const copyContent = useContentCopies();

  it('refuses to start when a flow says a response the content lacks, naming the flow file and line', async () => {
    const dir = copyContent();
    removeResponse(path.join(dir, 'responses', 'general.yml'), 'greet.inFlow');
    const { code, stderr } = await startServer(dir);
    const line = lineContaining(path.join(repoRoot, 'flows', 'conversationMachine.ts'), "'greet.inFlow'");
    expect(code).toBe(2);
    expect(stderr).toContain(`cannot start: ${path.join('flows', 'conversationMachine.ts')}:${line}: the flow says response "greet.inFlow"`);
  }, 60_000);

  it('refuses to start when a quick reply names an unknown intent, naming the response file and line', async () => {
    const dir = copyContent();
    const file = path.join(dir, 'responses', 'general.yml');
    append(file, 'test.unknownIntent:\n  text: 测试\n  quickReplies:\n    - { title: 去看看, payload: /no_such_intent }\n');
    const line = fs.readFileSync(file, 'utf8').split('\n').findIndex((text) => text.includes('/no_such_intent')) + 1;
    const { code, stderr } = await startServer(dir);
    expect(code).toBe(2);
    expect(stderr).toContain(`cannot start: ${path.join('intents', 'responses', 'general.yml')}:${line}: `);
    expect(stderr).toContain('no_such_intent');
  }, 60_000);
});
