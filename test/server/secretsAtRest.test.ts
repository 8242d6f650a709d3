import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import Database from 'better-sqlite3';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { loadContent } from '../../src/content/loadContent.js';
import { SecretRedactor, redactionVersion } from '../../src/nlu/index.js';
import { reRedactStoredText } from '../../src/storage/reRedaction.js';
import { SqliteConversationStore } from '../../src/storage/sqliteConversationStore.js';
import { schemaMigrations, schemaVersion } from '../../src/storage/sqliteMigrations.js';
import { startRecordingWebhook, type RecordingWebhook } from '../support/recordingWebhook.js';
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
  let webhook: RecordingWebhook;

  beforeAll(async () => {
    webhook = await startRecordingWebhook();
    server = await startTestServer({
      adminToken: 'admin-secret-for-tests',
      handoffWebhookUrl: webhook.url,
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

    await vi.waitFor(() => expect(webhook.delivered.length).toBeGreaterThanOrEqual(2), { timeout: 10_000 });
    // Closing checkpoints the WAL into the main file; the files are read after.
    await server.stop();
  });

  afterAll(async () => {
    await server?.stop();
    server?.cleanup();
    await webhook?.close();
  });

  it('the handoff reached the webhook with the transcript (so the check below is not vacuous)', () => {
    expect(webhook.delivered.join('\n')).toContain('[卡号]');
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
    expect(webhook.delivered.join('\n')).not.toContain(secret);
  });

  it('the log carries no tokens either', () => {
    expect(server.logLines.join('')).not.toContain('admin-secret-for-tests');
  });
});

describe('secrets an older version stored are redacted when the store is opened', () => {
  /** What the first redactor kept as typed (spaced, full-width, numerals, a password after spaces). */
  const leaked = { spacedCode: '4829 13', numeralCode: '五八三九二零', fullWidthCard: '６２１７００１２３４５６７８９３', password: 'Wx!2024pay', phone: '139 1234 5678' };
  let dir: string;
  let file: string;
  const redactor = new SecretRedactor(loadContent().lexicon);
  const redaction = { version: redactionVersion, redact: (text: string) => redactor.redact(text).text };
  const fileBytes = () => Buffer.concat(readdirSync(dir).map((name) => readFileSync(path.join(dir, name))));

  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'bot-reredact-'));
    file = path.join(dir, 'chatbot.db');
    // The database as the version before this one left it: schema 6, no redaction version recorded.
    const old = new Database(file);
    old.pragma('journal_mode = WAL');
    for (const migration of schemaMigrations.slice(0, 6)) old.exec(migration);
    old.pragma('user_version = 6');
    const at = '2026-01-01T00:00:00.000Z';
    old.prepare('INSERT INTO conversations (id, token_hash, created_at, updated_at) VALUES (?, ?, ?, ?)').run('old', 'hash', at, at);
    const line = old.prepare("INSERT INTO transcript (conversation_id, seq, role, text, at) VALUES ('old', ?, ?, ?, ?)");
    line.run(1, 'user', `验证码 ${leaked.spacedCode}`, at);
    line.run(2, 'bot', '⚠️ 为了你的资金安全，请不要把验证码发给任何人', at);
    line.run(3, 'user', `验证码是${leaked.numeralCode}，卡号 ${leaked.fullWidthCard}`, at);
    line.run(4, 'user', `我的密码 是 ${leaked.password}`, at);
    old
      .prepare(
        `INSERT INTO turns (conversation_id, at, text, from_payload, intent, confidence, event, state_before, state_after, step, said)
         VALUES ('old', ?, ?, 0, 'out_of_scope', 0.3, 'nlu.fallback', 'idle', 'idle', 0, '[]')`,
      )
      .run(at, `验证码是${leaked.numeralCode}`);
    old.prepare("INSERT INTO handoff_tickets (conversation_id, reason, step, state, created_at) VALUES ('old', 'user_request', 7, 'handedOff', ?)").run(at);
    const body = { type: 'handoff.requested', id: 'evt-1', ticket: { id: 1, reason: 'user_request' }, transcript: [{ role: 'user', text: `手机号 ${leaked.phone}`, at }] };
    old.prepare("INSERT INTO webhook_outbox (ticket_id, next_attempt_at, type, body) VALUES (1, ?, 'handoff.requested', ?)").run(at, JSON.stringify(body));
    old.pragma('wal_checkpoint(TRUNCATE)');
    old.close();
    // Not vacuous: the secrets are in the file as an older version left it.
    for (const secret of Object.values(leaked)) expect(fileBytes().includes(secret), secret).toBe(true);

    new SqliteConversationStore(file, { redaction }).close();
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('rewrites transcript lines and turn records, and leaves the bot lines as they were', () => {
    const db = new Database(file, { readonly: true });
    expect(db.prepare('SELECT text FROM transcript ORDER BY seq').pluck().all()).toEqual([
      '验证码 [验证码]',
      '⚠️ 为了你的资金安全，请不要把验证码发给任何人',
      '验证码是[验证码]，卡号 [卡号]',
      '我的密码 是 [密码]',
    ]);
    expect(db.prepare('SELECT text FROM turns').pluck().all()).toEqual(['验证码是[验证码]']);
    db.close();
  });

  it('rewrites the webhook outbox body that is still to be sent, and keeps it valid JSON', () => {
    const db = new Database(file, { readonly: true });
    const body = JSON.parse(db.prepare('SELECT body FROM webhook_outbox').pluck().get() as string) as { id: string; transcript: { text: string }[] };
    db.close();
    expect(body.id).toBe('evt-1');
    expect(body.transcript[0]!.text).toBe('手机号 [手机号]');
  });

  it.each(Object.entries(leaked))('the database files no longer hold the %s anywhere, free pages and WAL included', (_kind, secret) => {
    expect(fileBytes().includes('[验证码]')).toBe(true);
    expect(fileBytes().includes(secret)).toBe(false);
  });

  it('records the redaction version, so the next open rewrites nothing', () => {
    const store = new SqliteConversationStore(file, { redaction });
    expect(store.db.pragma('user_version', { simple: true })).toBe(schemaVersion);
    expect(store.db.prepare("SELECT value FROM meta WHERE key = 'redaction_version'").pluck().get()).toBe(String(redactionVersion));
    expect(reRedactStoredText(store.db, { version: redactionVersion, redact: () => 'changed' })).toBe(0);
    store.close();
  });
});
