import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { append, lineContaining, removeResponse, repoRoot, useContentCopies } from '../support/brokenContent.js';

/** Runs `npx tsx src/server/main.ts` as `npm start` does, over the given content; resolves when it exits. */
function startServer(contentDir: string | undefined, settings: Record<string, string> = {}): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const env: NodeJS.ProcessEnv = { ...process.env, PORT: '0', DATABASE_URL: 'memory:', ...settings };
    if (contentDir) env.CONTENT_DIR = contentDir;
    const child = spawn('npx', ['tsx', 'src/server/main.ts'], {
      cwd: repoRoot,
      env,
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

const notAFolder = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'bot-startup-')), 'a-file');
fs.writeFileSync(notAFolder, '');

describe('npm start with bad settings', () => {
  it.each([
    [{ PORT: 'abc' }, 'cannot start: PORT must be a whole number from 0 to 65535'],
    [{ ADMIN_TOKEN: 'a' }, 'cannot start: ADMIN_TOKEN must be at least 32 characters'],
    [{ TRUST_PROXY: 'true' }, 'cannot start: TRUST_PROXY=true would let any client pick its address'],
    // The folder for the database is a file: it cannot be created.
    [{ DATABASE_URL: `sqlite:${notAFolder}/chatbot.db` }, `cannot start: DATABASE_URL sqlite:${notAFolder}/chatbot.db: EEXIST`],
  ])('%o stops start-up with one line saying why, exit code 2, no stack trace', async (settings, message) => {
    const { code, stderr } = await startServer(undefined, settings);
    expect(code).toBe(2);
    expect(stderr).toContain(message);
    expect(stderr).not.toMatch(/\n\s+at /);
  }, 60_000);

  it('a port already taken stops start-up with "cannot start: port … is already in use"', async () => {
    const taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen(0, resolve));
    const { port } = taken.address() as net.AddressInfo;
    try {
      const { code, stderr } = await startServer(undefined, { PORT: String(port) });
      expect(code).toBe(2);
      expect(stderr).toContain(`cannot start: port ${port} is already in use`);
    } finally {
      taken.close();
    }
  }, 60_000);

  it('a PostgreSQL or Redis that cannot be reached stops start-up with "cannot start:" naming the setting, without its password', async () => {
    const closed = net.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as net.AddressInfo;
    // Nobody will be listening there once the probe is closed.
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const database = await startServer(undefined, { DATABASE_URL: `postgres://bot:s3cret@127.0.0.1:${port}/chatbot` });
    expect(database.code).toBe(2);
    expect(database.stderr).toContain(`cannot start: DATABASE_URL postgres://…@127.0.0.1:${port}/chatbot:`);
    expect(database.stderr).not.toContain('s3cret');
    const redis = await startServer(undefined, { REDIS_URL: `redis://:s3cret@127.0.0.1:${port}` });
    expect(redis.code).toBe(2);
    expect(redis.stderr).toContain(`cannot start: REDIS_URL redis://…@127.0.0.1:${port}:`);
    expect(redis.stderr).not.toContain('s3cret');
  }, 90_000);
});
