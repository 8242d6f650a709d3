import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { until } from '../support/agentClient.js';
import { callOnNewConnection as call, freePort, noRateLimits, startServerProcess, type ServerProcess } from '../support/serverProcess.js';

/**
 * WORKERS=2: two processes serve one port and one SQLite file, and node's cluster module hands each
 * new connection to the next worker. So that requests really are spread, every request here comes on
 * a connection of its own, and the workers' log lines (which name their worker) show both served.
 */
const dir = mkdtempSync(path.join(os.tmpdir(), 'workers-'));
const servers: ServerProcess[] = [];
afterAll(async () => {
  for (const server of servers) {
    server.child.kill('SIGTERM');
    await server.exited;
  }
  rmSync(dir, { recursive: true, force: true });
});

const adminToken = 'workers-test-admin-token-0123456789abcdef';
const allDay = { SERVICE_HOURS: '00:00-24:00' };

async function twoWorkers(name: string, env: Record<string, string>) {
  const databaseFile = path.join(dir, `${name}.db`);
  const server = await startServerProcess({ port: await freePort(), databaseFile, env: { WORKERS: '2', ADMIN_TOKEN: adminToken, ...allDay, ...env }, startupTimeoutMs: 90_000 });
  servers.push(server);
  // Both workers listen before anything is sent: otherwise the first one takes every connection.
  await until(() => (server.output().match(/chatbot listening/g) ?? []).length === 2, 60_000);
  return { server, databaseFile };
}

/** Which workers wrote log lines with this message. */
function workersThatLogged(server: ServerProcess, message: string): Set<number> {
  const workers = new Set<number>();
  for (const line of server.output().split('\n')) {
    if (!line.startsWith('{')) continue;
    const entry = JSON.parse(line) as { msg?: string; worker?: number };
    if (entry.msg === message && entry.worker !== undefined) workers.add(entry.worker);
  }
  return workers;
}

describe('WORKERS=2 on one SQLite file', () => {
  it('answers concurrent messages of one conversation one turn at a time, each starting where the one before ended', async () => {
    const { server, databaseFile } = await twoWorkers('order', noRateLimits);
    const conversation = (await call(server, 'POST', '/api/conversations', { body: {} })).json as { id: string; token: string };
    const texts = ['我要解绑', '有', '没有', '好了', '收不到验证码', '上一步', '再说一遍', '好', '怎么改密码', '谢谢'];
    const messages = [...texts, ...texts, ...texts];
    const answers = await Promise.all(messages.map((text) => call(server, 'POST', `/api/conversations/${conversation.id}/messages`, { token: conversation.token, body: { text } })));
    expect(answers.map((answer) => answer.status)).toEqual(messages.map(() => 200));
    expect(workersThatLogged(server, 'turn').size).toBe(2);
    // A scrape reaches one worker and counts every worker's messages.
    for (let scrape = 0; scrape < 2; scrape++) {
      const text = await new Promise<string>((resolve, reject) => {
        request(`${server.baseUrl}/metrics`, { agent: false }, (response) => {
          let body = '';
          response.on('data', (chunk: Buffer) => (body += chunk.toString()));
          response.on('end', () => resolve(body));
        }).on('error', reject).end();
      });
      expect(text).toMatch(new RegExp(`^chatbot_messages_total ${messages.length}$`, 'm'));
    }

    const db = new Database(databaseFile, { readonly: true });
    try {
      const turns = db.prepare('SELECT text, state_before, state_after, user_seq FROM turns WHERE conversation_id = ? ORDER BY user_seq').all(conversation.id) as { text: string; state_before: string; state_after: string; user_seq: number }[];
      expect(turns.map((turn) => turn.text).sort()).toEqual([...messages].sort());
      for (let index = 1; index < turns.length; index++) expect(turns[index]!.state_before).toBe(turns[index - 1]!.state_after);
      // Each answer is the one its saved turn recorded: no answer was computed from a state that was then lost.
      const answerBySeq = new Map(answers.map((answer) => [answer.json.userMessage.seq as number, answer.json]));
      for (const turn of turns) expect(answerBySeq.get(turn.user_seq)?.state).toBe(turn.state_after);
    } finally {
      db.close();
    }
  }, 180_000);

  it('starts a worker again when one is killed, and the server goes on answering', async () => {
    const { server } = await twoWorkers('restart', noRateLimits);
    const workerPids = execFileSync('pgrep', ['-P', String(server.child.pid)]).toString().trim().split('\n').map(Number);
    expect(workerPids).toHaveLength(2);
    process.kill(workerPids[0]!, 'SIGKILL');
    await until(() => server.output().includes('worker died: starting another'), 10_000);
    await until(() => (server.output().match(/chatbot listening/g) ?? []).length === 3, 60_000);
    for (let index = 0; index < 4; index++) expect((await call(server, 'POST', '/api/conversations', { body: {} })).status).toBe(201);
  }, 180_000);

  it('starts every worker again when all are killed at once, instead of the server vanishing', async () => {
    const { server } = await twoWorkers('restart-all', noRateLimits);
    const workerPids = execFileSync('pgrep', ['-P', String(server.child.pid)]).toString().trim().split('\n').map(Number);
    expect(workerPids).toHaveLength(2);
    for (const pid of workerPids) process.kill(pid, 'SIGKILL');
    await until(() => (server.output().match(/chatbot listening/g) ?? []).length === 4, 60_000);
    expect(server.child.exitCode).toBeNull();
    for (let index = 0; index < 4; index++) expect((await call(server, 'POST', '/api/conversations', { body: {} })).status).toBe(201);
  }, 180_000);

  it('gives a conversation one allowance, whichever worker its messages reach', async () => {
    // 2 a minute: a burst of 1, then one every 30 s. Each worker on its own would let one through.
    const { server } = await twoWorkers('limits', { ...noRateLimits, RATE_LIMIT_CONVERSATION_PER_MINUTE: '2' });
    const conversation = (await call(server, 'POST', '/api/conversations', { body: {} })).json as { id: string; token: string };
    const statuses: number[] = [];
    for (let index = 0; index < 6; index++) statuses.push((await call(server, 'POST', `/api/conversations/${conversation.id}/messages`, { token: conversation.token, body: { text: '我要解绑' } })).status);
    expect(statuses).toEqual([200, 429, 429, 429, 429, 429]);
    expect(workersThatLogged(server, 'request').size + workersThatLogged(server, 'turn').size).toBeGreaterThanOrEqual(2);
  }, 180_000);

  it("delivers an agent's message to the widget's sockets on both workers, and counts an agent online on either", async () => {
    const { server } = await twoWorkers('live', noRateLimits);
    const agent = (await call(server, 'POST', '/api/admin/agents', { token: adminToken, body: { name: '小林' } })).json as { id: string; token: string };
    // The agent's inbox stream is held by one worker; the user's handover below may reach the other.
    const controller = new AbortController();
    const inbox = await fetch(`${server.baseUrl}/api/agent/events`, { headers: { authorization: `Bearer ${agent.token}` }, signal: controller.signal });
    expect(inbox.status).toBe(200);
    try {
      await until(() => workersThatLogged(server, 'request').size >= 1);
      const conversation = (await call(server, 'POST', '/api/conversations', { body: {} })).json as { id: string; token: string };
      const handover = await call(server, 'POST', `/api/conversations/${conversation.id}/messages`, { token: conversation.token, body: { text: '转人工' } });
      expect(handover.json.replies.map((reply: { id: string }) => reply.id)).toContain('handoff.created');

      const sockets = await Promise.all([0, 1, 2, 3].map(async () => {
        const ws = new WebSocket(server.wsUrl);
        const frames: { type: string; text?: string }[] = [];
        ws.on('message', (data) => frames.push(JSON.parse(data.toString()) as (typeof frames)[number]));
        await new Promise((resolve) => ws.once('open', resolve));
        ws.send(JSON.stringify({ type: 'hello', conversation: conversation.id, token: conversation.token }));
        await until(() => frames.some((frame) => frame.type === 'ready'));
        return { ws, frames };
      }));
      try {
        expect((await call(server, 'POST', `/api/agent/conversations/${conversation.id}/claim`, { token: agent.token })).status).toBe(200);
        for (const text of ['你好，我在', '请稍等', '好了']) {
          expect((await call(server, 'POST', `/api/agent/conversations/${conversation.id}/messages`, { token: agent.token, body: { text } })).status).toBe(201);
        }
        for (const { frames } of sockets) {
          await until(() => frames.filter((frame) => frame.type === 'agent.message').length === 3);
          expect(frames.filter((frame) => frame.type === 'agent.message').map((frame) => frame.text)).toEqual(['你好，我在', '请稍等', '好了']);
        }
        expect(workersThatLogged(server, 'request').size).toBe(2);
      } finally {
        for (const { ws } of sockets) ws.close();
      }
    } finally {
      controller.abort();
    }
  }, 180_000);
});
