import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createConversation, sendMessage, serveDuringTests } from '../support/testServer.js';

interface ErrorBody {
  error: { code: string; message: string };
}

describe('per-conversation limit (REST and websocket share it)', () => {
  const server = serveDuringTests({
    rateLimits: { perAddress: { perMinute: 0, burst: 0 }, perConversation: { perMinute: 6, burst: 3 }, socketsPerAddress: 0 },
  });

  it('answers a burst beyond the allowance with 429, Retry-After and a clear message; other conversations are unaffected', async () => {
    const flooded = await createConversation(server.baseUrl);
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await sendMessage(server.baseUrl, flooded, { text: '你好' })).status);
    expect(statuses).toEqual([200, 200, 200]);
    const refused = await sendMessage(server.baseUrl, flooded, { text: '你好' });
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    const body = (await refused.json()) as ErrorBody;
    expect(body.error.code).toBe('rate_limited');
    expect(body.error.message).toMatch(/try again in \d+ s/);

    const other = await createConversation(server.baseUrl);
    expect((await sendMessage(server.baseUrl, other, { text: '你好' })).status).toBe(200);
    // The refused message took no turn.
    const view = (await (await fetch(`${server.baseUrl}/api/conversations/${flooded.id}`, { headers: { authorization: `Bearer ${flooded.token}` } })).json()) as {
      transcript: { role: string }[];
    };
    expect(view.transcript.filter((entry) => entry.role === 'user')).toHaveLength(3);
  });

  it('counts websocket messages against the same allowance and answers the excess with a rate_limited frame', async () => {
    const conversation = await createConversation(server.baseUrl);
    await sendMessage(server.baseUrl, conversation, { text: '你好' });
    const ws = new WebSocket(server.wsUrl);
    const frames: { type: string; code?: string; retryAfter?: number }[] = [];
    ws.on('message', (data) => frames.push(JSON.parse(data.toString()) as (typeof frames)[number]));
    await new Promise((resolve) => ws.once('open', resolve));
    ws.send(JSON.stringify({ type: 'hello', conversation: conversation.id, token: conversation.token }));
    for (let i = 0; i < 3; i++) ws.send(JSON.stringify({ type: 'message', text: '你好' }));
    await expect.poll(() => frames.filter((frame) => frame.type === 'error').length, { timeout: 5000 }).toBe(1);
    const limited = frames.find((frame) => frame.type === 'error')!;
    expect(limited).toMatchObject({ code: 'rate_limited' });
    expect(limited.retryAfter).toBeGreaterThanOrEqual(1);
    // Two answered (typing + reply each); the socket stays open.
    await expect.poll(() => frames.filter((frame) => frame.type === 'message').length).toBe(2);
    expect(ws.readyState).toBe(WebSocket.OPEN);
    ws.close();
  });
});

describe('per-address limit and socket cap', () => {
  const server = serveDuringTests({
    rateLimits: { perAddress: { perMinute: 60, burst: 5 }, perConversation: { perMinute: 0, burst: 0 }, socketsPerAddress: 2 },
  });

  it('limits every API request from one address, the widget script and page excepted', async () => {
    const statuses = [];
    for (let i = 0; i < 7; i++) statuses.push((await fetch(`${server.baseUrl}/api/ui`)).status);
    expect(statuses.slice(0, 5)).toEqual([200, 200, 200, 200, 200]);
    expect(statuses.at(-1)).toBe(429);
    const refused = await fetch(`${server.baseUrl}/api/ui`);
    expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
    expect((await fetch(`${server.baseUrl}/widget.js`)).status).toBe(200);
  });

  it('caps open sockets per address with a 429 on the upgrade', async () => {
    // The address allowance is spent above; wait for two requests' worth (one a second).
    await new Promise((resolve) => setTimeout(resolve, 2100));
    const open = async () => {
      const ws = new WebSocket(server.wsUrl);
      return new Promise<{ ws: WebSocket; status: number }>((resolve) => {
        ws.once('open', () => resolve({ ws, status: 101 }));
        ws.once('unexpected-response', (_request, response) => resolve({ ws, status: response.statusCode ?? 0 }));
      });
    };
    const first = await open();
    const second = await open();
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const third = await open();
    expect([first.status, second.status, third.status]).toEqual([101, 101, 429]);
    first.ws.close();
    await new Promise((resolve) => first.ws.once('close', resolve));
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const fourth = await open();
    expect(fourth.status).toBe(101);
    second.ws.close();
    fourth.ws.close();
  });
});

describe('request timeouts', () => {
  const server = serveDuringTests({ httpTimeouts: { headersMs: 1000, requestMs: 2000 } });

  it('cuts off a client that trickles its headers (slowloris) with 408, and one that never finishes its body', async () => {
    const { connect } = await import('node:net');
    const trickle = (request: string) =>
      new Promise<{ answer: string; ms: number }>((resolve) => {
        const started = performance.now();
        const socket = connect(server.port, '127.0.0.1', () => socket.write(request));
        let answer = '';
        socket.on('data', (chunk) => (answer += chunk.toString()));
        socket.on('close', () => resolve({ answer, ms: performance.now() - started }));
      });
    const [headers, body] = await Promise.all([
      trickle('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: '),
      trickle('POST /api/parse HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"te'),
    ]);
    expect(headers.answer).toMatch(/^HTTP\/1\.1 408/);
    expect(body.answer).toMatch(/^HTTP\/1\.1 408/);
    expect(headers.ms).toBeLessThan(10_000);
    expect(body.ms).toBeLessThan(10_000);
    expect((await fetch(`${server.baseUrl}/healthz`)).status).toBe(200);
  }, 20_000);
});
