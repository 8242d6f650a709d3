import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadContent, type Content } from '../../src/content/loadContent.js';
import type { ConversationStore, StoredTurn } from '../../src/dialogue/conversationStore.js';
import { DialogueEngine, turnForClients } from '../../src/dialogue/dialogueEngine.js';
import type { Reply } from '../../src/dialogue/replyRenderer.js';
import { openStore, type ServerStore } from '../../src/storage/openStore.js';

/**
 * An engine that keeps live actors between turns must answer exactly as one that restores every
 * turn from the stored snapshot: same replies, same state, same stored snapshot, whatever is said.
 */
let content: Content;
beforeAll(() => {
  content = loadContent();
});

const typed = ['我要解绑', '没有', '有', '好了', '好', '不是', '上一步', '再说一遍', '怎么改密码', '收不到验证码', '人工客服', '算了', '重新开始', '谢谢', '你好', '我的验证码是 123456', 'asdf', '短信'];
const clock = () => new Date('2026-12-02T12:00:00.000Z');
const newEngine = (store: ConversationStore, hotActors?: number) =>
  new DialogueEngine({ content, store, now: clock, logger: { warn: () => undefined }, ...(hotActors === undefined ? {} : { hotActors }) });

/** A message: a button of the last replies (by index) or a typed phrase. */
const message = fc.oneof(fc.record({ button: fc.nat(5) }), fc.record({ typed: fc.constantFrom(...typed) }));

function textOf(step: { button: number } | { typed: string }, replies: readonly Reply[]): { text: string; displayText?: string } {
  const buttons = replies.flatMap((reply) => reply.quickReplies ?? []);
  if ('typed' in step || !buttons.length) return { text: 'typed' in step ? step.typed : typed[0]! };
  const button = buttons[step.button % buttons.length]!;
  return { text: button.payload, displayText: button.title };
}

let conversations = 0;

/** The same conversation on two stores, one served by a hot engine, one by an engine that always restores. */
async function pair(hotStore: ServerStore, coldStore: ServerStore, hot: DialogueEngine, cold: DialogueEngine) {
  const id = `hot-${++conversations}`;
  for (const store of [hotStore, coldStore]) await store.createConversation({ id, tokenHash: '', createdAt: clock().toISOString() });
  const greeting = await hot.startConversation(id);
  await cold.startConversation(id);
  let replies = greeting;
  return {
    id,
    async say(step: { button: number } | { typed: string }) {
      const { text, displayText } = textOf(step, replies);
      const [fromHot, fromCold] = [await hot.handleMessage(id, text, displayText), await cold.handleMessage(id, text, displayText)];
      expect(turnForClients(fromHot)).toEqual(turnForClients(fromCold));
      expect(await hotStore.load(id)).toEqual(await coldStore.load(id));
      replies = fromHot.replies;
    },
  };
}

describe('hot actors', () => {
  it('a kept actor answers every sequence of messages exactly as a fresh restore of the stored snapshot does', { timeout: 240_000 }, async () => {
    const hotStore = openStore('memory:');
    const coldStore = openStore('memory:');
    const hot = newEngine(hotStore, 4);
    const cold = newEngine(coldStore, 0);
    await fc.assert(
      fc.asyncProperty(fc.array(message, { minLength: 1, maxLength: 25 }), async (steps) => {
        const conversation = await pair(hotStore, coldStore, hot, cold);
        for (const step of steps) await conversation.say(step);
      }),
      { numRuns: 40 },
    );
    // The comparison meant something: the hot engine did keep actors between turns.
    expect((hot as unknown as { hotActors: { size: number } }).hotActors.size).toBe(4);
  });

  it('never serves a stale state: a snapshot written by someone else since is restored, not the kept actor', { timeout: 60_000 }, async () => {
    const store = openStore('memory:');
    const engine = newEngine(store);
    for (const id of ['a', 'b']) await store.createConversation({ id, tokenHash: '', createdAt: clock().toISOString() });
    await engine.startConversation('a');
    await engine.startConversation('b');
    for (const text of ['我要解绑', '没有', '好了']) await engine.handleMessage('a', text);
    const atStep = (await engine.describe('a')).progress?.step;
    expect(atStep).toBeGreaterThan(1);
    // Another writer (a restore from a backup, another process) puts conversation a back at the start.
    const fresh = (await store.load('b'))!;
    await store.saveTurn('a', { state: fresh, entries: [] });
    const next = await engine.handleMessage('a', '我要解绑');
    expect(next.state).toBe('unbinding.checkingBalance');
  });

  it('a turn whose commit fails leaves no kept actor: the next turn starts from what is stored', { timeout: 60_000 }, async () => {
    const store = openStore('memory:');
    let failNext = false;
    const failing: ConversationStore = Object.assign(Object.create(store) as ServerStore, {
      saveTurn: (id: string, turn: StoredTurn) => (failNext ? ((failNext = false), Promise.reject(new Error('disk full'))) : store.saveTurn(id, turn)),
    });
    const engine = newEngine(failing);
    await store.createConversation({ id: 'c', tokenHash: '', createdAt: clock().toISOString() });
    await engine.startConversation('c');
    const first = await engine.handleMessage('c', '我要解绑');
    failNext = true;
    await expect(engine.handleMessage('c', '没有')).rejects.toThrow('disk full');
    // The failed turn moved the actor on; what is stored is still the first turn's state.
    const again = await engine.handleMessage('c', '没有');
    const cold = newEngine(openStore('memory:'), 0);
    const coldStore = (cold as unknown as { store: ServerStore }).store;
    await coldStore.createConversation({ id: 'c', tokenHash: '', createdAt: clock().toISOString() });
    await cold.startConversation('c');
    expect(turnForClients(await cold.handleMessage('c', '我要解绑'))).toEqual(turnForClients(first));
    const expected = turnForClients(await cold.handleMessage('c', '没有'));
    expect({ ...turnForClients(again), userMessage: undefined }).toEqual({ ...expected, userMessage: undefined });
  });
});
