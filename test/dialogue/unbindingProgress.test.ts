import { beforeAll, describe, expect, it } from 'vitest';
import { loadContent, type Content } from '../../src/content/loadContent.js';
import { MemoryConversationStore } from '../../src/dialogue/conversationStore.js';
import { DialogueEngine, type HandoffSettings } from '../../src/dialogue/dialogueEngine.js';

let content: Content;
beforeAll(() => {
  content = loadContent();
});

const engineWith = (handoff?: HandoffSettings) =>
  new DialogueEngine({ content, store: new MemoryConversationStore(), logger: { warn: () => undefined }, ...(handoff ? { handoff } : {}) });

async function walk(engine: DialogueEngine, id: string, messages: string[]) {
  const results = [];
  for (const text of messages) results.push(await engine.handleMessage(id, text));
  return results;
}

describe('progress of the unbinding in the dialogue core', () => {
  it('counts the steps a user says they already did as completed', async () => {
    const engine = engineWith();
    const [jumped] = await walk(engine, 'ahead', ['我已经在钱包页面了']);
    expect(jumped!.replies.map((reply) => reply.id)).toContain('unbind.skipAhead');
    expect(jumped!.progress).toEqual({ step: 5, total: 7, completed: 4, phase: 'steps', status: 'active' });
  });

  it('is in the confirmation phase once verification is skipped, and back in verification when the user asks about it again', async () => {
    const engine = engineWith();
    const results = await walk(engine, 'skip', ['/unbind_wallet', '/deny', ...Array(6).fill('/affirm'), '/deny', '/verification_help']);
    expect(results.at(-2)!.replies.map((reply) => reply.id)).toEqual(['verify.skipped', 'unbind.confirm']);
    expect(results.at(-2)!.progress).toMatchObject({ step: 7, completed: 6, phase: 'confirmation', status: 'active' });
    expect(results.at(-1)!.progress).toMatchObject({ step: 7, completed: 6, phase: 'verification', status: 'active' });
  });

  it('says stopped when the user asks for a human mid-steps but no ticket can be opened now', async () => {
    const engine = engineWith({ agentAvailable: () => true, serviceHours: '09:00-21:00', tickets: { mayOpen: () => false, opened: () => undefined } });
    const results = await walk(engine, 'busy', ['/unbind_wallet', '/deny', '/affirm', '/contact_human']);
    expect(results.at(-1)!.replies.map((reply) => reply.id)).toContain('handoff.busy');
    expect(results.at(-1)!.progress).toEqual({ step: 2, total: 7, completed: 1, phase: 'steps', status: 'stopped' });
  });

  it('keeps the ending in the conversation view until the next turn, whoever takes it', async () => {
    const engine = engineWith();
    await walk(engine, 'view', ['/unbind_wallet', '/deny', '/cancel']);
    expect((await engine.describe('view')).progress).toMatchObject({ step: 1, completed: 0, status: 'cancelled' });
    await engine.handleMessage('view', '你好');
    expect((await engine.describe('view')).progress).toBeUndefined();
  });

  it('reports nothing for a cancel before step 1, where no step was shown', async () => {
    const engine = engineWith();
    const results = await walk(engine, 'early', ['/unbind_wallet', '/cancel']);
    expect(results.at(-1)!.replies.map((reply) => reply.id)).toContain('unbind.cancelled');
    expect(results.at(-1)!.progress).toBeUndefined();
  });
});
