import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startTestServer, type TestServer } from '../support/testServer.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ allowedOrigins: ['https://shop.example'] });
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
});
