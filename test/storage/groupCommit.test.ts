import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { ConversationGoneError, type StoredTurn } from '../../src/dialogue/conversationStore.js';
import { GroupCommit } from '../../src/storage/groupCommit.js';
import { SqliteConversationStore } from '../../src/storage/sqliteConversationStore.js';

const dirs: string[] = [];
const tempFile = () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'bot-group-'));
  dirs.push(dir);
  return path.join(dir, 'chatbot.db');
};
afterEach(() => dirs.splice(0).forEach((dir) => rmSync(dir, { recursive: true, force: true })));

/** Two tables, a line belonging to a conversation: enough to make a batch fail at its commit. */
function database() {
  const db = new Database(':memory:');
  db.pragma('foreign_keys = ON');
  db.exec('CREATE TABLE conversations (id TEXT PRIMARY KEY); CREATE TABLE lines (conversation_id TEXT NOT NULL REFERENCES conversations(id), text TEXT NOT NULL);');
  db.prepare('INSERT INTO conversations (id) VALUES (?)').run('a');
  db.prepare('INSERT INTO conversations (id) VALUES (?)').run('b');
  const insert = db.prepare('INSERT INTO lines (conversation_id, text) VALUES (?, ?)');
  const lines = () => db.prepare<[], { conversation_id: string; text: string }>('SELECT conversation_id, text FROM lines ORDER BY rowid').all();
  return { db, insert, lines };
}

const settle = <T>(promise: Promise<T>) => promise.then((value) => ({ ok: true as const, value }), (error: unknown) => ({ ok: false as const, error }));

describe('group commit', () => {
  it('writes submitted together are stored in the order submitted, and each learns its own result only after the commit', async () => {
    const { db, insert, lines } = database();
    const commit = new GroupCommit(db);
    const writes = Array.from({ length: 10 }, (_, index) => commit.submit(() => insert.run(index % 2 ? 'a' : 'b', `line ${index}`).lastInsertRowid));
    // Nothing is stored, let alone acknowledged, before the batch commits.
    expect(lines()).toEqual([]);
    const ids = await Promise.all(writes);
    expect(ids.map(Number)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(lines().map((line) => line.text)).toEqual(Array.from({ length: 10 }, (_, index) => `line ${index}`));
    expect(db.inTransaction).toBe(false);
  });

  it('a write that throws is undone and rejected alone; the rest of its batch is stored', async () => {
    const { db, insert, lines } = database();
    const commit = new GroupCommit(db);
    const results = await Promise.all([
      settle(commit.submit(() => insert.run('a', 'first'))),
      settle(
        commit.submit(() => {
          insert.run('b', 'half of a write');
          throw new Error('the flows failed');
        }),
      ),
      settle(commit.submit(() => insert.run('b', 'third'))),
    ]);
    expect(results.map((result) => result.ok)).toEqual([true, false, true]);
    expect(lines().map((line) => line.text)).toEqual(['first', 'third']);
  });

  it('a batch that cannot commit acknowledges nothing it did not store: each write is tried alone and gets its own outcome', async () => {
    const { db, insert, lines } = database();
    const commit = new GroupCommit(db);
    // A deferred foreign key is checked at COMMIT: the whole batch's commit fails because of one write.
    const results = await Promise.all([
      settle(commit.submit(() => insert.run('a', 'before'))),
      settle(
        commit.submit(() => {
          db.pragma('defer_foreign_keys = ON');
          insert.run('no such conversation', 'orphan');
        }),
      ),
      settle(commit.submit(() => insert.run('b', 'after'))),
    ]);
    expect(results.map((result) => result.ok)).toEqual([true, false, true]);
    expect(String((results[1] as { error: unknown }).error)).toMatch(/FOREIGN KEY/);
    // Exactly what was acknowledged is stored, in order.
    expect(lines()).toEqual([
      { conversation_id: 'a', text: 'before' },
      { conversation_id: 'b', text: 'after' },
    ]);
  });

  it('a disk that fills up mid-batch stores and acknowledges nothing of the batch that does not fit', async () => {
    const { db, insert, lines } = database();
    const commit = new GroupCommit(db);
    const pages = db.pragma('page_count', { simple: true }) as number;
    db.pragma(`max_page_count = ${pages + 2}`);
    const big = 'x'.repeat(3000);
    const results = await Promise.all(Array.from({ length: 6 }, (_, index) => settle(commit.submit(() => insert.run('a', `${index} ${big}`)))));
    const acknowledged = results.flatMap((result, index) => (result.ok ? [index] : []));
    expect(acknowledged.length).toBeLessThan(6);
    expect(results.filter((result) => !result.ok).every((result) => /full/i.test(String((result as { error: unknown }).error)))).toBe(true);
    expect(lines().map((line) => Number(line.text.split(' ')[0]))).toEqual(acknowledged);
  });
});

const turn = (text: string): StoredTurn => ({
  state: { flowVersion: 'v', snapshot: { value: 'idle' }, script: 'simplified' },
  entries: [{ role: 'bot', text, at: new Date().toISOString() }],
});

describe('saving turns of concurrent conversations', () => {
  it('stores every turn saved at once, each conversation numbering its own lines, and refuses only the one whose conversation is gone', async () => {
    const store = new SqliteConversationStore(tempFile());
    store.createsConversationsImplicitly = false;
    const ids = Array.from({ length: 20 }, (_, index) => `c${index}`);
    for (const id of ids) await store.createConversation({ id, tokenHash: 'h', createdAt: new Date().toISOString() });
    const saved = await Promise.all([...ids.map((id) => settle(store.saveTurn(id, turn(`hello ${id}`)))), settle(store.saveTurn('deleted', turn('too late')))]);
    expect(saved.slice(0, 20).every((result) => result.ok && result.value.seqs[0] === 1)).toBe(true);
    expect(saved[20]!.ok ? undefined : saved[20]!.error).toBeInstanceOf(ConversationGoneError);
    for (const id of ids) expect((await store.transcript(id)).map((line) => line.text)).toEqual([`hello ${id}`]);
    expect(await store.transcript('deleted')).toEqual([]);
    store.close();
  });

  it('closing the store commits the turns still waiting for their batch', async () => {
    const file = tempFile();
    const store = new SqliteConversationStore(file);
    const pending = store.saveTurn('kept', turn('said just before closing'));
    store.close();
    await expect(pending).resolves.toEqual({ seqs: [1] });
    const reopened = new SqliteConversationStore(file);
    expect((await reopened.transcript('kept')).map((line) => line.text)).toEqual(['said just before closing']);
    reopened.close();
  });
});
