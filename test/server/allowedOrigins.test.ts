import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startTestServer, type TestServer } from '../support/testServer.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({
    allowedOrigins: ['https://shop.example'],
    adminToken: 'dashboard-token',
    rateLimits: { perAddress: { perMinute: 60, burst: 8 }, perConversation: { perMinute: 0, burst: 0 }, socketsPerAddress: 0 },
  });
});
afterAll(async () => {
  await server.stop();
  server.cleanup();
});

const preflight = (origin: string) =>
  fetch(`${server.baseUrl}/api/conversations`, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST' } });

const openSocket = (origin: string) =>
  new Promise<'open' | number>((resolve) => {
    const ws = new WebSocket(server.wsUrl, { origin });
    ws.on('open', () => {
      ws.close();
      resolve('open');
    });
    ws.on('unexpected-response', (_request, response) => resolve(response.statusCode ?? 0));
    ws.on('error', () => undefined);
  });

describe('ALLOWED_ORIGINS', () => {
  it('lets an allowed site embed the widget: CORS and websocket', async () => {
    expect((await preflight('https://shop.example')).headers.get('access-control-allow-origin')).toBe('https://shop.example');
    expect(await openSocket('https://shop.example')).toBe('open');
  });

  it('gives any other site neither CORS headers nor a socket', async () => {
    expect((await preflight('https://evil.example')).headers.get('access-control-allow-origin')).toBeNull();
    expect(await openSocket('https://evil.example')).toBe(403);
  });

  it('lets anyone read the widget labels, so a refused page can say so in Chinese', async () => {
    const response = await fetch(`${server.baseUrl}/api/ui`, { headers: { origin: 'https://evil.example' } });
    expect(response.headers.get('access-control-allow-origin')).toBe('*');
  });

  it('gives the dashboard API no CORS headers, even for an allowed site', async () => {
    const response = await fetch(`${server.baseUrl}/api/admin/tickets`, { headers: { origin: 'https://shop.example', authorization: 'Bearer dashboard-token' } });
    expect(response.status).toBe(200);
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('answers an allowed site over its limit with a 429 it can read (CORS headers on the refusal)', async () => {
    let refused: Response | undefined;
    for (let i = 0; i < 20 && !refused; i++) {
      const response = await fetch(`${server.baseUrl}/api/openapi.json`, { headers: { origin: 'https://shop.example' } });
      if (response.status === 429) refused = response;
    }
    expect(refused?.status).toBe(429);
    expect(refused!.headers.get('access-control-allow-origin')).toBe('https://shop.example');
    expect(refused!.headers.get('access-control-expose-headers')).toContain('Retry-After');
  });
});
