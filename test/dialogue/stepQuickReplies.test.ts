import { beforeAll, describe, expect, it } from 'vitest';
import { loadContent } from '../../src/content/loadContent.js';
import { MemoryConversationStore } from '../../src/dialogue/conversationStore.js';
import { DialogueEngine, type TurnResult } from '../../src/dialogue/dialogueEngine.js';

let engine: DialogueEngine;
beforeAll(() => {
  engine = new DialogueEngine({ content: loadContent(), store: new MemoryConversationStore(), logger: { warn: () => undefined } });
});

let conversations = 0;
/** A new conversation that has sent these messages; the last turn's result. */
async function after(messages: readonly string[]): Promise<{ id: string; last: TurnResult }> {
  const id = `buttons-${++conversations}`;
  let last: TurnResult | undefined;
  for (const text of messages) last = await engine.handleMessage(id, text);
  return { id, last: last! };
}

const ids = (result: TurnResult) => result.replies.map((reply) => reply.id);
const payloads = (result: TurnResult) => result.replies.at(-1)?.quickReplies?.map((button) => button.payload) ?? [];
const toStep = (step: number) => ['/unbind_wallet', '/deny', ...Array.from({ length: step - 1 }, () => '/affirm')];
const sms = '/verification_help{"method":"sms"}';

describe('go back at the first step (issue 14)', () => {
  it('offers no 上一步 at step 1, nor with its help, nor after a question answered there', async () => {
    expect(payloads((await after(toStep(1))).last)).not.toContain('/go_back');
    expect(payloads((await after([...toStep(1), '/step_help'])).last)).not.toContain('/go_back');
    const answered = (await after([...toStep(1), '解绑后记录还在吗'])).last;
    expect(ids(answered).at(-1)).toBe('unbind.step1');
    expect(payloads(answered)).not.toContain('/go_back');
  });

  it('says there is no earlier step to a typed 上一步 at step 1, and stays there', async () => {
    const { last } = await after([...toStep(1), '上一步']);
    expect(last.intent.name).toBe('go_back');
    expect(ids(last)).toEqual(['unbind.backAtFirstStep', 'unbind.step1']);
    expect(last.state).toBe('unbinding.openWeChat');
    expect(last.progress).toMatchObject({ step: 1, completed: 0, status: 'active' });
    expect(payloads(last)).not.toContain('/go_back');
  });

  it('says the same at the balance question before step 1, then asks it again', async () => {
    const { last } = await after(['/unbind_wallet', '上一步']);
    expect(ids(last)).toEqual(['unbind.backAtFirstStep', 'unbind.askBalance']);
  });

  it.each([2, 3, 4, 5, 6])('offers 上一步 at step %i, and it goes back one step', async (step) => {
    const { last } = await after(toStep(step));
    expect(payloads(last)).toContain('/go_back');
    const { last: back } = await after([...toStep(step), '/go_back']);
    expect(ids(back)).toEqual([`unbind.step${step - 1}`]);
  });
});

/** Every question the steps ask, reached by buttons: each of its buttons must lead somewhere. */
const questions: Record<string, string[]> = {
  'unbind.askBalance': ['/unbind_wallet'],
  'unbind.balanceAdvice': ['/unbind_wallet', '/affirm'],
  ...Object.fromEntries([1, 2, 3, 4, 5, 6].flatMap((step) => [[`unbind.step${step}`, toStep(step)], [`unbind.help.step${step}`, [...toStep(step), '/step_help']]])),
  'verify.askMethod': toStep(7),
  'verify.guide.sms': [...toStep(7), sms],
  'verify.tip.signal': [...toStep(7), sms, '/deny'],
  'verify.tip.phoneNumber': [...toStep(7), sms, '/deny', '/deny'],
  'verify.offerHuman': [...toStep(7), sms, '/deny', '/deny', '/deny'],
  'unbind.confirm': [...toStep(7), sms, '/affirm'],
  'unbind.help.step7': [...toStep(7), sms, '/affirm', '/step_help'],
  'unbind.confirmFailed': [...toStep(7), sms, '/affirm', '/deny'],
};

const notUnderstood = ['notHandled', 'fallback', 'fallback.inFlow', 'fallback.inFlow.beforeSteps', 'fallback.offerHuman'];

describe('every button of the unbinding has an answer path', () => {
  it.each(Object.entries(questions))('%s', async (question, path) => {
    const { last } = await after(path);
    expect(ids(last).at(-1)).toBe(question);
    const buttons = payloads(last);
    expect(buttons.length, `${question} offers buttons`).toBeGreaterThan(0);
    for (const payload of buttons) {
      const { last: answer } = await after([...path, payload]);
      expect(answer.replies.length, `${question} → ${payload}`).toBeGreaterThan(0);
      expect(ids(answer).filter((id) => notUnderstood.includes(id)), `${question} → ${payload}: ${ids(answer).join(', ')}`).toEqual([]);
    }
  });
});
