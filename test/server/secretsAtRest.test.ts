import { readdirSync, readFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { createConversation, sendMessage, startTestServer, type TestServer } from '../support/testServer.js';

/**
 * What users type that must never be kept: each as typed, and the bare digits a careless store
 * might keep after stripping spaces and dashes.
 */
const secrets = {
  smsCode: '384716',
  card: '6222 0212 3456 7890 123',
  cardDigits: '6222021234567890123',
  phone: '138-1234-5678',
  phoneDigits: '13812345678',
  idNumber: '11010519491231002X',
  password: 'Hunter2Hunter',
};

const messages = [
  '我要解绑钱包',
  `我的卡号是${secrets.card}，怎么解绑`,
  `手机号${secrets.phone}收不到验证码`,
  `验证码是${secrets.smsCode}`,
  `身份证${secrets.idNumber}`,
  `支付密码是${secrets.password}`,
  '转人工',
];

describe('secrets typed into a conversation are kept nowhere', () => {
  let server: TestServer;
  let webhook: Server;
  const delivered: string[] = [];

  beforeAll(async () => {
    webhook = createHttpServer((req, res) => {
      let body = '';
      req.on('data', (chunk) => (body += chunk));
      req.on('end', () => {
        delivered.push(body);
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => webhook.listen(0, '127.0.0.1', resolve));
    server = await startTestServer({
      adminToken: 'admin-secret-for-tests',
      handoffWebhookUrl: `http://127.0.0.1:${(webhook.address() as AddressInfo).port}/tickets`,
      webhookOptions: { pollMs: 20 },
    });

    // One conversation over REST (with a secret in a displayText too), one over the websocket.
    const rest = await createConversation(server.baseUrl);
    for (const text of messages) expect((await sendMessage(server.baseUrl, rest, { text })).status).toBe(200);
    expect((await sendMessage(server.baseUrl, rest, { text: '/affirm', displayText: `好的 ${secrets.smsCode}` })).status).toBe(200);

    const socket = await createConversation(server.baseUrl);
    const ws = new WebSocket(server.wsUrl);
    let replies = 0;
    ws.on('message', (data) => {
      if ((JSON.parse(data.toString()) as { type: string }).type === 'message') replies++;
    });
    await new Promise((resolve) => ws.once('open', resolve));
    ws.send(JSON.stringify({ type: 'hello', conversation: socket.id, token: socket.token }));
    for (const text of messages) ws.send(JSON.stringify({ type: 'message', text }));
    await vi.waitFor(() => expect(replies).toBeGreaterThanOrEqual(messages.length), { timeout: 10_000 });
    ws.close();

    await vi.waitFor(() => expect(delivered.length).toBeGreaterThanOrEqual(2), { timeout: 10_000 });
    // Closing checkpoints the WAL into the main file; the files are read after.
    await server.stop();
  });

  afterAll(async () => {
    await server?.stop();
    server?.cleanup();
    await new Promise((resolve) => webhook?.close(resolve));
  });

  it('the handoff reached the webhook with the transcript (so the check below is not vacuous)', () => {
    expect(delivered.join('\n')).toContain('[卡号]');
  });

  it.each(Object.entries(secrets))('the database files do not contain the %s', (_kind, secret) => {
    const dir = path.dirname(server.databaseFile);
    const files = readdirSync(dir).map((name) => path.join(dir, name));
    expect(files.length).toBeGreaterThan(0);
    const bytes = Buffer.concat(files.map((file) => readFileSync(file)));
    expect(bytes.includes('[验证码]')).toBe(true);
    expect(bytes.includes(secret)).toBe(false);
  });

  it.each(Object.entries(secrets))('the log output does not contain the %s', (_kind, secret) => {
    const log = server.logLines.join('');
    expect(server.logLines.some((line) => line.includes('"msg":"turn"'))).toBe(true);
    expect(log).not.toContain(secret);
  });

  it.each(Object.entries(secrets))('the tickets sent to the support system do not contain the %s', (_kind, secret) => {
    expect(delivered.join('\n')).not.toContain(secret);
  });

  it('the log carries no tokens either', () => {
    expect(server.logLines.join('')).not.toContain('admin-secret-for-tests');
  });
});
