import { describe, expect, it } from 'vitest';
import { loadContent } from '../../src/content/loadContent.js';
import { MemoryConversationStore } from '../../src/dialogue/conversationStore.js';
import { DialogueEngine, type HandoffSettings } from '../../src/dialogue/dialogueEngine.js';

const content = loadContent();
const newEngine = (handoff: HandoffSettings = { agentAvailable: () => true, serviceHours: '09:00-21:00' }) => {
  const store = new MemoryConversationStore();
  return { store, engine: new DialogueEngine({ content, store, handoff, logger: { warn: () => undefined } }) };
};
const agent = { id: 'a1', name: '小林', tokenHash: 'scrypt:00:00', createdAt: '2026-01-01T00:00:00.000Z', disabledAt: null, lastSeenAt: null };

describe('a conversation waiting for an agent', () => {
  it('is told its place in the queue and the service hours', async () => {
    const { engine, store } = newEngine();
    const first = await engine.handleMessage('c1', '转人工');
    expect(first.replies.map((reply) => reply.id)).toEqual(['handoff.created']);
    expect(first.replies[0]!.text).toContain('09:00-21:00');
    // The first in line is told it is next, not that "0" are ahead.
    expect(first.replies[0]!.text).toContain('下一位就是你');
    expect(first.replies[0]!.text).not.toMatch(/前面还有 0 位/);
    expect(first.ticket).toMatchObject({ handoffStatus: 'waiting' });
    await engine.handleMessage('c2', '转人工');
    const second = await engine.handleMessage('c2', '我要解绑钱包');
    expect(second.replies.map((reply) => reply.id)).toEqual(['handoff.waiting']);
    expect(second.replies[0]!.text).toMatch(/前面还有 1 位/);
    expect(await store.transcript('c2')).toContainEqual(expect.objectContaining({ role: 'user', text: '我要解绑钱包' }));
  });

  it('says plainly when nobody can answer, names the official channel, and keeps the ticket waiting', async () => {
    const { engine } = newEngine({ agentAvailable: () => false, serviceHours: '09:00-21:00' });
    const result = await engine.handleMessage('c1', '转人工');
    expect(result.replies.map((reply) => reply.id)).toEqual(['handoff.nobodyAvailable']);
    expect(result.replies[0]!.text).toContain('09:00-21:00');
    expect(result.replies[0]!.text).toContain('联系微信客服');
    expect(result.ticket?.handoffStatus).toBe('waiting');
  });

  it('can stop waiting: "不等了" resolves the ticket as user_left and the bot answers again', async () => {
    const { engine, store } = newEngine();
    await engine.handleMessage('c1', '转人工');
    const left = await engine.handleMessage('c1', '不等了');
    expect(left.replies.map((reply) => reply.id)).toEqual(['handoff.left']);
    expect(left.handoffEnded).toBe('userLeft');
    expect(await store.currentTicket('c1')).toMatchObject({ handoffStatus: 'resolved', resolution: 'user_left', status: 'closed' });
    expect((await engine.handleMessage('c1', '我要解绑钱包')).state).toMatch(/^unbinding/);
  });
});

describe('a conversation an agent holds', () => {
  it('sends the user\'s messages to the agent, redacted, with no bot reply but the secret warning', async () => {
    const { engine, store } = newEngine();
    const handedOver = await engine.handleMessage('c1', '转人工');
    await store.createAgent(agent);
    await store.claimTicket(handedOver.ticket!.id, 'a1', '2026-01-01T00:00:01.000Z');
    const plain = await engine.handleMessage('c1', '我要解绑钱包');
    expect(plain).toMatchObject({ deliveredToAgent: true, replies: [], state: 'handedOff' });
    const secret = await engine.handleMessage('c1', '验证码是 123456');
    expect(secret.replies.map((reply) => reply.id)).toEqual(['secretWarning']);
    const transcript = JSON.stringify(await store.transcript('c1'));
    expect(transcript).not.toContain('123456');
    expect(transcript).toContain('我要解绑钱包');
  });

  it('goes back to the bot when the agent resolves: the user is told, and the next message gets a bot answer', async () => {
    const { engine, store } = newEngine();
    const handedOver = await engine.handleMessage('c1', '转人工');
    await store.createAgent(agent);
    await store.claimTicket(handedOver.ticket!.id, 'a1', '2026-01-01T00:00:01.000Z');
    const released = await engine.release('c1', 'resolved', handedOver.ticket!.id);
    expect(released).toMatchObject({ released: true, state: 'idle' });
    expect(released.replies.map((reply) => reply.id)).toEqual(['handoff.resolved']);
    expect(released.ticket).toMatchObject({ handoffStatus: 'resolved', resolution: 'resolved' });
    // A second release of the same ticket finds nothing to do.
    expect((await engine.release('c1', 'handedBack', handedOver.ticket!.id)).released).toBe(false);
    const next = await engine.handleMessage('c1', '解绑后还能再绑定吗');
    expect(next.deliveredToAgent).toBeUndefined();
    expect(next.replies[0]!.id).toBe('faq.rebind');
  });
});
