import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { computeAnalytics } from '../../src/analytics/supportAnalytics.js';
import { loadContent } from '../../src/content/loadContent.js';
import type { TurnRecord } from '../../src/dialogue/conversationStore.js';
import { TextNormalizer } from '../../src/nlu/textNormalizer.js';
import { SqliteConversationStore } from '../../src/storage/sqliteConversationStore.js';
import { schemaMigrations, schemaVersion } from '../../src/storage/sqliteMigrations.js';
import { createConversation, sendMessage, startTestServer } from '../support/testServer.js';

const dirs: string[] = [];
const tempFile = () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'bot-db-'));
  dirs.push(dir);
  return path.join(dir, 'nested', 'chatbot.db');
};
afterEach(() => dirs.splice(0).forEach((dir) => rmSync(dir, { recursive: true, force: true })));

describe('SqliteConversationStore', () => {
  it('creates the file and its folder on first start, in WAL mode, at the current schema version', () => {
    const file = tempFile();
    const store = new SqliteConversationStore(file);
    store.close();
    const db = new Database(file, { readonly: true });
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('user_version', { simple: true })).toBe(schemaVersion);
    db.close();
  });

  it('refuses a database written by a newer version of the program', () => {
    const file = tempFile();
    new SqliteConversationStore(file).close();
    const db = new Database(file);
    db.pragma(`user_version = ${schemaVersion + 1}`);
    db.close();
    expect(() => new SqliteConversationStore(file)).toThrow(/newer than this program knows/);
  });

  it('saves state, transcript and ticket of a turn together, and reads them back after reopening', async () => {
    const file = tempFile();
    const store = new SqliteConversationStore(file);
    await store.createConversation({ id: 'c1', tokenHash: 'ab', createdAt: '2026-01-01T00:00:00.000Z' });
    await store.saveTurn('c1', {
      state: { flowVersion: 'v1', snapshot: { value: 'handedOff' }, script: 'traditional' },
      entries: [
        { role: 'user', text: '轉人工', at: '2026-01-01T00:00:01.000Z', intent: { name: 'contact_human', confidence: 1 } },
        { role: 'bot', text: '已為你轉接', at: '2026-01-01T00:00:01.000Z', quickReplies: [{ title: '好', payload: '/affirm' }] },
      ],
      ticket: { conversationId: 'c1', reason: 'user_request', step: 3, state: 'handedOff', createdAt: '2026-01-01T00:00:01.000Z' },
    });
    store.close();
    const reopened = new SqliteConversationStore(file);
    expect(await reopened.load('c1')).toEqual({ flowVersion: 'v1', snapshot: { value: 'handedOff' }, script: 'traditional' });
    expect(await reopened.transcript('c1')).toEqual([
      { role: 'user', text: '轉人工', at: '2026-01-01T00:00:01.000Z', intent: { name: 'contact_human', confidence: 1 }, seq: 1 },
      { role: 'bot', text: '已為你轉接', at: '2026-01-01T00:00:01.000Z', quickReplies: [{ title: '好', payload: '/affirm' }], seq: 2 },
    ]);
    expect(await reopened.tickets()).toEqual([
      {
        id: 1,
        conversationId: 'c1',
        reason: 'user_request',
        step: 3,
        state: 'handedOff',
        createdAt: '2026-01-01T00:00:01.000Z',
        status: 'open',
        closedAt: null,
        handoffStatus: 'waiting',
        assignedAgentId: null,
        assignedAt: null,
        firstAgentReplyAt: null,
        resolvedAt: null,
        resolution: null,
      },
    ]);
    expect((await reopened.closeTicket(1, '2026-01-02T00:00:00.000Z'))?.status).toBe('closed');
    expect((await reopened.accessRecord('c1'))?.tokenHash).toBe('ab');
    reopened.close();
  });
});

describe('outcomes of turns', () => {
  const turn = (at: string, overrides: Partial<TurnRecord> = {}): TurnRecord => ({
    at,
    text: '好了',
    fromPayload: false,
    intent: 'affirm',
    confidence: 0.9,
    event: 'user.affirm',
    stateBefore: 'unbinding',
    stateAfter: 'idle',
    step: 0,
    said: ['whatever'],
    outcomes: [],
    ...overrides,
  });
  const state = { flowVersion: 'v1', snapshot: {}, script: 'simplified' as const };
  const everything = ['2000-01-01T00:00:00.000Z', '2100-01-01T00:00:00.000Z'] as const;

  it('stores what happened in a turn and reads it back for analytics, whatever the response ids were called', async () => {
    const file = tempFile();
    const store = new SqliteConversationStore(file);
    await store.createConversation({ id: 'c1', tokenHash: 'ab', createdAt: '2026-01-01T00:00:00.000Z' });
    const outcomes = [{ kind: 'verificationPassed', method: 'sms' }, { kind: 'unbindCompleted' }] as const;
    await store.saveTurn('c1', { state, entries: [], record: turn('2026-01-01T00:00:01.000Z', { said: ['renamed.done'], outcomes: [...outcomes] }) });
    store.close();
    const reopened = new SqliteConversationStore(file);
    const rows = await reopened.analyticsRows(...everything);
    expect(rows.turns.map((row) => row.outcomes)).toEqual([outcomes]);
    reopened.close();
  });

  it('upgrades a database of the previous schema version: old turns are marked as having no outcomes recorded', async () => {
    const file = tempFile();
    // A database as the version before outcomes left it: schema version 4, no outcomes column.
    mkdirSync(path.dirname(file), { recursive: true });
    const old = new Database(file);
    for (const migration of schemaMigrations.slice(0, 4)) old.exec(migration);
    old.pragma('user_version = 4');
    old.prepare("INSERT INTO conversations (id, token_hash, created_at, updated_at) VALUES ('old', '', '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z')").run();
    old
      .prepare(
        `INSERT INTO turns (conversation_id, at, text, from_payload, intent, confidence, event, state_before, state_after, step, said)
         VALUES ('old', '2026-01-01T00:00:01.000Z', '好了', 0, 'affirm', 0.9, 'user.affirm', 'unbinding', 'idle', 0, '["unbind.completed"]')`,
      )
      .run();
    old.close();

    const store = new SqliteConversationStore(file);
    expect(store.db.pragma('user_version', { simple: true })).toBe(schemaVersion);
    await store.saveTurn('old', { state, entries: [], record: turn('2026-01-01T00:00:02.000Z', { outcomes: [{ kind: 'notCovered' }] }) });
    const rows = await store.analyticsRows(...everything);
    expect(rows.turns.map((row) => ({ said: row.said, outcomes: row.outcomes }))).toEqual([
      { said: ['unbind.completed'], outcomes: null },
      { said: ['whatever'], outcomes: [{ kind: 'notCovered' }] },
    ]);
    // The old turn is read the legacy way (its response ids), the new one from its outcomes.
    const analytics = computeAnalytics(rows, { from: '2026-01-01', to: '2026-01-01' }, new TextNormalizer(loadContent().lexicon));
    expect(analytics.totals).toMatchObject({ resolved: 1, questions: { answered: 0, notCovered: 1 } });
    store.close();
  });
});

describe('restart and resume', () => {
  it('a server stopped in the middle of the unbinding continues at the same step when started again', async () => {
    const first = await startTestServer();
    const conversation = await createConversation(first.baseUrl);
    for (const text of ['/unbind_wallet', '/deny', '/affirm', '/affirm']) await sendMessage(first.baseUrl, conversation, { text });
    await first.stop();

    const second = await startTestServer({ databaseFile: first.databaseFile });
    try {
      const response = await sendMessage(second.baseUrl, conversation, { text: '好了' });
      const body = (await response.json()) as { progress: { step: number }; replies: { text: string }[] };
      expect(body.progress.step).toBe(4);
      expect(body.replies[0]!.text).toContain('第 4 步');
    } finally {
      await second.stop();
      first.cleanup();
    }
  }, 30_000); // two servers start in turn: on a loaded 2-core machine that passes 5 s

  it('a handoff ticket is stored with the step reached', async () => {
    const server = await startTestServer();
    try {
      const conversation = await createConversation(server.baseUrl);
      for (const text of ['/unbind_wallet', '/deny', '/affirm', '转人工']) await sendMessage(server.baseUrl, conversation, { text });
      expect(await server.store.tickets()).toEqual([expect.objectContaining({ conversationId: conversation.id, reason: 'user_request', step: 2 })]);
    } finally {
      await server.stop();
      server.cleanup();
    }
  });
});

describe('messages a client may send again (clientMessageId)', () => {
  const state = { flowVersion: 'v1', snapshot: {}, script: 'simplified' as const };
  const at = '2026-01-01T00:00:01.000Z';
  const record: TurnRecord = {
    at,
    text: '验证码是[验证码]',
    fromPayload: false,
    intent: 'verification_help',
    confidence: 0.8,
    event: 'user.ask',
    stateBefore: 'unbinding',
    stateAfter: 'unbinding',
    step: 7,
    said: ['verify.guide.sms'],
    outcomes: [{ kind: 'verificationAttempted', method: 'sms' }],
  };

  it("reads a message back by its id, with its turn's replies and record; a later note is not one of them", async () => {
    const file = tempFile();
    const store = new SqliteConversationStore(file);
    await store.createConversation({ id: 'c1', tokenHash: 'ab', createdAt: '2026-01-01T00:00:00.000Z' });
    await store.saveTurn('c1', {
      state,
      entries: [
        { role: 'user', text: '验证码是[验证码]', at, intent: { name: 'verification_help', confidence: 0.8 }, redacted: true, clientMessageId: 'm-1' },
        { role: 'bot', text: '别发验证码', at, responseId: 'secretWarning', tone: 'warning' },
        { role: 'bot', text: '短信验证', at, responseId: 'verify.guide.sms', quickReplies: [{ title: '通过了', payload: '/affirm' }] },
      ],
      record,
    });
    await store.saveTurn('c1', { state, entries: [{ role: 'bot', text: '客服已离开', at: '2026-01-01T00:00:05.000Z', responseId: 'handoff.handedBack' }] });
    store.close();
    const reopened = new SqliteConversationStore(file);
    const accepted = await reopened.acceptedMessage('c1', 'm-1');
    expect(accepted?.line).toMatchObject({ seq: 1, text: '验证码是[验证码]', redacted: true, clientMessageId: 'm-1' });
    expect(accepted?.replies.map((line) => [line.seq, line.responseId, line.tone ?? null])).toEqual([
      [2, 'secretWarning', 'warning'],
      [3, 'verify.guide.sms', null],
    ]);
    expect(accepted?.record).toEqual({ event: 'user.ask', stateAfter: 'unbinding', step: 7, outcomes: record.outcomes });
    expect(await reopened.acceptedMessage('c1', 'm-2')).toBeUndefined();
    expect(await reopened.acceptedMessage('another conversation', 'm-1')).toBeUndefined();
    reopened.close();
  });

  it('keeps one line per id in a conversation: a second is refused and the turn saves nothing', async () => {
    const store = new SqliteConversationStore(tempFile());
    await store.createConversation({ id: 'c1', tokenHash: 'ab', createdAt: '2026-01-01T00:00:00.000Z' });
    await store.createConversation({ id: 'c2', tokenHash: 'cd', createdAt: '2026-01-01T00:00:00.000Z' });
    const line = { role: 'user' as const, text: '你好', at, clientMessageId: 'm-1' };
    await store.saveTurn('c1', { state, entries: [line], record });
    await expect(store.saveTurn('c1', { state, entries: [line, { role: 'bot', text: '你好！', at }], record })).rejects.toThrow(/UNIQUE/);
    expect(await store.transcript('c1')).toHaveLength(1);
    // Another conversation's ids are its own.
    await store.saveTurn('c2', { state, entries: [line], record });
    expect(await store.transcript('c2')).toHaveLength(1);
    store.close();
  });
});
