import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { computeAnalyticsInSlices } from '../../src/analytics/slicedAnalytics.js';
import { computeAnalytics, dayRange, type AnalyticsSlice } from '../../src/analytics/supportAnalytics.js';
import { loadContent } from '../../src/content/loadContent.js';
import { ConversationGoneError, TurnConflictError, type StoredTurn, type TranscriptEntry, type TurnRecord } from '../../src/dialogue/conversationStore.js';
import { TextNormalizer } from '../../src/nlu/textNormalizer.js';
import { openPostgresStore, type PostgresConversationStore } from '../../src/storage/postgres/postgresConversationStore.js';
import { postgresSchemaVersion } from '../../src/storage/postgres/postgresMigrations.js';
import { PartOfTransactionFailedError } from '../../src/storage/postgres/postgresSession.js';
import type { ServerStore } from '../../src/storage/serverStore.js';
import { SqliteConversationStore } from '../../src/storage/sqliteConversationStore.js';
import { createTestDatabase, type TestDatabase } from '../support/postgresDatabase.js';

/** Both stores page analytics with sizes a test can make small, so a few rows cross several slices. */
type ContractStore = ServerStore & {
  analyticsSlices(fromIso: string, toIso: string, sizes?: { conversationsPerPage?: number; turnsPerChunk?: number }): Iterable<AnalyticsSlice> | AsyncIterable<AnalyticsSlice>;
};

// ---------------------------------------------------------------------------------------------
// The two databases. Each test gets an empty store; PostgreSQL's is one database per run of this
// file, emptied before each test, and dropped at the end.

/** Databases this run created, dropped in afterAll whatever happened. */
const createdDatabases: TestDatabase[] = [];

async function createDatabase(): Promise<string> {
  const database = await createTestDatabase('chatbot_contract');
  createdDatabases.push(database);
  return database.url;
}

afterAll(async () => {
  await Promise.all(createdDatabases.splice(0).map((database) => database.drop()));
});

const openStores: ServerStore[] = [];
const tempDirs: string[] = [];
afterEach(async () => {
  // A test may have closed its store already (PostgreSQL refuses a second end()).
  await Promise.all(openStores.splice(0).map((store) => store.close().catch(() => undefined)));
  tempDirs.splice(0).forEach((dir) => rmSync(dir, { recursive: true, force: true }));
});

function track<T extends ServerStore>(store: T): T {
  openStores.push(store);
  return store;
}

let contractDatabase: string | undefined;
/** Everything a test writes; the migration's own rows (version, health probe) stay. */
const dataTables = 'conversations, agents, transcript, turns, ratings, handoff_tickets, webhook_outbox';

async function emptyPostgresStore(poolSize = 4): Promise<PostgresConversationStore> {
  contractDatabase ??= await createDatabase();
  const store = track(await openPostgresStore(contractDatabase, { poolSize }));
  // Identities restart too, so ticket ids begin at 1 as in a new SQLite file.
  await store.pool.query(`TRUNCATE ${dataTables} RESTART IDENTITY`);
  return store;
}

function emptySqliteStore(): SqliteConversationStore {
  const dir = mkdtempSync(path.join(tmpdir(), 'bot-contract-'));
  tempDirs.push(dir);
  return track(new SqliteConversationStore(path.join(dir, 'chatbot.db')));
}

const backends: { name: string; open: () => Promise<ContractStore> }[] = [
  { name: 'SQLite', open: async () => emptySqliteStore() },
  { name: 'PostgreSQL', open: () => emptyPostgresStore() },
];

// ---------------------------------------------------------------------------------------------
// What the tests write.

const at = (second: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, second)).toISOString();
const state = (value = 'idle') => ({ flowVersion: 'v1', snapshot: { value }, script: 'simplified' as const });
const agent = (id: string, name: string) => ({ id, name, tokenHash: `scrypt:00:${id}`, createdAt: at(0), disabledAt: null, lastSeenAt: null });
const userLine = (text: string, second: number, extra: Partial<TranscriptEntry> = {}): TranscriptEntry => ({ role: 'user', text, at: at(second), ...extra });
const botLine = (text: string, second: number, extra: Partial<TranscriptEntry> = {}): TranscriptEntry => ({ role: 'bot', text, at: at(second), ...extra });

const record = (second: number, overrides: Partial<TurnRecord> = {}): TurnRecord => ({
  at: at(second),
  text: '怎么解绑',
  fromPayload: false,
  intent: 'unbind_wallet',
  confidence: 0.9,
  event: 'user.unbind',
  stateBefore: 'idle',
  stateAfter: 'unbinding',
  step: 1,
  said: ['unbind.step1'],
  outcomes: [{ kind: 'unbindStarted', atStep: 1 }],
  ...overrides,
});

async function handOver(store: ServerStore, conversationId: string, second: number, extra: Partial<StoredTurn> = {}) {
  const saved = await store.saveTurn(conversationId, {
    state: state('handedOff'),
    entries: [userLine('转人工', second), botLine('已转接', second)],
    ticket: { conversationId, reason: 'user_request', step: 0, state: 'handedOff', createdAt: at(second) },
    ...extra,
  });
  return saved.ticket!;
}

const settle = <T>(promise: Promise<T>) => promise.then((value) => ({ ok: true as const, value }), (error: unknown) => ({ ok: false as const, error }));

// ---------------------------------------------------------------------------------------------

describe.each(backends)('the server store on $name', ({ open }) => {
  describe('turns and transcripts', () => {
    it('saves a turn with its lines numbered from 1, continues the numbering, and reads state and lines back', async () => {
      const store = await open();
      await store.createConversation({ id: 'c1', tokenHash: 'ab', createdAt: at(0) });
      const first = await store.saveTurn('c1', {
        state: { ...state('unbinding'), locale: 'zh-TW', openQuestion: 'unbind.askBalance', lastQuickReplies: [{ title: '好', payload: '/affirm' }] },
        entries: [
          userLine('怎么解绑', 1, { intent: { name: 'unbind_wallet', confidence: 0.87 }, clientMessageId: 'm-1', redacted: false }),
          botLine('第一步', 1, { quickReplies: [{ title: '好', payload: '/affirm' }], responseId: 'unbind.step1', picture: 'step1' }),
        ],
        record: record(1),
      });
      expect(first).toEqual({ seqs: [1, 2] });
      const second = await store.saveTurn('c1', { state: state('unbinding'), entries: [userLine('好', 2), botLine('第二步', 2, { tone: 'warning' })] });
      expect(second.seqs).toEqual([3, 4]);

      expect(await store.load('c1')).toEqual(state('unbinding'));
      const lines = await store.transcript('c1');
      expect(lines[0]).toEqual({ role: 'user', text: '怎么解绑', at: at(1), seq: 1, intent: { name: 'unbind_wallet', confidence: 0.87 }, clientMessageId: 'm-1', redacted: false });
      expect(lines[1]).toEqual({ role: 'bot', text: '第一步', at: at(1), seq: 2, quickReplies: [{ title: '好', payload: '/affirm' }], responseId: 'unbind.step1', picture: 'step1' });
      // Optional fields a line does not have are absent, not null.
      expect(Object.keys(lines[2]!).sort()).toEqual(['at', 'role', 'seq', 'text']);
      expect(lines[3]).toEqual({ role: 'bot', text: '第二步', at: at(2), seq: 4, tone: 'warning' });
      expect((await store.transcript('c1', 2)).map((line) => line.seq)).toEqual([3, 4]);
      expect(await store.transcript('nobody')).toEqual([]);
      expect(await store.load('nobody')).toBeUndefined();
    });

    it('keeps the locale, open question, buttons and ended progress of the last turn', async () => {
      const store = await open();
      const kept = { ...state('idle'), locale: 'zh-HK', openQuestion: 'unbind.askBalance', lastQuickReplies: [{ title: '是', payload: '/affirm' }] };
      await store.saveTurn('c1', { state: kept, entries: [] });
      expect(await store.load('c1')).toEqual(kept);
      await store.saveTurn('c1', { state: state('idle'), entries: [] });
      expect(await store.load('c1')).toEqual(state('idle'));
    });

    it("reads a turn's context in one go: access, state, latest ticket, version and the snapshot text exactly as written", async () => {
      const store = await open();
      expect(await store.turnContext!('nobody')).toBeUndefined();
      await store.createConversation({ id: 'c1', tokenHash: 'ab', createdAt: at(0) });
      const fresh = (await store.turnContext!('c1'))!;
      expect(fresh).toEqual({ access: { tokenHash: 'ab', lastActiveAt: at(0) }, state: undefined, ticket: undefined, version: 0 });
      expect('snapshotText' in fresh).toBe(false);

      // Spacing and key order a JSON.stringify round trip would not keep.
      const snapshotText = '{ "value":"handedOff",  "context":{"b":1,"a":"繁體"} }';
      const ticket = await handOver(store, 'c1', 5, { snapshotText });
      const context = (await store.turnContext!('c1'))!;
      expect(context.snapshotText).toBe(snapshotText);
      expect(context.access).toEqual({ tokenHash: 'ab', lastActiveAt: at(5) });
      expect(context.state).toEqual({ flowVersion: 'v1', snapshot: JSON.parse(snapshotText), script: 'simplified' });
      expect(context.ticket).toEqual(ticket);
      expect(context.version).toBe(1);
      expect(await store.accessRecord('c1')).toEqual({ tokenHash: 'ab', lastActiveAt: at(5) });
      expect(await store.accessRecord('nobody')).toBeUndefined();
    });

    it('refuses a turn saved over a newer version with TurnConflictError, and writes nothing of it', async () => {
      const store = await open();
      store.queueTicketsForWebhook = true;
      await store.createConversation({ id: 'c1', tokenHash: 'ab', createdAt: at(0) });
      const read = (await store.turnContext!('c1'))!;
      await store.saveTurn('c1', { state: state('first'), entries: [userLine('一', 1)], expectedVersion: read.version! });
      const stale = store.saveTurn('c1', {
        state: state('stale'),
        entries: [userLine('二', 2), botLine('好', 2)],
        record: record(2),
        ticket: { conversationId: 'c1', reason: 'user_request', step: 0, state: 'handedOff', createdAt: at(2) },
        expectedVersion: read.version!,
      });
      await expect(stale).rejects.toBeInstanceOf(TurnConflictError);
      expect((await store.transcript('c1')).map((line) => line.text)).toEqual(['一']);
      expect(await store.load('c1')).toEqual(state('first'));
      expect((await store.turnContext!('c1'))!.version).toBe(1);
      expect(await store.tickets()).toEqual([]);
      expect(await store.undeliveredCount()).toBe(0);
      expect((await store.analyticsRows(at(0), at(100))).turns).toEqual([]);
    });

    it('refuses a turn for a deleted conversation with ConversationGoneError once conversations are not created implicitly', async () => {
      const store = await open();
      await store.saveTurn('implicit', { state: state(), entries: [userLine('你好', 1)] });
      expect(await store.transcript('implicit')).toHaveLength(1);

      store.createsConversationsImplicitly = false;
      await store.createConversation({ id: 'c1', tokenHash: 'ab', createdAt: at(0) });
      const read = (await store.turnContext!('c1'))!;
      expect(await store.deleteConversation('c1')).toBe(true);
      await expect(store.saveTurn('c1', { state: state(), entries: [userLine('还在吗', 2)], expectedVersion: read.version! })).rejects.toBeInstanceOf(ConversationGoneError);
      await expect(store.saveTurn('never', { state: state(), entries: [userLine('你好', 2)] })).rejects.toBeInstanceOf(ConversationGoneError);
      expect(await store.transcript('c1')).toEqual([]);
      expect(await store.turnContext!('c1')).toBeUndefined();
    });
  });

  describe('messages sent again (clientMessageId)', () => {
    it("finds a message's line, its turn's replies and its record; a later note is not a reply", async () => {
      const store = await open();
      await store.saveTurn('c1', {
        state: state(),
        entries: [
          userLine('验证码是[验证码]', 1, { clientMessageId: 'm-1', redacted: true }),
          botLine('别发验证码', 1, { responseId: 'secretWarning', tone: 'warning' }),
          botLine('短信验证', 1, { responseId: 'verify.guide.sms' }),
        ],
        record: record(1, { event: 'user.ask', stateAfter: 'unbinding', step: 7, outcomes: [{ kind: 'verificationAttempted', method: 'sms' }] }),
      });
      await store.saveTurn('c1', { state: state(), entries: [botLine('客服已离开', 5, { responseId: 'handoff.handedBack' })] });
      // A message that went to an agent has no bot turn.
      await store.saveTurn('c1', { state: state(), entries: [userLine('人呢', 6, { clientMessageId: 'm-2' })] });

      const accepted = (await store.acceptedMessage('c1', 'm-1'))!;
      expect(accepted.line).toEqual({ role: 'user', text: '验证码是[验证码]', at: at(1), seq: 1, clientMessageId: 'm-1', redacted: true });
      expect(accepted.replies.map((line) => [line.seq, line.responseId])).toEqual([
        [2, 'secretWarning'],
        [3, 'verify.guide.sms'],
      ]);
      expect(accepted.record).toEqual({ event: 'user.ask', stateAfter: 'unbinding', step: 7, outcomes: [{ kind: 'verificationAttempted', method: 'sms' }] });
      const toAgent = (await store.acceptedMessage('c1', 'm-2'))!;
      expect(toAgent).toEqual({ line: { role: 'user', text: '人呢', at: at(6), seq: 5, clientMessageId: 'm-2' }, replies: [] });
      expect('record' in toAgent).toBe(false);
      expect(await store.acceptedMessage('c1', 'm-3')).toBeUndefined();
      expect(await store.acceptedMessage('other', 'm-1')).toBeUndefined();
    });

    it('keeps one line per id in a conversation: a second is refused and its turn saves nothing', async () => {
      const store = await open();
      const line = userLine('你好', 1, { clientMessageId: 'm-1' });
      await store.saveTurn('c1', { state: state('first'), entries: [line], record: record(1) });
      await expect(store.saveTurn('c1', { state: state('second'), entries: [line, botLine('你好！', 1)], record: record(1) })).rejects.toThrow();
      expect(await store.transcript('c1')).toHaveLength(1);
      expect(await store.load('c1')).toEqual(state('first'));
      expect((await store.analyticsRows(at(0), at(100))).turns).toHaveLength(1);
      await store.saveTurn('c2', { state: state(), entries: [line] });
      expect(await store.transcript('c2')).toHaveLength(1);
    });
  });

  describe('handovers', () => {
    it('keeps one open ticket per conversation; a resolved one lets the next request open another', async () => {
      const store = await open();
      const first = await handOver(store, 'c1', 1);
      expect(first).toEqual({
        id: 1,
        conversationId: 'c1',
        reason: 'user_request',
        step: 0,
        state: 'handedOff',
        createdAt: at(1),
        status: 'open',
        closedAt: null,
        handoffStatus: 'waiting',
        assignedAgentId: null,
        assignedAt: null,
        firstAgentReplyAt: null,
        resolvedAt: null,
        resolution: null,
      });
      const again = await store.saveTurn('c1', { state: state(), entries: [userLine('快点', 2)], ticket: { conversationId: 'c1', reason: 'user_request', step: 0, state: 'handedOff', createdAt: at(2) } });
      expect(again).toEqual({ seqs: [3] });
      expect(await store.tickets()).toHaveLength(1);

      await store.saveTurn('c1', { state: state(), entries: [botLine('好的', 3)], resolveTicket: { id: first.id, resolution: 'user_left', at: at(3) } });
      // Ending it twice keeps the first ending.
      await store.saveTurn('c1', { state: state(), entries: [], resolveTicket: { id: first.id, resolution: 'resolved', at: at(4) } });
      expect(await store.ticket(first.id)).toMatchObject({ handoffStatus: 'resolved', resolution: 'user_left', resolvedAt: at(3), status: 'closed', closedAt: at(3) });
      const second = await handOver(store, 'c1', 5);
      expect(second.id).toBe(2);
      expect(await store.currentTicket('c1')).toEqual(second);
      expect(await store.currentTicket('nobody')).toBeUndefined();
      expect(await store.ticket(99)).toBeUndefined();
    });

    it('queues waiting tickets oldest first and lists the other statuses newest first, latest ticket per conversation', async () => {
      const store = await open();
      await store.createAgent(agent('a1', '小林'));
      const tickets = [];
      for (const [index, id] of ['c1', 'c2', 'c3', 'c4'].entries()) tickets.push(await handOver(store, id, index + 1));
      expect(await Promise.all(tickets.map((ticket) => store.queuePosition(ticket.id)))).toEqual([0, 1, 2, 3]);
      await store.claimTicket(tickets[0]!.id, 'a1', at(10));
      await store.claimTicket(tickets[2]!.id, 'a1', at(11));
      expect(await store.queuePosition(tickets[3]!.id)).toBe(1);
      expect((await store.ticketsWithStatus('waiting')).map((ticket) => ticket.conversationId)).toEqual(['c2', 'c4']);
      expect((await store.ticketsWithStatus('assigned')).map((ticket) => ticket.conversationId)).toEqual(['c3', 'c1']);
      await store.closeTicket(tickets[1]!.id, at(12));
      await store.closeTicket(tickets[3]!.id, at(13));
      expect((await store.ticketsWithStatus('resolved')).map((ticket) => ticket.conversationId)).toEqual(['c4', 'c2']);
      // A conversation handed over again counts by its latest ticket only.
      await handOver(store, 'c2', 14);
      expect((await store.ticketsWithStatus('resolved')).map((ticket) => ticket.conversationId)).toEqual(['c4']);
      expect((await store.ticketsWithStatus('waiting')).map((ticket) => ticket.conversationId)).toEqual(['c2']);
    });

    it('of ten claims at once exactly one wins', async () => {
      const store = await open();
      for (let index = 0; index < 10; index++) await store.createAgent(agent(`a${index}`, `客服${index}`));
      const ticket = await handOver(store, 'c1', 1);
      const claims = await Promise.all(Array.from({ length: 10 }, (_, index) => store.claimTicket(ticket.id, `a${index}`, at(2))));
      expect(claims.filter(Boolean)).toHaveLength(1);
      const winner = `a${claims.indexOf(true)}`;
      expect(await store.ticket(ticket.id)).toMatchObject({ handoffStatus: 'assigned', assignedAgentId: winner, assignedAt: at(2) });
      expect(await store.claimTicket(ticket.id, 'a0', at(3))).toBe(false);
    });

    it('takes agent lines only from the agent holding the ticket, numbered after the user lines; the first reply time stays', async () => {
      const store = await open();
      await store.createAgent(agent('a1', '小林'));
      await store.createAgent(agent('a2', '小王'));
      const ticket = await handOver(store, 'c1', 1);
      expect(await store.addAgentLine(ticket.id, { id: 'a1', name: '小林' }, '你好', at(2))).toBe('not_assigned');
      expect(await store.addAgentLine(999, { id: 'a1', name: '小林' }, '你好', at(2))).toBe('not_assigned');
      await store.claimTicket(ticket.id, 'a1', at(3));
      expect(await store.addAgentLine(ticket.id, { id: 'a2', name: '小王' }, '你好', at(4))).toBe('not_assigned_to_you');
      expect(await store.addAgentLine(ticket.id, { id: 'a1', name: '小林' }, '你好，我是小林', at(5))).toEqual({ role: 'agent', text: '你好，我是小林', at: at(5), seq: 3, agentId: 'a1', agentName: '小林' });
      await store.addAgentLine(ticket.id, { id: 'a1', name: '小林' }, '还在吗', at(6));
      expect((await store.transcript('c1', 2)).map((line) => [line.seq, line.role, line.text])).toEqual([
        [3, 'agent', '你好，我是小林'],
        [4, 'agent', '还在吗'],
      ]);
      expect((await store.currentTicket('c1'))!.firstAgentReplyAt).toBe(at(5));
      await store.closeTicket(ticket.id, at(7));
      expect(await store.addAgentLine(ticket.id, { id: 'a1', name: '小林' }, '再见', at(8))).toBe('not_assigned');
    });

    it('closes a ticket from the dashboard once: resolved and closed, a second close changes nothing', async () => {
      const store = await open();
      const ticket = await handOver(store, 'c1', 1);
      expect(await store.closeTicket(ticket.id, at(2))).toMatchObject({ status: 'closed', closedAt: at(2), handoffStatus: 'resolved', resolution: 'resolved', resolvedAt: at(2) });
      expect(await store.closeTicket(ticket.id, at(3))).toMatchObject({ closedAt: at(2), resolvedAt: at(2) });
      expect(await store.closeTicket(999, at(3))).toBeUndefined();
    });

    it('lists tickets a page at a time, newest first, and counts them by status', async () => {
      const store = await open();
      const ids = [];
      for (let index = 0; index < 5; index++) ids.push((await handOver(store, `c${index}`, index + 1)).id);
      await store.closeTicket(ids[1]!, at(10));
      await store.closeTicket(ids[3]!, at(11));
      const firstPage = await store.ticketsPage({ status: 'all', limit: 2 });
      expect(firstPage.map((ticket) => ticket.id)).toEqual([ids[4], ids[3]]);
      const secondPage = await store.ticketsPage({ status: 'all', before: firstPage.at(-1)!.id, limit: 2 });
      expect(secondPage.map((ticket) => ticket.id)).toEqual([ids[2], ids[1]]);
      expect((await store.ticketsPage({ status: 'all', before: ids[0]!, limit: 2 }))).toEqual([]);
      expect((await store.ticketsPage({ status: 'open', limit: 10 })).map((ticket) => ticket.id)).toEqual([ids[4], ids[2], ids[0]]);
      expect((await store.ticketsPage({ status: 'closed', limit: 10 })).map((ticket) => ticket.id)).toEqual([ids[3], ids[1]]);
      expect([await store.ticketCount('all'), await store.ticketCount('open'), await store.ticketCount('closed')]).toEqual([5, 3, 2]);
    });
  });

  describe('agents', () => {
    it('creates, lists, disables and touches agents, and counts the ones seen lately', async () => {
      const store = await open();
      await store.createAgent(agent('a1', '小林'));
      await store.createAgent(agent('a2', '小王'));
      expect(await store.agentRecord('a1')).toEqual({ id: 'a1', name: '小林', tokenHash: 'scrypt:00:a1', createdAt: at(0), disabledAt: null, lastSeenAt: null });
      expect(await store.agentRecord('nobody')).toBeUndefined();
      await store.touchAgent('a1', at(10));
      await store.touchAgent('a2', at(20));
      expect(await store.agentsSeenSince(at(5))).toBe(2);
      expect(await store.agentsSeenSince(at(15))).toBe(1);
      expect(await store.disableAgent('a2', at(30))).toBe(true);
      expect(await store.disableAgent('a2', at(40))).toBe(true);
      expect(await store.disableAgent('nobody', at(30))).toBe(false);
      expect(await store.agentsSeenSince(at(5))).toBe(1);
      expect(await store.agents()).toEqual([
        { id: 'a1', name: '小林', createdAt: at(0), disabledAt: null, lastSeenAt: at(10) },
        { id: 'a2', name: '小王', createdAt: at(0), disabledAt: at(30), lastSeenAt: at(20) },
      ]);
    });
  });

  describe('ratings', () => {
    it('rates the latest answer or a named one, replaces a second rating of it, and refuses before any answer', async () => {
      const store = await open();
      await store.saveTurn('c1', { state: state(), entries: [botLine('你好，我是客服助手', 0)] });
      // The greeting answers nothing.
      expect(await store.rate('c1', true, at(1))).toEqual({ rated: false });
      expect(await store.rate('nobody', true, at(1))).toEqual({ rated: false });
      await store.saveTurn('c1', { state: state(), entries: [userLine('怎么解绑', 2), botLine('第一步', 2)] });
      await store.saveTurn('c1', { state: state(), entries: [userLine('然后呢', 3), botLine('第二步', 3)] });
      expect(await store.rate('c1', true, at(4))).toEqual({ rated: true, answerSeq: 5 });
      expect(await store.rate('c1', false, at(5), 3)).toEqual({ rated: true, answerSeq: 3 });
      expect(await store.rate('c1', true, at(6), 3)).toEqual({ rated: true, answerSeq: 3 });
      // A user line, the greeting and a missing line are not answers.
      expect(await store.rate('c1', true, at(7), 2)).toEqual({ rated: false });
      expect(await store.rate('c1', true, at(7), 1)).toEqual({ rated: false });
      expect(await store.rate('c1', true, at(7), 42)).toEqual({ rated: false });
      await store.createConversation({ id: 'c2', tokenHash: '', createdAt: at(0) });
      const { ratings } = await store.analyticsRows(at(0), at(100));
      // c1 was created implicitly at its first line's time (0 s), so it is in range.
      expect(ratings.map((rating) => [rating.at, rating.helpful]).sort()).toEqual([
        [at(4), true],
        [at(6), true],
      ]);
    });
  });

  describe('deletion', () => {
    it('deletes a conversation with everything it holds, and only it', async () => {
      const store = await open();
      store.queueTicketsForWebhook = true;
      await store.createAgent(agent('a1', '小林'));
      for (const id of ['c1', 'c2']) {
        await store.createConversation({ id, tokenHash: id, createdAt: at(0) });
        await store.saveTurn(id, { state: state(), entries: [userLine('怎么解绑', 1), botLine('第一步', 1)], record: record(1) });
        await store.rate(id, true, at(2));
        const ticket = await handOver(store, id, 3);
        await store.claimTicket(ticket.id, 'a1', at(4));
        await store.addAgentLine(ticket.id, { id: 'a1', name: '小林' }, '你好', at(5));
      }
      const undelivered = await store.undeliveredCount();
      expect(await store.deleteConversation('c1')).toBe(true);
      expect(await store.deleteConversation('c1')).toBe(false);
      expect(await store.accessRecord('c1')).toBeUndefined();
      expect(await store.transcript('c1')).toEqual([]);
      expect(await store.currentTicket('c1')).toBeUndefined();
      expect(await store.undeliveredCount()).toBe(undelivered / 2);
      const rows = await store.analyticsRows(at(0), at(100));
      expect(rows.conversations.map((row) => row.id)).toEqual(['c2']);
      expect(new Set([...rows.turns, ...rows.tickets, ...rows.ratings, ...rows.agentLines!].map((row) => row.conversationId))).toEqual(new Set(['c2']));
      expect(await store.transcript('c2')).toHaveLength(5);
    });

    it('deletes conversations idle since before a time, oldest first, a batch at a time', async () => {
      const store = await open();
      for (const [index, id] of ['old1', 'old2', 'old3', 'recent'].entries()) {
        await store.createConversation({ id, tokenHash: id, createdAt: at(0) });
        await store.saveTurn(id, { state: state(), entries: [userLine('你好', 10 + index)], record: record(10 + index) });
      }
      // A turn counts as activity: old3 was created long ago but spoke at 60 s.
      await store.saveTurn('old3', { state: state(), entries: [userLine('还在', 60)] });
      expect(await store.deleteInactiveBefore(at(50), 1)).toBe(1);
      expect(await store.accessRecord('old1')).toBeUndefined();
      expect(await store.deleteInactiveBefore(at(50), 10)).toBe(2);
      expect(await store.deleteInactiveBefore(at(50), 10)).toBe(0);
      expect((await store.analyticsRows(at(0), at(100))).conversations.map((row) => row.id)).toEqual(['old3']);
    });
  });

  describe('the webhook outbox', () => {
    it('queues nothing unless handoff events are to be sent', async () => {
      const store = await open();
      await store.createAgent(agent('a1', '小林'));
      const ticket = await handOver(store, 'c1', 1);
      await store.claimTicket(ticket.id, 'a1', at(2));
      await store.addAgentLine(ticket.id, { id: 'a1', name: '小林' }, '你好', at(3));
      await store.closeTicket(ticket.id, at(4));
      expect(await store.undeliveredCount()).toBe(0);
      expect(await store.dueDeliveries(at(100))).toEqual([]);
    });

    it('queues each event with what it reports, and delivers them oldest first with retries', async () => {
      const store = await open();
      store.queueTicketsForWebhook = true;
      await store.createAgent(agent('a1', '小林'));
      const ticket = await handOver(store, 'c1', 1);
      await store.claimTicket(ticket.id, 'a1', at(2));
      await store.saveTurn('c1', { state: state(), entries: [userLine('在吗', 3)], ticketLine: ticket.id });
      await store.addAgentLine(ticket.id, { id: 'a1', name: '小林' }, '在的', at(4));
      await store.closeTicket(ticket.id, at(5));
      expect(await store.undeliveredCount()).toBe(4);
      expect(await store.dueDeliveries(at(0))).toEqual([]);

      const due = await store.dueDeliveries(at(10));
      expect(due.map((delivery) => [delivery.ticketId, delivery.attempts])).toEqual([
        [ticket.id, 0],
        [ticket.id, 0],
        [ticket.id, 0],
        [ticket.id, 0],
      ]);
      expect(due.map((delivery) => delivery.id)).toEqual([...due.map((delivery) => delivery.id)].sort((a, b) => a - b));
      const bodies = due.map((delivery) => JSON.parse(delivery.body!) as Record<string, unknown>);
      expect(bodies.map((body) => body.type)).toEqual(['handoff.requested', 'message.created', 'message.created', 'conversation.resolved']);
      expect(bodies[0]).toMatchObject({ ticket: { id: ticket.id, handoffStatus: 'waiting' }, transcript: [{ role: 'user', text: '转人工', seq: 1 }, { role: 'bot', seq: 2 }] });
      expect(bodies[1]).toMatchObject({ conversationId: 'c1', ticketId: ticket.id, message: { role: 'user', text: '在吗', seq: 3 } });
      expect(bodies[2]).toMatchObject({ message: { role: 'agent', text: '在的', seq: 4, agentName: '小林' } });
      expect(bodies[3]).toMatchObject({ ticket: { handoffStatus: 'resolved', resolution: 'resolved' } });

      expect((await store.dueDeliveries(at(10), 2)).length).toBeLessThanOrEqual(2);
      await store.markDelivered(due[0]!.id, at(11));
      await store.markFailed(due[1]!.id, at(300), 'receiver answered 500');
      await store.markFailed(due[2]!.id, at(300), 'receiver answered 500');
      await store.markDelivered(due[3]!.id, at(11));
      expect(await store.undeliveredCount()).toBe(2);
      // The failed ones wait for their next attempt, then come back counted.
      expect(await store.dueDeliveries(at(299))).toEqual([]);
      expect((await store.dueDeliveries(at(300))).map((delivery) => [delivery.id, delivery.attempts])).toEqual([
        [due[1]!.id, 1],
        [due[2]!.id, 1],
      ]);
    });
  });

  describe('analytics', () => {
    /** Three days of conversations: answered, handed over and claimed, rated, not understood. */
    async function seed(store: ServerStore) {
      await store.createAgent(agent('a1', '小林'));
      const day = (date: number, second: number) => new Date(Date.UTC(2026, 0, date, 8, 0, second)).toISOString();
      for (let index = 0; index < 7; index++) {
        const id = `c${index}`;
        const date = 1 + (index % 3);
        await store.createConversation({ id, tokenHash: '', createdAt: day(date, index) });
        await store.saveTurn(id, { state: state(), entries: [botLine('你好', 0)] });
        for (let turn = 1; turn <= 3; turn++) {
          const when = day(date, index + turn * 10);
          const understood = (index + turn) % 3 !== 0;
          await store.saveTurn(id, {
            state: state(),
            entries: [{ role: 'user', text: understood ? '怎么解绑' : `看不懂的问题${index}-${turn}`, at: when }, { role: 'bot', text: '好的', at: when }],
            record: understood
              ? { ...record(0), at: when, step: turn, said: [`unbind.step${turn}`], outcomes: turn === 3 && index % 2 ? [{ kind: 'unbindCompleted' }] : [{ kind: 'answered', topic: 'balance_before_unbind' }] }
              : { ...record(0), at: when, text: `看不懂的问题${index}-${turn}`, intent: 'out_of_scope', confidence: 0.2, event: 'nlu.fallback', stateAfter: 'idle', step: 0, said: ['fallback'], outcomes: [{ kind: 'notCovered' }] },
          });
        }
        if (index % 2 === 0) await store.rate(id, index % 4 === 0, day(date, index + 40));
        if (index % 3 === 0) {
          const ticket = await handOver(store, id, 0, {
            entries: [{ role: 'user', text: '转人工', at: day(date, index + 45) }],
            ticket: { conversationId: id, reason: 'user_request', step: 2, state: 'handedOff', createdAt: day(date, index + 45) },
            record: { ...record(0), at: day(date, index + 45), outcomes: [{ kind: 'handedOff', reason: 'user_request' }] },
          });
          await store.claimTicket(ticket.id, 'a1', day(date, index + 50));
          await store.addAgentLine(ticket.id, { id: 'a1', name: '小林' }, '你好', day(date, index + 55));
          await store.closeTicket(ticket.id, day(date, index + 58));
        }
      }
      // Outside the range: counted nowhere.
      await store.createConversation({ id: 'later', tokenHash: '', createdAt: day(9, 0) });
      await store.saveTurn('later', { state: state(), entries: [userLine('怎么解绑', 1)], record: record(1) });
    }

    it('gives the same analytics read at once and read in small slices', async () => {
      const store = await open();
      await seed(store);
      const normalizer = new TextNormalizer(loadContent().lexicon);
      const range = { from: '2026-01-01', to: '2026-01-03' };
      const { fromIso, toIso } = dayRange(range.from, range.to);
      const atOnce = computeAnalytics(await store.analyticsRows(fromIso, toIso), range, normalizer);
      const sliced = await computeAnalyticsInSlices({ analyticsSlices: (from, to) => store.analyticsSlices(from, to, { conversationsPerPage: 2, turnsPerChunk: 2 }) }, range, normalizer);
      const defaultSlices = await computeAnalyticsInSlices(store, range, normalizer);
      expect(sliced).toEqual(atOnce);
      expect(defaultSlices).toEqual(atOnce);
      // What both backends must agree on, by value.
      expect(atOnce.totals).toMatchObject({ conversations: 7, handedOff: 3, messages: 24, fallbacks: 7, questions: { answered: 12, notCovered: 7 }, ratings: { helpful: 2, notHelpful: 2 } });
      expect(atOnce.daily.map((day) => day.conversations)).toEqual([3, 2, 2]);
      expect(atOnce.handoffs).toMatchObject({ requested: 3, resolvedByAgent: 3, medianWaitSeconds: 5, medianFirstReplySeconds: 10, perAgent: [{ id: 'a1', name: '小林', claimed: 3, resolved: 3, messages: 3 }] });
      expect(atOnce.unansweredMessages.total).toBe(7);
    });
  });

  describe('health', () => {
    it('is healthy while open and not once closed, without throwing', async () => {
      const store = await open();
      expect(await store.healthy()).toBe(true);
      await store.close();
      expect(await store.healthy()).toBe(false);
    });
  });
});

// ---------------------------------------------------------------------------------------------
// What only a database shared by several servers has to do: SQLite has one writer and no turn lock.

describe('PostgreSQL shared by several servers', () => {
  /** A second server on the same database: its own pool, as another instance would have. */
  async function secondInstance(poolSize = 3): Promise<PostgresConversationStore> {
    return track(await openPostgresStore(contractDatabase!, { poolSize }));
  }

  it('serialises the turns of one conversation across two servers: twenty at once, no conflict, version 20', async () => {
    // Small pools: a turn that took a second connection for any of its reads would deadlock here.
    const one = await emptyPostgresStore(3);
    const two = await secondInstance(3);
    await one.createConversation({ id: 'c1', tokenHash: 'ab', createdAt: at(0) });
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, index) =>
        settle(
          (index % 2 ? two : one).withTurnLock('c1', async () => {
            const store = index % 2 ? two : one;
            const context = (await store.turnContext('c1'))!;
            // Long enough for every other turn to be waiting on the lock.
            await new Promise((resolve) => setTimeout(resolve, 5));
            await store.currentTicket('c1');
            return store.saveTurn('c1', { state: state(`turn ${index}`), entries: [userLine(`第${index}条`, index), botLine('好', index)], expectedVersion: context.version! });
          }),
        ),
      ),
    );
    expect(results.filter((result) => !result.ok)).toEqual([]);
    expect((await one.turnContext('c1'))!.version).toBe(20);
    expect((await two.transcript('c1')).map((line) => line.seq)).toEqual(Array.from({ length: 40 }, (_, index) => index + 1));
  });

  it('rolls back everything a turn wrote when it throws under the lock', async () => {
    const store = await emptyPostgresStore();
    store.queueTicketsForWebhook = true;
    await store.createConversation({ id: 'c1', tokenHash: 'ab', createdAt: at(0) });
    const failing = store.withTurnLock('c1', async () => {
      await handOver(store, 'c1', 1);
      await store.rate('c1', true, at(2));
      throw new Error('the flows failed');
    });
    await expect(failing).rejects.toThrow('the flows failed');
    expect(await store.transcript('c1')).toEqual([]);
    expect(await store.tickets()).toEqual([]);
    expect(await store.undeliveredCount()).toBe(0);
    expect((await store.turnContext('c1'))!.version).toBe(0);
    // The connection went back to the pool usable, and the lock with it.
    expect(await store.withTurnLock('c1', () => store.saveTurn('c1', { state: state(), entries: [userLine('你好', 3)] }))).toEqual({ seqs: [1] });
  });

  it('a save that fails inside a turn writes nothing, and the turn cannot commit around it even if the failure was caught', async () => {
    const store = await emptyPostgresStore();
    await store.saveTurn('c1', { state: state(), entries: [userLine('你好', 1, { clientMessageId: 'm-1' })] });
    const turn = store.withTurnLock('c1', async () => {
      const duplicate = await settle(store.saveTurn('c1', { state: state('dup'), entries: [botLine('半个回合', 2), userLine('你好', 2, { clientMessageId: 'm-1' })] }));
      expect(duplicate.ok).toBe(false);
      return 'answered anyway';
    });
    await expect(turn).rejects.toThrow(PartOfTransactionFailedError);
    expect((await store.transcript('c1')).map((line) => line.text)).toEqual(['你好']);
    expect(await store.load('c1')).toEqual(state());
    // The connection went back to the pool usable.
    expect(await store.withTurnLock('c1', () => store.saveTurn('c1', { state: state('after'), entries: [botLine('请稍等', 3)] }))).toEqual({ seqs: [2] });
  });

  it('numbers agent lines and turns arriving on two servers at once without a gap or a collision', async () => {
    const one = await emptyPostgresStore();
    const two = await secondInstance();
    await one.createAgent(agent('a1', '小林'));
    const ticket = await handOver(one, 'c1', 1);
    await one.claimTicket(ticket.id, 'a1', at(2));
    const writes = await Promise.all(
      Array.from({ length: 10 }, (_, index) => [
        settle(one.addAgentLine(ticket.id, { id: 'a1', name: '小林' }, `客服${index}`, at(3))),
        settle(two.saveTurn('c1', { state: state(), entries: [userLine(`用户${index}`, 3)], ticketLine: ticket.id })),
      ]).flat(),
    );
    expect(writes.filter((write) => !write.ok)).toEqual([]);
    expect((await one.transcript('c1')).map((line) => line.seq)).toEqual(Array.from({ length: 22 }, (_, index) => index + 1));
  });

  it('leases due deliveries: two servers polling at once get different ones, and none again until the lease ends', async () => {
    const one = await emptyPostgresStore();
    const two = await secondInstance();
    one.queueTicketsForWebhook = true;
    for (let index = 0; index < 6; index++) await handOver(one, `c${index}`, index);
    const [first, second] = await Promise.all([one.dueDeliveries(at(10), 3), two.dueDeliveries(at(10), 3)]);
    const ids = [...first!, ...second!].map((delivery) => delivery.id);
    expect(first).toHaveLength(3);
    expect(second).toHaveLength(3);
    expect(new Set(ids).size).toBe(6);
    expect(await one.dueDeliveries(at(10))).toEqual([]);
    await two.markFailed(first![0]!.id, at(20), 'receiver answered 503');
    expect((await two.dueDeliveries(at(20))).map((delivery) => delivery.id)).toEqual([first![0]!.id]);
    // A server that died holding the rest: they come back a minute later.
    expect((await one.dueDeliveries(at(71))).map((delivery) => delivery.id).sort((a, b) => a - b)).toEqual(ids.filter((id) => id !== first![0]!.id).sort((a, b) => a - b));
  });

  it('three servers starting at once on a new database all migrate it, once', async () => {
    const url = await createDatabase();
    const stores = await Promise.all([1, 2, 3].map(() => openPostgresStore(url, { poolSize: 2 })));
    stores.forEach(track);
    expect(await Promise.all(stores.map((store) => store.healthy()))).toEqual([true, true, true]);
    const { rows } = await stores[0]!.pool.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version');
    expect(rows.map((row) => row.version)).toEqual(Array.from({ length: postgresSchemaVersion }, (_, index) => index + 1));
  });

  it('refuses a database written by a newer version of the program', async () => {
    const url = await createDatabase();
    const store = await openPostgresStore(url);
    await store.pool.query('INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)', [postgresSchemaVersion + 1, at(0)]);
    await store.close();
    await expect(openPostgresStore(url)).rejects.toThrow(/newer than this program knows/);
  });

  it('redacts again on open what an older redactor stored, once per redaction version', async () => {
    const url = await createDatabase();
    const before = await openPostgresStore(url);
    before.queueTicketsForWebhook = true;
    await handOver(before, 'c1', 1, {
      entries: [userLine('密码 hunter2', 1), botLine('别发 hunter2', 1)],
      record: { ...record(1), text: '密码 hunter2' },
      ticket: { conversationId: 'c1', reason: 'hunter2', step: 0, state: 'handedOff', createdAt: at(1) },
    });
    await before.close();
    const redaction = { version: 2, redact: (text: string) => text.replaceAll('hunter2', '[密码]') };
    const after = track(await openPostgresStore(url, { redaction }));
    expect((await after.transcript('c1')).map((line) => line.text)).toEqual(['密码 [密码]', '别发 hunter2']);
    expect((await after.analyticsRows(at(0), at(100))).turns[0]!.text).toBe('密码 [密码]');
    expect((await after.ticket(1))!.reason).toBe('[密码]');
    const [delivery] = await after.dueDeliveries(at(10));
    expect(delivery!.body).not.toContain('密码 hunter2');
    expect(delivery!.body).toContain('密码 [密码]');
    // Recorded: opening again with the same rules rewrites nothing (a line the test writes past them stays).
    await after.saveTurn('c1', { state: state(), entries: [userLine('又是 hunter2', 2)] });
    await after.close();
    const again = track(await openPostgresStore(url, { redaction }));
    expect((await again.transcript('c1', 2)).map((line) => line.text)).toEqual(['又是 hunter2']);
  });
});
