import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { until } from '../support/agentClient.js';
import { createTestDatabase, type TestDatabase } from '../support/postgresDatabase.js';
import { startPrivateRedis, type PrivateRedis } from '../support/privateRedis.js';
import { callOnNewConnection as call, freePort, noRateLimits, startServerProcess, stopServerProcesses, type ServerProcess } from '../support/serverProcess.js';

/**
 * Three server processes on one PostgreSQL database and one Redis, with no load balancer and no
 * sticky sessions: the test itself sends each request to whichever instance it likes, as a
 * round-robin balancer would. Redis is the test's own, so it can be restarted mid-run. Each
 * instance keeps 4 PostgreSQL connections, so the instances of this file stay well within the
 * server's 100 while other test files use it too.
 */
const adminToken = 'instances-test-admin-token-0123456789abcdef';
const allDay = { SERVICE_HOURS: '00:00-24:00' };
const dir = mkdtempSync(path.join(os.tmpdir(), 'instances-'));
let database: TestDatabase;
let redis: PrivateRedis;
let instances: ServerProcess[] = [];

async function startInstance(env: Record<string, string> = {}): Promise<ServerProcess> {
  return startServerProcess({
    port: await freePort(),
    databaseFile: path.join(dir, 'unused.db'),
    env: { DATABASE_URL: database.url, REDIS_URL: redis.url, WORKERS: '1', DATABASE_POOL_SIZE: '4', ADMIN_TOKEN: adminToken, ...allDay, ...noRateLimits, ...env },
    startupTimeoutMs: 90_000,
  });
}

beforeAll(async () => {
  [database, redis] = await Promise.all([createTestDatabase('chatbot_instances'), startPrivateRedis()]);
  // All three at once: they migrate the empty database together.
  instances = await Promise.all([startInstance(), startInstance(), startInstance()]);
}, 120_000);

afterAll(async () => {
  await stopServerProcesses();
  await redis?.stop();
  await database?.drop();
  rmSync(dir, { recursive: true, force: true });
  // Killing servers that are mid-test can take longer than the default 10 s, and the database must still go.
}, 60_000);

type Conversation = { id: string; token: string };
const newConversation = async (on: ServerProcess) => (await call(on, 'POST', '/api/conversations', { body: {} })).json as Conversation;
const say = (on: ServerProcess, conversation: Conversation, text: string) => call(on, 'POST', `/api/conversations/${conversation.id}/messages`, { token: conversation.token, body: { text } });
const replyIds = (answer: { json: { replies: { id: string }[] } }) => answer.json.replies.map((reply) => reply.id);

/** The turns PostgreSQL holds for a conversation, in the order they were saved. */
const savedTurns = (conversationId: string) =>
  database.query<{ text: string; state_before: string; state_after: string; user_seq: number }>('SELECT text, state_before, state_after, user_seq FROM turns WHERE conversation_id = $1 ORDER BY user_seq', [conversationId]);

async function openWidgetSocket(on: ServerProcess, conversation: Conversation) {
  const ws = new WebSocket(on.wsUrl);
  const frames: { type: string; text?: string }[] = [];
  ws.on('message', (data) => frames.push(JSON.parse(data.toString()) as (typeof frames)[number]));
  await new Promise((resolve) => ws.once('open', resolve));
  ws.send(JSON.stringify({ type: 'hello', conversation: conversation.id, token: conversation.token }));
  await until(() => frames.some((frame) => frame.type === 'ready'));
  return { ws, frames, agentLines: () => frames.filter((frame) => frame.type === 'agent.message').map((frame) => frame.text) };
}

describe('three instances on one PostgreSQL and one Redis', () => {
  it('carries a conversation whose messages alternate between instances as one instance would', async () => {
    const [a, b, c] = instances as [ServerProcess, ServerProcess, ServerProcess];
    const conversation = await newConversation(a);
    expect(replyIds(await say(b, conversation, '我要解绑微信钱包'))).toContain('unbind.askBalance');
    // "有" answers the question instance b asked; c must read where b left the conversation.
    const balance = await say(c, conversation, '有');
    expect(balance.status).toBe(200);
    expect(replyIds(balance).some((id) => id.startsWith('unbind.'))).toBe(true);
    expect(replyIds(balance)).not.toContain('unbind.askBalance');
    const turns = await savedTurns(conversation.id);
    expect(turns.map((turn) => turn.text)).toEqual(['我要解绑微信钱包', '有']);
    expect(turns[1]!.state_before).toBe(turns[0]!.state_after);
    // The transcript reads the same from every instance.
    const transcripts = await Promise.all(instances.map((on) => call(on, 'GET', `/api/conversations/${conversation.id}/messages`, { token: conversation.token })));
    for (const transcript of transcripts) expect(transcript.json).toEqual(transcripts[0]!.json);
  }, 60_000);

  it('answers 50 concurrent messages of one conversation spread over the instances one turn at a time, each starting where the one before ended', async () => {
    const conversation = await newConversation(instances[0]!);
    const texts = ['我要解绑', '有', '没有', '好了', '收不到验证码', '上一步', '再说一遍', '好', '怎么改密码', '谢谢'];
    const messages = Array.from({ length: 50 }, (_, index) => texts[index % texts.length]!);
    const answers = await Promise.all(messages.map((text, index) => say(instances[index % 3]!, conversation, text)));
    expect(answers.map((answer) => answer.status)).toEqual(messages.map(() => 200));
    const turns = await savedTurns(conversation.id);
    expect(turns.map((turn) => turn.text).sort()).toEqual([...messages].sort());
    for (let index = 1; index < turns.length; index++) expect(turns[index]!.state_before).toBe(turns[index - 1]!.state_after);
    // Each answer is the one its saved turn recorded: none was computed from a state that was then lost.
    const answerBySeq = new Map(answers.map((answer) => [answer.json.userMessage.seq as number, answer.json]));
    for (const turn of turns) expect(answerBySeq.get(turn.user_seq)?.state).toBe(turn.state_after);
  }, 120_000);

  it("delivers an agent's message posted on one instance to the widget's sockets on the others", async () => {
    const [a, b, c] = instances as [ServerProcess, ServerProcess, ServerProcess];
    const agent = (await call(a, 'POST', '/api/admin/agents', { token: adminToken, body: { name: '小林' } })).json as { id: string; token: string };
    // The agent's inbox stream is held by instance a; the user's handover reaches b.
    const controller = new AbortController();
    const inbox = await fetch(`${a.baseUrl}/api/agent/events`, { headers: { authorization: `Bearer ${agent.token}` }, signal: controller.signal });
    expect(inbox.status).toBe(200);
    try {
      const conversation = await newConversation(b);
      const handover = await say(b, conversation, '转人工');
      expect(replyIds(handover)).toContain('handoff.created');
      const sockets = await Promise.all([b, c].map((on) => openWidgetSocket(on, conversation)));
      try {
        expect((await call(c, 'POST', `/api/agent/conversations/${conversation.id}/claim`, { token: agent.token })).status).toBe(200);
        for (const text of ['你好，我在', '请稍等', '好了']) {
          expect((await call(a, 'POST', `/api/agent/conversations/${conversation.id}/messages`, { token: agent.token, body: { text } })).status).toBe(201);
        }
        for (const socket of sockets) {
          await until(() => socket.agentLines().length === 3, 10_000);
          expect(socket.agentLines()).toEqual(['你好，我在', '请稍等', '好了']);
        }
      } finally {
        for (const { ws } of sockets) ws.close();
      }
    } finally {
      controller.abort();
    }
  }, 60_000);

  it("shows a websocket turn on one instance in the user's other tab, held by another", async () => {
    const [a, b] = instances as [ServerProcess, ServerProcess];
    const conversation = await newConversation(a);
    const [sender, otherTab] = await Promise.all([openWidgetSocket(a, conversation), openWidgetSocket(b, conversation)]);
    try {
      sender.ws.send(JSON.stringify({ type: 'message', text: '我要解绑微信钱包', clientMessageId: 'tab-1' }));
      const botReplies = (socket: typeof sender) => socket.frames.filter((frame) => frame.type === 'message').map((frame) => (frame as { id?: string }).id);
      await until(() => botReplies(sender).includes('unbind.askBalance'), 10_000);
      await until(() => botReplies(otherTab).includes('unbind.askBalance'), 10_000);
      expect(botReplies(otherTab)).toEqual(botReplies(sender));
      expect(otherTab.frames.find((frame) => frame.type === 'message.accepted')).toMatchObject({ text: '我要解绑微信钱包', clientMessageId: 'tab-1' });
    } finally {
      sender.ws.close();
      otherTab.ws.close();
    }
  }, 60_000);

  it('gives a conversation one allowance, whichever instance its messages reach', async () => {
    // 2 a minute: a burst of 1, then one every 30 s. Each instance on its own would let one through.
    const limited = await Promise.all([0, 1, 2].map(() => startInstance({ RATE_LIMIT_CONVERSATION_PER_MINUTE: '2' })));
    try {
      const conversation = await newConversation(limited[0]!);
      const statuses: number[] = [];
      for (let index = 0; index < 6; index++) statuses.push((await say(limited[index % 3]!, conversation, '我要解绑')).status);
      expect(statuses).toEqual([200, 429, 429, 429, 429, 429]);
    } finally {
      for (const server of limited) {
        server.child.kill('SIGTERM');
        await server.exited;
      }
    }
  }, 120_000);

  it('answers on when PostgreSQL drops every connection (a restart or a failover): no error but "send it again", then the pool reconnects', async () => {
    const conversation = await newConversation(instances[0]!);
    expect((await say(instances[1]!, conversation, '我要解绑')).status).toBe(200);
    const dropped = await database.query<{ dropped: boolean }>('SELECT pg_terminate_backend(pid) AS dropped FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()');
    expect(dropped.length).toBeGreaterThan(0);
    const statuses: number[] = [];
    for (let index = 0; index < 6; index++) statuses.push((await say(instances[index % 3]!, conversation, index % 2 ? '有' : '再说一遍')).status);
    // A message whose connection was cut may be refused with 503 (storage_unavailable), never a 500; the rest are answered.
    expect(statuses.every((status) => status === 200 || status === 503)).toBe(true);
    expect(statuses.at(-1)).toBe(200);
    for (const on of instances) expect((await fetch(`${on.baseUrl}/healthz`)).status).toBe(200);
  }, 60_000);

  it('loses nothing it acknowledged when one instance is killed under load, and the others go on', async () => {
    const conversations = await Promise.all(Array.from({ length: 12 }, (_, index) => newConversation(instances[index % 3]!)));
    const texts = ['我要解绑', '有', '好了', '收不到验证码', '上一步', '谢谢'];
    const acknowledged: { conversation: Conversation; seq: number; text: string }[] = [];
    let refusedByTheKilled = 0;
    let stop = false;
    const victim = instances[2]!;
    // As a balancer with passive health checks: an instance that fails a request gets no more.
    let victimDown = false;
    const load = conversations.map(async (conversation, index) => {
      for (let round = 0; !stop; round++) {
        const candidates = victimDown ? instances.filter((instance) => instance !== victim) : instances;
        const on = candidates[(index + round) % candidates.length]!;
        const text = texts[round % texts.length]!;
        try {
          const answer = await say(on, conversation, text);
          if (answer.status === 200) acknowledged.push({ conversation, seq: answer.json.userMessage.seq as number, text });
          else if (on !== victim) throw new Error(`instance answered ${answer.status}: ${JSON.stringify(answer.json)}`);
        } catch (error) {
          // Only the killed instance may fail a request (its connections are cut).
          if (on !== victim) throw error;
          victimDown = true;
          refusedByTheKilled++;
        }
      }
    });
    await until(() => acknowledged.length >= 60, 60_000);
    victim.child.kill('SIGKILL');
    await victim.exited;
    const atKill = acknowledged.length;
    await until(() => acknowledged.length >= atKill + 60, 60_000);
    stop = true;
    await Promise.all(load);
    // Every acknowledged message is in its conversation's transcript, at the seq it was answered with.
    for (const { conversation, seq, text } of acknowledged) {
      const rows = await database.query<{ text: string }>("SELECT text FROM transcript WHERE conversation_id = $1 AND seq = $2 AND role = 'user'", [conversation.id, seq]);
      expect(rows.map((row) => row.text)).toEqual([text]);
    }
    for (const conversation of conversations) {
      const turns = await savedTurns(conversation.id);
      for (let index = 1; index < turns.length; index++) expect(turns[index]!.state_before).toBe(turns[index - 1]!.state_after);
    }
    // The requests the killed instance had in flight (at most one per conversation), and those sent before the balancer noticed.
    expect(refusedByTheKilled).toBeGreaterThan(0);
    expect(refusedByTheKilled).toBeLessThan(conversations.length * 2);
    // A new instance takes the killed one's place.
    instances[2] = await startInstance();
    expect(replyIds(await say(instances[2]!, conversations[0]!, '谢谢')).length).toBeGreaterThan(0);
  }, 180_000);

  it('refuses limited requests while Redis is away (fails closed), and shares limits and live delivery again once it is back', async () => {
    const limited = await Promise.all([0, 1].map(() => startInstance({ RATE_LIMIT_CONVERSATION_PER_MINUTE: '600' })));
    try {
      const [a, b] = limited as [ServerProcess, ServerProcess];
      const conversation = await newConversation(a);
      expect((await say(b, conversation, '我要解绑')).status).toBe(200);
      await redis.stop();
      const during = await say(a, conversation, '有');
      expect(during.status).toBe(429);
      expect(Number(during.json?.retryAfterSeconds ?? 5)).toBeGreaterThan(0);
      await redis.start();
      // Both instances reconnect by themselves: the limit is shared again and answers.
      await until(async () => (await say(a, conversation, '有')).status === 200, 20_000);
      await until(async () => (await say(b, conversation, '谢谢')).status === 200, 20_000);

      // Live delivery resumes: an agent's message on a reaches the widget's socket on b.
      const agent = (await call(a, 'POST', '/api/admin/agents', { token: adminToken, body: { name: '小周' } })).json as { id: string; token: string };
      const handedOver = await newConversation(a);
      expect(replyIds(await say(a, handedOver, '转人工'))).toContain('handoff.created');
      const socket = await openWidgetSocket(b, handedOver);
      try {
        expect((await call(a, 'POST', `/api/agent/conversations/${handedOver.id}/claim`, { token: agent.token })).status).toBe(200);
        expect((await call(a, 'POST', `/api/agent/conversations/${handedOver.id}/messages`, { token: agent.token, body: { text: '我来了' } })).status).toBe(201);
        await until(() => socket.agentLines().includes('我来了'), 10_000);
      } finally {
        socket.ws.close();
      }
      expect(a.output()).toMatch(/Redis unavailable/);
    } finally {
      for (const server of limited) {
        server.child.kill('SIGTERM');
        await server.exited;
      }
    }
  }, 120_000);
});
