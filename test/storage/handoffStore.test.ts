import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryConversationStore, type ConversationStore, type SupportStore } from '../../src/dialogue/conversationStore.js';
import { SqliteConversationStore } from '../../src/storage/sqliteConversationStore.js';
import { schemaMigrations, schemaVersion } from '../../src/storage/sqliteMigrations.js';

const dirs: string[] = [];
const tempFile = () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'bot-handoff-'));
  dirs.push(dir);
  return path.join(dir, 'chatbot.db');
};
afterEach(() => dirs.splice(0).forEach((dir) => rmSync(dir, { recursive: true, force: true })));

const state = { flowVersion: 'v1', snapshot: { value: 'handedOff' }, script: 'simplified' as const };
const at = (second: number) => `2026-01-01T00:00:${String(second).padStart(2, '0')}.000Z`;
const agent = (id: string, name: string) => ({ id, name, tokenHash: 'scrypt:00:00', createdAt: at(0), disabledAt: null, lastSeenAt: null });

async function handOver(store: ConversationStore, conversationId: string, second: number) {
  const saved = await store.saveTurn(conversationId, {
    state,
    entries: [{ role: 'user', text: '转人工', at: at(second) }, { role: 'bot', text: '已转接', at: at(second) }],
    ticket: { conversationId, reason: 'user_request', step: 0, state: 'handedOff', createdAt: at(second) },
  });
  return saved!.ticket!;
}

describe.each([
  ['SQLite', () => new SqliteConversationStore(':memory:')],
  ['memory', () => new MemoryConversationStore()],
] as [string, () => ConversationStore & SupportStore][])('the life of a handover (%s)', (_name, open) => {
  it('queues waiting tickets oldest first; of two claims at once exactly one wins', async () => {
    const store = open();
    await store.createAgent(agent('a1', '小林'));
    await store.createAgent(agent('a2', '小王'));
    const first = await handOver(store, 'c1', 1);
    const second = await handOver(store, 'c2', 2);
    expect(first.handoffStatus).toBe('waiting');
    expect([await store.queuePosition(first.id), await store.queuePosition(second.id)]).toEqual([0, 1]);
    expect((await store.ticketsWithStatus('waiting')).map((ticket) => ticket.conversationId)).toEqual(['c1', 'c2']);

    const claims = await Promise.all([store.claimTicket(first.id, 'a1', at(3)), store.claimTicket(first.id, 'a2', at(3))]);
    expect(claims.filter(Boolean)).toHaveLength(1);
    const claimed = (await store.currentTicket('c1'))!;
    expect(claimed).toMatchObject({ handoffStatus: 'assigned', assignedAt: at(3) });
    expect(await store.queuePosition(second.id)).toBe(0);
  });

  it('takes agent lines only from the agent holding the ticket, with a seq after the user lines', async () => {
    const store = open();
    await store.createAgent(agent('a1', '小林'));
    await store.createAgent(agent('a2', '小王'));
    const ticket = await handOver(store, 'c1', 1);
    expect(await store.addAgentLine(ticket.id, { id: 'a1', name: '小林' }, '你好', at(2))).toBe('not_assigned');
    await store.claimTicket(ticket.id, 'a1', at(3));
    expect(await store.addAgentLine(ticket.id, { id: 'a2', name: '小王' }, '你好', at(4))).toBe('not_assigned_to_you');
    expect(await store.addAgentLine(ticket.id, { id: 'a1', name: '小林' }, '你好，我是小林', at(5))).toMatchObject({ role: 'agent', agentName: '小林', seq: 3 });
    await store.addAgentLine(ticket.id, { id: 'a1', name: '小林' }, '还在吗', at(6));
    expect((await store.transcript('c1', 2)).map((line) => [line.seq, line.role, line.text])).toEqual([
      [3, 'agent', '你好，我是小林'],
      [4, 'agent', '还在吗'],
    ]);
    expect((await store.currentTicket('c1'))!.firstAgentReplyAt).toBe(at(5));
  });

  it('resolving a ticket closes it, once', async () => {
    const store = open();
    const ticket = await handOver(store, 'c1', 1);
    await store.saveTurn('c1', { state, entries: [{ role: 'bot', text: '好的', at: at(2) }], resolveTicket: { id: ticket.id, resolution: 'user_left', at: at(2) } });
    await store.saveTurn('c1', { state, entries: [], resolveTicket: { id: ticket.id, resolution: 'resolved', at: at(3) } });
    expect(await store.currentTicket('c1')).toMatchObject({ handoffStatus: 'resolved', resolution: 'user_left', resolvedAt: at(2), status: 'closed', closedAt: at(2) });
    expect(await store.ticketsWithStatus('resolved')).toHaveLength(1);
  });

  it('disables agents and counts the ones seen lately', async () => {
    const store = open();
    await store.createAgent(agent('a1', '小林'));
    await store.createAgent(agent('a2', '小王'));
    await store.touchAgent('a1', at(10));
    await store.touchAgent('a2', at(20));
    expect(await store.agentsSeenSince(at(5))).toBe(2);
    expect(await store.disableAgent('a2', at(30))).toBe(true);
    expect(await store.disableAgent('nobody', at(30))).toBe(false);
    expect(await store.agentsSeenSince(at(5))).toBe(1);
    expect((await store.agents()).map((one) => [one.name, one.disabledAt])).toEqual([['小林', null], ['小王', at(30)]]);
    expect(JSON.stringify(await store.agents())).not.toContain('scrypt');
  });
});

describe('schema version 6', () => {
  it('upgrades a version 5 database: transcript rows and seqs kept, closed tickets resolved, agent lines accepted', async () => {
    const file = tempFile();
    mkdirSync(path.dirname(file), { recursive: true });
    const old = new Database(file);
    for (const migration of schemaMigrations.slice(0, 5)) old.exec(migration);
    old.pragma('user_version = 5');
    old.exec(`INSERT INTO conversations (id, token_hash, created_at, updated_at) VALUES ('c1', '', '${at(0)}', '${at(0)}');
      INSERT INTO transcript (conversation_id, seq, role, text, at) VALUES ('c1', 1, 'bot', '你好', '${at(0)}'), ('c1', 2, 'user', '转人工', '${at(1)}');
      INSERT INTO handoff_tickets (conversation_id, reason, step, state, created_at, status, closed_at) VALUES ('c1', 'user_request', 0, 'handedOff', '${at(1)}', 'closed', '${at(2)}');
      INSERT INTO handoff_tickets (conversation_id, reason, step, state, created_at) VALUES ('c1', 'user_request', 0, 'handedOff', '${at(3)}');`);
    old.close();

    const store = new SqliteConversationStore(file);
    expect(store.db.pragma('user_version', { simple: true })).toBe(schemaVersion);
    expect((await store.transcript('c1')).map((line) => [line.seq, line.text])).toEqual([[1, '你好'], [2, '转人工']]);
    const [closed, open] = await store.tickets();
    expect(closed).toMatchObject({ status: 'closed', handoffStatus: 'resolved', resolution: 'resolved', resolvedAt: at(2) });
    expect(open).toMatchObject({ status: 'open', handoffStatus: 'waiting' });
    await store.createAgent(agent('a1', '小林'));
    expect(await store.claimTicket(open!.id, 'a1', at(4))).toBe(true);
    expect(await store.addAgentLine(open!.id, { id: 'a1', name: '小林' }, '你好', at(5))).toMatchObject({ seq: 3, role: 'agent' });
    store.close();
  });
});
