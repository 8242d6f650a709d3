import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { noRateLimits } from '../../src/limits/rateLimiter.js';
import { createConversation, sendMessage, startTestServer, type Conversation, type TestServer } from '../support/testServer.js';

interface ErrorBody {
  error: { code: string; message: string };
}

const adminToken = 'an-admin-token-long-enough-0123456789';

async function rate(server: TestServer, conversation: Conversation, body: Record<string, unknown>): Promise<Response> {
  return fetch(`${server.baseUrl}/api/conversations/${conversation.id}/rating`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${conversation.token}` },
    body: JSON.stringify(body),
  });
}

async function ratingsInAnalytics(server: TestServer): Promise<{ helpful: number; notHelpful: number }> {
  const response = await fetch(`${server.baseUrl}/api/admin/analytics`, { headers: { authorization: `Bearer ${adminToken}` } });
  return ((await response.json()) as { totals: { ratings: { helpful: number; notHelpful: number } } }).totals.ratings;
}

describe('ratings: one per answer, the latest wins', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ adminToken });
  });
  afterAll(async () => {
    await server.stop();
    server.cleanup();
  });

  it('a conversation that has said nothing cannot rate, and 100 votes on one answer count once', async () => {
    const silent = await createConversation(server.baseUrl);
    const refused = await rate(server, silent, { helpful: false });
    expect(refused.status).toBe(409);
    expect(((await refused.json()) as ErrorBody).error.code).toBe('nothing_to_rate');

    const asker = await createConversation(server.baseUrl);
    const turn = (await (await sendMessage(server.baseUrl, asker, { text: '解绑后还能用微信支付吗' })).json()) as { answerSeq: number | null; askRating: boolean };
    expect(turn.askRating).toBe(true);
    expect(turn.answerSeq).toBeGreaterThan(1);
    for (let vote = 0; vote < 100; vote++) expect((await rate(server, asker, { helpful: false })).status).toBe(204);
    expect(await ratingsInAnalytics(server)).toMatchObject({ helpful: 0, notHelpful: 1 });

    // Changing one's mind replaces the vote on that answer.
    expect((await rate(server, asker, { helpful: true })).status).toBe(204);
    expect(await ratingsInAnalytics(server)).toMatchObject({ helpful: 1, notHelpful: 0 });
  });

  it('the rating lands on the answer it names, not on whatever was said last, and only on answers', async () => {
    const asker = await createConversation(server.baseUrl);
    const first = (await (await sendMessage(server.baseUrl, asker, { text: '解绑后记录还在吗' })).json()) as { answerSeq: number };
    await sendMessage(server.baseUrl, asker, { text: '解绑后还能用微信支付吗' });
    expect((await rate(server, asker, { helpful: false, answerSeq: first.answerSeq })).status).toBe(204);
    const stored = server.store.db.prepare<[string], { answer_seq: number }>('SELECT answer_seq FROM ratings WHERE conversation_id = ?').all(asker.id);
    expect(stored).toEqual([{ answer_seq: first.answerSeq }]);

    // Line 1 is the greeting (no question came before it); line 2 is what the user typed.
    for (const answerSeq of [1, 2, 9999]) {
      const response = await rate(server, asker, { helpful: true, answerSeq });
      expect(response.status).toBe(404);
      expect(((await response.json()) as ErrorBody).error.code).toBe('answer_not_found');
    }
  });
});

describe('limits on what strangers can create', () => {
  it('new conversations are limited per address; another address behind the same proxy is not held up', async () => {
    const server = await startTestServer({
      trustProxy: 1,
      rateLimits: { ...noRateLimits, newConversationsPerAddress: { perMinute: 6, burst: 3 }, newConversationsTotal: { perMinute: 600, burst: 100 } },
    });
    try {
      const open = (address: string) => fetch(`${server.baseUrl}/api/conversations`, { method: 'POST', headers: { 'x-forwarded-for': address } });
      const statuses = [];
      for (let attempt = 0; attempt < 5; attempt++) statuses.push((await open('203.0.113.7')).status);
      expect(statuses).toEqual([201, 201, 201, 429, 429]);
      const refused = await open('203.0.113.7');
      expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(((await refused.json()) as ErrorBody).error.code).toBe('rate_limited');
      expect((await open('198.51.100.20')).status).toBe(201);
      const stored = server.store.db.prepare<[], { count: number }>('SELECT COUNT(*) AS count FROM conversations').get()!.count;
      expect(stored).toBe(4);
    } finally {
      await server.stop();
      server.cleanup();
    }
  });

  it('new conversations are limited for everyone together, whatever addresses they come from', async () => {
    const server = await startTestServer({ trustProxy: 1, rateLimits: { ...noRateLimits, newConversationsTotal: { perMinute: 4, burst: 4 } } });
    try {
      const statuses = [];
      for (let client = 0; client < 6; client++) {
        statuses.push((await fetch(`${server.baseUrl}/api/conversations`, { method: 'POST', headers: { 'x-forwarded-for': `192.0.2.${client + 1}` } })).status);
      }
      expect(statuses).toEqual([201, 201, 201, 201, 429, 429]);
    } finally {
      await server.stop();
      server.cleanup();
    }
  });

  it('tickets from one address are limited: past the limit the user is told a human cannot be queued now, and no ticket is opened', async () => {
    const server = await startTestServer({ rateLimits: { ...noRateLimits, ticketsPerAddress: { perMinute: 2 / 60, burst: 2 } } });
    try {
      const replies: string[][] = [];
      for (let attempt = 0; attempt < 3; attempt++) {
        const conversation = await createConversation(server.baseUrl);
        const body = (await (await sendMessage(server.baseUrl, conversation, { text: '转人工' })).json()) as { replies: { id: string }[]; state: string };
        replies.push(body.replies.map((reply) => reply.id));
        if (attempt === 2) {
          expect(body.state).toBe('idle');
          // The bot answers on: the next question gets an answer, not "you are in the queue".
          const next = (await (await sendMessage(server.baseUrl, conversation, { text: '解绑后记录还在吗' })).json()) as { replies: { id: string }[] };
          expect(next.replies[0]!.id).toMatch(/^faq\./);
        }
      }
      // Nobody is signed in as an agent here: the ticket waits for one ("handoff.nobodyAvailable").
      expect(replies[0]).toContain('handoff.nobodyAvailable');
      expect(replies[1]).toContain('handoff.nobodyAvailable');
      expect(replies[2]).toEqual(['handoff.busy']);
      expect(await server.store.tickets()).toHaveLength(2);
    } finally {
      await server.stop();
      server.cleanup();
    }
  });
});

describe('a proxy in front (TRUST_PROXY as a hop count)', () => {
  it('a made-up X-Forwarded-For does not give a client a fresh allowance: the address the proxy saw is used', async () => {
    const server = await startTestServer({ trustProxy: 1, rateLimits: { ...noRateLimits, perAddress: { perMinute: 60, burst: 5 } } });
    try {
      const statuses = [];
      for (let attempt = 0; attempt < 8; attempt++) {
        // The client invents a new address each time; the proxy appends the one it really saw.
        const forwarded = `10.${attempt}.${attempt}.${attempt}, 203.0.113.50`;
        statuses.push((await fetch(`${server.baseUrl}/api/ui`, { headers: { 'x-forwarded-for': forwarded } })).status);
      }
      expect(statuses.slice(0, 5)).toEqual([200, 200, 200, 200, 200]);
      expect(statuses.slice(5)).toEqual([429, 429, 429]);
    } finally {
      await server.stop();
      server.cleanup();
    }
  });
});

describe('private data is never cached; /metrics has its own token', () => {
  const metricsToken = 'a-metrics-token-for-the-scraper-0123456789';
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ adminToken, metricsToken });
  });
  afterAll(async () => {
    await server.stop();
    server.cleanup();
  });

  it('transcripts, turns, errors and admin data say Cache-Control: no-store; the widget labels may be cached', async () => {
    const conversation = await createConversation(server.baseUrl);
    const auth = { authorization: `Bearer ${conversation.token}` };
    const responses = [
      await sendMessage(server.baseUrl, conversation, { text: '解绑要手续费吗' }),
      await fetch(`${server.baseUrl}/api/conversations/${conversation.id}`, { headers: auth }),
      await fetch(`${server.baseUrl}/api/conversations/${conversation.id}`, { headers: { authorization: 'Bearer wrong' } }),
      await fetch(`${server.baseUrl}/api/admin/tickets`, { headers: { authorization: `Bearer ${adminToken}` } }),
      await fetch(`${server.baseUrl}/metrics`, { headers: { authorization: `Bearer ${metricsToken}` } }),
    ];
    for (const response of responses) expect(response.headers.get('cache-control')).toBe('no-store');
    expect((await fetch(`${server.baseUrl}/api/ui`)).headers.get('cache-control')).toBe('public, max-age=300');
  });

  it('/metrics refuses a request without the token, and tells which token it wants', async () => {
    const refused = await fetch(`${server.baseUrl}/metrics`);
    expect(refused.status).toBe(401);
    expect(((await refused.json()) as ErrorBody).error.code).toBe('metrics_token_required');
    expect((await fetch(`${server.baseUrl}/metrics`, { headers: { authorization: `Bearer ${adminToken}` } })).status).toBe(401);
    const scraped = await fetch(`${server.baseUrl}/metrics`, { headers: { authorization: `Bearer ${metricsToken}` } });
    expect(scraped.status).toBe(200);
    expect(await scraped.text()).toContain('nodejs_version_info');
  });
});
