import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, symlinkSync, truncateSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { freePort, noRateLimits, startServerProcess, stopServerProcesses, type ServerProcess } from '../support/serverProcess.js';

/**
 * What a deployment runs: `npm run build` in a copy of the project, then `node dist/server/main.js`
 * with no tsx anywhere. The build bundles most dependencies into its chunks and leaves others to
 * node_modules, so a package that breaks when bundled (or a chunk that cannot find an external
 * one) shows up here rather than on a customer's first message.
 */
const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const copy = mkdtempSync(path.join(tmpdir(), 'bot-production-build-'));
const adminToken = 'production-build-test-admin-token-0123456789';
let server: ServerProcess;

beforeAll(async () => {
  for (const entry of ['src', 'flows', 'types', 'widget', 'public', 'intents', 'scripts', 'package.json', 'package-lock.json', 'tsconfig.json']) {
    cpSync(path.join(repoRoot, entry), path.join(copy, entry), { recursive: true });
  }
  symlinkSync(path.join(repoRoot, 'node_modules'), path.join(copy, 'node_modules'), 'dir');
  const built = spawnSync(process.execPath, ['scripts/build.mjs'], { cwd: copy, encoding: 'utf8', timeout: 180_000 });
  if (built.status !== 0) throw new Error(`npm run build failed (${built.status}):\n${built.stdout}\n${built.stderr}`);
  server = await startServerProcess({
    compiledIn: copy,
    port: await freePort(),
    databaseFile: path.join(copy, 'chatbot.db'),
    env: { ...noRateLimits, WORKERS: '1', ADMIN_TOKEN: adminToken, NODE_OPTIONS: '' },
  });
}, 240_000);

afterAll(async () => {
  await stopServerProcesses();
  rmSync(copy, { recursive: true, force: true });
});

async function json(url: string, init: RequestInit = {}): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(url, { ...init, headers: { 'content-type': 'application/json', ...init.headers } });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

const replyIds = (body: Record<string, unknown>) => (body.replies as { id: string }[]).map((reply) => reply.id);

describe('the production build (node dist/server/main.js)', () => {
  it('starts from what the build prepared: the checked content and the trained NLU models', () => {
    const listening = server.output().split('\n').find((line) => line.includes('chatbot listening'));
    expect(JSON.parse(listening!)).toMatchObject({ content: 'build', nluModels: 'saved' });
  });

  it('greets, understands and walks a conversation over REST', async () => {
    const created = await json(`${server.baseUrl}/api/conversations`, { method: 'POST', body: '{}' });
    expect(created.status).toBe(201);
    const { id, token } = created.body as { id: string; token: string };
    const auth = { authorization: `Bearer ${token}` };
    const asked = await json(`${server.baseUrl}/api/conversations/${id}/messages`, { method: 'POST', headers: auth, body: JSON.stringify({ text: '解绑后记录还在吗' }) });
    expect(asked.status).toBe(200);
    expect(replyIds(asked.body)).toContain('faq.records_after_unbind');
    const unbind = await json(`${server.baseUrl}/api/conversations/${id}/messages`, { method: 'POST', headers: auth, body: JSON.stringify({ text: 'vx钱包怎么解帮' }) });
    expect(replyIds(unbind.body)).toEqual(['unbind.intro', 'unbind.askBalance']);
  }, 30_000);

  it('answers over the websocket, whose Botkit side the build leaves to node_modules', async () => {
    const { body } = await json(`${server.baseUrl}/api/conversations`, { method: 'POST', body: '{}' });
    const ids = await new Promise<string[]>((resolve, reject) => {
      const ws = new WebSocket(server.wsUrl);
      const seen: string[] = [];
      ws.once('error', reject);
      ws.once('open', () => ws.send(JSON.stringify({ type: 'hello', conversation: body.id, token: body.token })));
      ws.on('message', (data) => {
        const frame = JSON.parse(data.toString()) as { type: string; id?: string };
        if (frame.type === 'ready') ws.send(JSON.stringify({ type: 'message', text: '我要解绑' }));
        if (frame.id) seen.push(frame.id);
        if (frame.id === 'unbind.askBalance') {
          ws.close();
          resolve(seen);
        }
      });
    });
    expect(ids).toEqual(['unbind.intro', 'unbind.askBalance']);
  }, 30_000);

  it('serves the widget, the dashboard and the metrics', async () => {
    const widget = await fetch(`${server.baseUrl}/widget.js`);
    expect(widget.status).toBe(200);
    expect(widget.headers.get('content-type')).toMatch(/javascript/);
    expect((await widget.text()).length).toBeGreaterThan(10_000);
    const dashboard = await fetch(`${server.baseUrl}/admin`);
    expect(dashboard.status).toBe(200);
    const analytics = await fetch(`${server.baseUrl}/api/admin/analytics`, { headers: { authorization: `Bearer ${adminToken}` } });
    expect(analytics.status).toBe(200);
    const metrics = await (await fetch(`${server.baseUrl}/metrics`)).text();
    expect(metrics).toMatch(/^chatbot_\w+/m);
  }, 30_000);
});

describe('the production build with WORKERS=2', () => {
  it('adds up both workers\' counters on /metrics (the primary loads prom-client from the bundle)', async () => {
    const twoWorkers = await startServerProcess({ compiledIn: copy, port: await freePort(), databaseFile: path.join(copy, 'two-workers.db'), env: { ...noRateLimits, WORKERS: '2', NODE_OPTIONS: '' } });
    await twoWorkers.waitForOutput(/"worker":2[^\n]*chatbot listening/);
    const created = await Promise.all([1, 2, 3, 4].map(() => json(`${twoWorkers.baseUrl}/api/conversations`, { method: 'POST', body: '{}' })));
    for (const { body } of created) {
      await json(`${twoWorkers.baseUrl}/api/conversations/${body.id as string}/messages`, { method: 'POST', headers: { authorization: `Bearer ${body.token as string}` }, body: JSON.stringify({ text: '怎么解绑' }) });
    }
    const metrics = await fetch(`${twoWorkers.baseUrl}/metrics`);
    expect(metrics.status).toBe(200);
    expect((await metrics.text()).match(/^chatbot_messages_total (\d+)/m)?.[1]).toBe('4');
    twoWorkers.child.kill('SIGTERM');
    expect((await twoWorkers.exited).code).toBe(0);
  }, 60_000);
});

describe('a production build whose saved NLU models are damaged', () => {
  it('refuses to start, naming the file, instead of answering from half a model', async () => {
    const modelDir = path.join(copy, 'dist', 'nlu');
    const [modelFile] = readdirSync(modelDir).filter((name) => name.endsWith('.bin'));
    truncateSync(path.join(modelDir, modelFile!), 1000);
    const started = startServerProcess({ compiledIn: copy, port: await freePort(), databaseFile: path.join(copy, 'other.db'), env: { WORKERS: '1', NODE_OPTIONS: '' } });
    await expect(started).rejects.toThrow(/cannot start: .*nlu-.*\.bin is damaged/);
  }, 60_000);
});
