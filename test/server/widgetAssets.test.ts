import { get } from 'node:http';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/testServer.js';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer({ adminToken: 'a'.repeat(40) });
}, 60_000);

afterAll(async () => {
  await server?.stop();
  server?.cleanup();
});

/** A raw GET that leaves the body as the server encoded it (fetch would decompress). */
function rawGet(path: string, headers: Record<string, string>): Promise<{ status: number; headers: Map<string, string>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    get(server.baseUrl + path, { headers }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () =>
        resolve({
          status: response.statusCode ?? 0,
          headers: new Map(Object.entries(response.headers).map(([name, value]) => [name, String(value)])),
          body: Buffer.concat(chunks),
        }),
      );
    }).on('error', reject);
  });
}

describe('the widget files a phone downloads', () => {
  it('come minified and compressed, the same script whichever encoding the browser takes', async () => {
    const plain = await rawGet('/widget.js', { 'accept-encoding': 'identity' });
    const brotli = await rawGet('/widget.js', { 'accept-encoding': 'gzip, deflate, br' });
    const gzip = await rawGet('/widget.js', { 'accept-encoding': 'gzip' });
    expect(plain.status).toBe(200);
    expect(brotli.headers.get('content-encoding')).toBe('br');
    expect(gzip.headers.get('content-encoding')).toBe('gzip');
    expect(brotliDecompressSync(brotli.body).equals(plain.body)).toBe(true);
    expect(gunzipSync(gzip.body).equals(plain.body)).toBe(true);
    // Minified: no comment survives, and a phone downloads under a third of the script.
    expect(plain.body.toString()).not.toContain('/**');
    expect(brotli.body.length).toBeLessThan(plain.body.length / 3);
    expect(brotli.headers.get('vary')).toContain('Accept-Encoding');
  });

  it('are revalidated with their ETag instead of downloaded again', async () => {
    const first = await rawGet('/widget.css', { 'accept-encoding': 'br' });
    const again = await rawGet('/widget.css', { 'accept-encoding': 'br', 'if-none-match': first.headers.get('etag')! });
    expect(again.status).toBe(304);
    expect(again.body.length).toBe(0);
  });

  it('carry the interface labels in every script, so the bubble needs no other request', async () => {
    const script = (await rawGet('/widget.js', { 'accept-encoding': 'identity' })).body.toString();
    const { texts } = (await (await fetch(`${server.baseUrl}/api/ui`)).json()) as { texts: Record<string, string> };
    expect(script).toContain(texts['ui.widget.title']);
    for (const lang of ['zh-CN', 'zh-TW', 'zh-HK']) expect(script).toContain(lang);
  });

  it('/api/ui gives visitors the chat labels only; the dashboard reads its own', async () => {
    const visitor = (await (await fetch(`${server.baseUrl}/api/ui`)).json()) as { texts: Record<string, string> };
    const dashboard = (await (await fetch(`${server.baseUrl}/api/ui/dashboard`)).json()) as { texts: Record<string, string> };
    expect(Object.keys(visitor.texts).some((key) => key.startsWith('ui.admin.'))).toBe(false);
    expect(Object.keys(visitor.texts).some((key) => key.startsWith('ui.widget.'))).toBe(true);
    expect(Object.keys(dashboard.texts).length).toBeGreaterThan(0);
    expect(Object.keys(dashboard.texts).every((key) => key.startsWith('ui.admin.'))).toBe(true);
  });

  it('the dashboard gets Chart.js minified and compressed', async () => {
    const chart = await rawGet('/admin/vendor/chart.umd.js', { 'accept-encoding': 'br' });
    expect(chart.status).toBe(200);
    expect(chart.headers.get('content-encoding')).toBe('br');
    expect(chart.body.length).toBeLessThan(90_000);
  });
});
