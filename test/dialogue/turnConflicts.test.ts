import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadContent, type Content } from '../../src/content/loadContent.js';
import { DialogueEngine } from '../../src/dialogue/dialogueEngine.js';
import { openStore, type ServerStore } from '../../src/storage/openStore.js';
import type { SqliteConversationStore } from '../../src/storage/sqliteConversationStore.js';

/**
 * Two processes serving one SQLite file (WORKERS > 1) each run a conversation's turns one at a time,
 * but not one after the other's: two messages of one conversation can be taken at once, one by each.
 * Every turn must still start where the one saved before it ended, as if one process had taken them
 * all in the order they were saved. Two stores on one file stand for the two processes here.
 */
let content: Content;
let dir: string;
const stores: ServerStore[] = [];
beforeAll(() => {
  content = loadContent();
  dir = mkdtempSync(path.join(os.tmpdir(), 'turn-conflicts-'));
});
afterAll(() => {
  for (const store of stores) store.close();
  rmSync(dir, { recursive: true, force: true });
});

const clock = () => new Date('2026-12-03T08:00:00.000Z');
const engineOn = (store: ServerStore) => new DialogueEngine({ content, store, now: clock, logger: { warn: () => undefined } });
const messages = ['我要解绑', '有', '没有', '好了', '收不到验证码', '上一步', '再说一遍', '好', '怎么改密码', '谢谢', '我要解绑', '有'];

describe('two processes on one database file', () => {
  it('run concurrent messages of one conversation as one process would, in the order they were saved', async () => {
    const file = path.join(dir, 'shared.db');
    const [first, second] = [0, 1].map(() => openStore(`sqlite:${file}`, { sharedWithOtherProcesses: true }) as SqliteConversationStore);
    stores.push(first!, second!);
    const engines = [engineOn(first!), engineOn(second!)];
    const id = 'shared-conversation';
    await first!.createConversation({ id, tokenHash: '', createdAt: clock().toISOString() });
    await engines[0]!.startConversation(id);

    // All at once, alternating between the two: each engine queues its own, the two race each other.
    const results = await Promise.all(messages.map((text, index) => engines[index % 2]!.handleMessage(id, text)));
    const turns = first!.db.prepare<[string], { text: string; state_before: string; state_after: string }>('SELECT text, state_before, state_after FROM turns WHERE conversation_id = ? ORDER BY user_seq').all(id);
    expect(turns.map((turn) => turn.text).sort()).toEqual([...messages].sort());
    for (let index = 1; index < turns.length; index++) expect(turns[index]!.state_before).toBe(turns[index - 1]!.state_after);
    // Each answer is the one a single engine gives to the same messages in the saved order.
    const replayStore = openStore('memory:');
    stores.push(replayStore);
    const replay = engineOn(replayStore);
    const replayId = 'replayed';
    await replayStore.createConversation({ id: replayId, tokenHash: '', createdAt: clock().toISOString() });
    await replay.startConversation(replayId);
    const answeredInOrder = [...results].sort((a, b) => a.userMessage.seq - b.userMessage.seq);
    for (const [index, turn] of turns.entries()) {
      const again = await replay.handleMessage(replayId, turn.text);
      expect(answeredInOrder[index]!.replies.map((reply) => reply.id)).toEqual(again.replies.map((reply) => reply.id));
      expect(answeredInOrder[index]!.state).toBe(again.state);
    }
  }, 60_000);
});
