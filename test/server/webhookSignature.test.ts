import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HandoffWebhook } from '../../src/support/handoffWebhook.js';
import { parseServiceHours } from '../../src/support/serviceHours.js';
import { SqliteConversationStore } from '../../src/storage/sqliteConversationStore.js';
import { adminToken, agentCall, createAgent, until } from '../support/agentClient.js';
import { createConversation, sendMessage, startTestServer } from '../support/testServer.js';

const secret = 'a-shared-secret-of-some-length';

/**
 * A helpdesk's receiver, as its documentation would tell it to check: the HMAC of
 * timestamp + "." + raw body under the shared secret, and a timestamp at most 5 minutes old.
 */
function verifyingReceiver(now: () => number = () => Date.now() / 1000) {
  const accepted: { headers: IncomingHttpHeaders; raw: string; body: { type: string; id: string; [key: string]: unknown } }[] = [];
  const refused: string[] = [];
  let failFirst = 0;
  const verify = (headers: IncomingHttpHeaders, raw: string): string | undefined => {
    const timestamp = String(headers['x-timestamp'] ?? '');
    const signature = String(headers['x-signature'] ?? '');
    if (!/^\d+$/.test(timestamp) || Math.abs(now() - Number(timestamp)) > 300) return 'stale timestamp';
    const expected = Buffer.from(`sha256=${createHmac('sha256', secret).update(`${timestamp}.${raw}`).digest('hex')}`);
    const given = Buffer.from(signature);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return 'bad signature';
    return undefined;
  };
  const server = createServer((req, res) => {
    let raw = '';
    req.on('data', (chunk: Buffer) => (raw += chunk.toString()));
    req.on('end', () => {
      const problem = verify(req.headers, raw);
      if (problem) {
        refused.push(problem);
        return res.writeHead(401).end();
      }
      if (failFirst > 0) {
        failFirst--;
        return res.writeHead(503).end();
      }
      accepted.push({ headers: req.headers, raw, body: JSON.parse(raw) as (typeof accepted)[number]['body'] });
      res.writeHead(200).end();
    });
  });
  return {
    accepted,
    refused,
    failNext: (count: number) => (failFirst = count),
    url: () => `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    listen: () => new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve)),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
    post: (headers: Record<string, string>, raw: string) => fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, { method: 'POST', headers, body: raw }),
  };
}

describe('signed webhook events', () => {
  let clockOffset = 0;
  const receiver = verifyingReceiver(() => Date.now() / 1000 + clockOffset);
  beforeAll(() => receiver.listen());
  afterAll(() => receiver.close());

  it('sends handoff.requested, message.created (user and agent) and conversation.resolved, each signed; a replay is refused', async () => {
    const server = await startTestServer({
      adminToken,
      serviceHours: parseServiceHours('00:00-24:00'),
      handoffWebhookUrl: receiver.url(),
      handoffWebhookSecret: secret,
      webhookOptions: { pollMs: 50, baseDelayMs: 50, maxDelayMs: 200 },
    });
    try {
      const agent = await createAgent(server.baseUrl, '小林');
      const conversation = await createConversation(server.baseUrl);
      await sendMessage(server.baseUrl, conversation, { text: '转人工' });
      await sendMessage(server.baseUrl, conversation, { text: '我的卡号是6222021234567890123，还在吗' });
      await agentCall(server.baseUrl, agent, 'POST', `/conversations/${conversation.id}/claim`);
      await agentCall(server.baseUrl, agent, 'POST', `/conversations/${conversation.id}/messages`, { text: '在的' });
      await agentCall(server.baseUrl, agent, 'POST', `/conversations/${conversation.id}/resolve`);
      await until(() => receiver.accepted.length === 4, 10_000);
      expect(receiver.refused).toEqual([]);
      expect(receiver.accepted.map(({ body }) => body.type)).toEqual(['handoff.requested', 'message.created', 'message.created', 'conversation.resolved']);
      const [requested, userLine, agentLine, resolved] = receiver.accepted.map(({ body }) => body);
      expect(requested).toMatchObject({ ticket: { conversationId: conversation.id, reason: 'user_request', handoffStatus: 'waiting' } });
      expect(userLine).toMatchObject({ conversationId: conversation.id, message: { role: 'user' } });
      expect(JSON.stringify(userLine)).not.toContain('6222021234567890123');
      expect(agentLine).toMatchObject({ message: { role: 'agent', agentName: '小林', text: '在的' } });
      expect(resolved).toMatchObject({ conversationId: conversation.id, ticket: { handoffStatus: 'resolved', resolution: 'resolved' } });

      // The same delivery sent again ten minutes later, or with its body changed, is refused.
      const { headers, raw } = receiver.accepted[0]!;
      const original = { 'content-type': 'application/json', 'x-timestamp': String(headers['x-timestamp']), 'x-signature': String(headers['x-signature']) };
      clockOffset = 600;
      expect((await receiver.post(original, raw)).status).toBe(401);
      clockOffset = 0;
      expect((await receiver.post(original, raw.replace('user_request', 'verification_failed'))).status).toBe(401);
      expect((await receiver.post({ ...original, 'x-signature': `sha256=${'0'.repeat(64)}` }, raw)).status).toBe(401);
      expect(receiver.refused).toEqual(['stale timestamp', 'bad signature', 'bad signature']);
      // Unchanged and on time it verifies (a receiver that keeps the ids it has seen drops it as a duplicate).
      expect((await receiver.post(original, raw)).status).toBe(200);
    } finally {
      await server.stop();
      server.cleanup();
    }
  }, 30_000);

  it('signs each attempt anew: a retry carries the time of the retry', async () => {
    const store = new SqliteConversationStore(':memory:');
    let clock = new Date('2026-01-01T00:00:00Z');
    const local = verifyingReceiver(() => clock.getTime() / 1000);
    await local.listen();
    const webhook = new HandoffWebhook({ url: local.url(), secret, store, now: () => clock, baseDelayMs: 1000 });
    try {
      await store.saveTurn('c1', {
        state: { flowVersion: 'v', snapshot: {}, script: 'simplified' },
        entries: [{ role: 'user', text: '转人工', at: clock.toISOString() }],
        ticket: { conversationId: 'c1', reason: 'user_request', step: 0, state: 'handedOff', createdAt: clock.toISOString() },
      });
      local.failNext(1);
      await webhook.deliverDue();
      expect(local.accepted).toHaveLength(0);
      clock = new Date(clock.getTime() + 60_000);
      await webhook.deliverDue();
      expect(local.accepted).toHaveLength(1);
      expect(Number(local.accepted[0]!.headers['x-timestamp'])).toBe(clock.getTime() / 1000);
    } finally {
      await webhook.stop();
      await local.close();
      store.close();
    }
  });
});
