import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConversation, sendMessage, startTestServer } from '../support/testServer.js';

/** A receiver on loopback that answers 503 to its first `failures` deliveries, then 200. */
function flakyReceiver(failures: number) {
  const received: { status: number; body: { type: string; ticket: { id: number; conversationId: string; reason: string }; transcript: { role: string; text: string }[] } }[] = [];
  let calls = 0;
  const server: Server = createServer((req: IncomingMessage, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      calls++;
      const status = calls <= failures ? 503 : 200;
      received.push({ status, body: JSON.parse(body) as (typeof received)[number]['body'] });
      res.writeHead(status).end();
    });
  });
  return {
    received,
    delivered: () => received.filter((entry) => entry.status === 200),
    url: () => `http://127.0.0.1:${(server.address() as AddressInfo).port}/tickets`,
    listen: () => new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve)),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function until(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

const fast = { pollMs: 50, baseDelayMs: 50, maxDelayMs: 400 };

describe('HANDOFF_WEBHOOK_URL', () => {
  const receiver = flakyReceiver(2);
  beforeAll(() => receiver.listen());
  afterAll(() => receiver.close());

  it('delivers each ticket with its redacted transcript, retrying while the receiver fails, exactly once', async () => {
    const server = await startTestServer({ handoffWebhookUrl: receiver.url(), webhookOptions: fast });
    try {
      const conversation = await createConversation(server.baseUrl);
      await sendMessage(server.baseUrl, conversation, { text: '我的手机号13812345678，帮我转人工' });
      await until(() => receiver.delivered().length === 1);
      expect(receiver.received.map((entry) => entry.status)).toEqual([503, 503, 200]);
      const { body } = receiver.delivered()[0]!;
      expect(body.type).toBe('handoff.requested');
      expect(body.ticket).toMatchObject({ conversationId: conversation.id, reason: 'user_request' });
      expect(JSON.stringify(body.transcript)).toContain('[手机号]');
      expect(JSON.stringify(body.transcript)).not.toContain('13812345678');
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(receiver.delivered()).toHaveLength(1);
      expect(await server.store.undeliveredCount()).toBe(0);
    } finally {
      await server.stop();
      server.cleanup();
    }
  }, 20_000);
});

describe('a delivery that fails before a restart', () => {
  const receiver = flakyReceiver(1);
  beforeAll(() => receiver.listen());
  afterAll(() => receiver.close());

  it('is kept in the database and delivered after the server starts again', async () => {
    const slow = { pollMs: 60_000, baseDelayMs: 100, maxDelayMs: 100 };
    const first = await startTestServer({ handoffWebhookUrl: receiver.url(), webhookOptions: slow });
    const conversation = await createConversation(first.baseUrl);
    await sendMessage(first.baseUrl, conversation, { text: '转人工' });
    await until(() => receiver.received.length === 1);
    await first.stop();
    expect(receiver.delivered()).toHaveLength(0);

    const second = await startTestServer({ databaseFile: first.databaseFile, handoffWebhookUrl: receiver.url(), webhookOptions: fast });
    try {
      await until(() => receiver.delivered().length === 1);
      expect(receiver.delivered()[0]!.body.ticket.conversationId).toBe(conversation.id);
    } finally {
      await second.stop();
      first.cleanup();
    }
  }, 20_000);
});
