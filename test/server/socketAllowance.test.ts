import { request } from 'node:http';
import { afterAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { serveDuringTests } from '../support/testServer.js';

const socketsPerAddress = 50;

/** An upgrade the server refuses (no Sec-WebSocket-Key, or a POST): answered 4xx, and no socket opens. */
function refusedUpgrade(port: number, method: 'GET' | 'POST'): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({
      host: '127.0.0.1',
      port,
      path: '/ws',
      method,
      headers: { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', ...(method === 'POST' ? { 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==' } : {}) },
    });
    req.on('response', (response) => {
      response.resume();
      response.on('end', () => resolve(response.statusCode ?? 0));
    });
    req.on('upgrade', () => reject(new Error('the server upgraded a request it should refuse')));
    req.on('error', reject);
    req.end();
  });
}

/** Opens a websocket; the status is 101 when it opened, else the HTTP status of the refusal. */
function open(url: string): Promise<{ ws: WebSocket; status: number }> {
  const ws = new WebSocket(url);
  return new Promise((resolve) => {
    ws.once('open', () => resolve({ ws, status: 101 }));
    ws.once('unexpected-response', (_request, response) => resolve({ ws, status: response.statusCode ?? 0 }));
  });
}

describe('socket allowance per address', () => {
  // Only the socket cap: the request-rate allowance would refuse a burst of 60 upgrades on its own.
  const server = serveDuringTests({
    rateLimits: { perAddress: { perMinute: 0, burst: 0 }, perConversation: { perMinute: 0, burst: 0 }, socketsPerAddress },
  });
  const sockets: WebSocket[] = [];
  afterAll(() => sockets.forEach((ws) => ws.terminate()));

  it('60 refused upgrades (bad handshakes and POSTs to /ws) use none of it: a valid socket still opens', async () => {
    const statuses = [];
    for (let i = 0; i < 60; i++) statuses.push(await refusedUpgrade(server.port, i % 2 === 0 ? 'GET' : 'POST'));
    // 400 for the missing key, 405 for the POST: refused before any socket opened.
    expect(new Set(statuses)).toEqual(new Set([400, 405]));
    const valid = await open(server.wsUrl);
    sockets.push(valid.ws);
    expect(valid.status).toBe(101);
  });

  it('counts the sockets held open: the one beyond the cap is refused, and a place comes back when one closes', async () => {
    // The socket of the test above is still open: it holds one place.
    const opened = [];
    for (let i = 1; i < socketsPerAddress; i++) opened.push(await open(server.wsUrl));
    sockets.push(...opened.map(({ ws }) => ws));
    expect(opened.every(({ status }) => status === 101)).toBe(true);
    expect((await open(server.wsUrl)).status).toBe(429);

    const closing = opened[0]!.ws;
    closing.close();
    await new Promise((resolve) => closing.once('close', resolve));
    await expect.poll(async () => {
      const again = await open(server.wsUrl);
      sockets.push(again.ws);
      return again.status;
    }).toBe(101);
  });
});
