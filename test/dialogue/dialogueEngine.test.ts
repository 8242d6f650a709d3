import { beforeAll, describe, expect, it } from 'vitest';
import { loadContent, type Content } from '../../src/content/loadContent.js';
import { MemoryConversationStore, type ConversationState, type ConversationStore, type TranscriptEntry } from '../../src/dialogue/conversationStore.js';
import { DialogueEngine, DialogueInputError, maxMessageLength, type TurnResult } from '../../src/dialogue/dialogueEngine.js';

let content: Content;
const warnings: string[] = [];

beforeAll(() => {
  content = loadContent();
});

function newEngine(store: ConversationStore = new MemoryConversationStore()) {
  return new DialogueEngine({ content, store, logger: { warn: (message) => warnings.push(message) } });
}

const allText = (result: TurnResult) => result.replies.map((reply) => reply.text).join('\n');
const responseText = (key: string) => content.responses.get(key)!.text;

describe('a whole conversation through the one-turn function', () => {
  it('walks a user typing ordinary Chinese through the unbinding with SMS verification', async () => {
    const engine = newEngine();
    const say = (text: string) => engine.handleMessage('walk', text);

    let result = await say('我想把微信里的钱包解绑');
    expect(result.intent.name).toBe('unbind_wallet');
    expect(allText(result)).toContain(responseText('unbind.askBalance'));
    result = await say('没有余额');
    expect(result.state).toBe('unbinding.openWeChat');
    expect(result.progress).toEqual({ step: 1, total: 7, completed: 0, phase: 'steps', status: 'active' });
    for (const step of [2, 3, 4, 5, 6]) {
      result = await say('好了');
      expect(result.progress?.step).toBe(step);
      expect(allText(result)).toContain(`第 ${step} 步`);
    }
    result = await say('下一步');
    expect(result.progress?.step).toBe(7);
    expect(result.state).toBe('unbinding.confirmUnbind.verifying.choosingMethod');
    expect(result.replies.at(-1)?.quickReplies?.map((reply) => reply.title)).toContain('短信验证码');
    result = await say('短信验证码');
    expect(result.state).toBe('unbinding.confirmUnbind.verifying.guidingMethod');
    result = await say('通过了');
    expect(result.state).toBe('unbinding.confirmUnbind.confirming');
    result = await say('已经解绑了');
    expect(allText(result)).toContain(responseText('unbind.completed'));
    expect(result.state).toBe('idle');
    // The turn that finishes says so; the next one has no progress.
    expect(result.progress).toMatchObject({ completed: 7, status: 'done' });
    result = await say('谢谢');
    expect(result.progress).toBeUndefined();
  });

  it('clicking quick replies (payloads) works as well as typing', async () => {
    const engine = newEngine();
    let result = await engine.handleMessage('clicks', '/unbind_wallet');
    expect(result.intent).toEqual({ name: 'unbind_wallet', confidence: 1 });
    const pick = (title: string) => {
      const reply = result.replies.at(-1)!.quickReplies!.find((quick) => quick.title === title);
      expect(reply, `quick reply ${title}`).toBeDefined();
      return engine.handleMessage('clicks', reply!.payload);
    };
    result = await pick('没有余额');
    for (let step = 1; step <= 6; step++) result = await pick('好了，下一步');
    result = await pick('指纹/面部识别');
    expect(allText(result)).toContain(responseText('verify.guide.biometric'));
    result = await pick('没通过');
    expect(allText(result)).toContain(responseText('verify.tip.restart'));
    result = await pick('还是不行');
    result = await pick('还是不行');
    expect(allText(result)).toContain(responseText('verify.offerHuman'));
    result = await pick('转人工客服');
    expect(result.handoff).toEqual({ reason: 'verification_failed', step: 7 });
    expect(result.state).toBe('handedOff');
  });

  it('answers an FAQ asked mid-flow and resumes at the same step', async () => {
    const engine = newEngine();
    for (const text of ['我要解绑', '没有', '好了', '好了']) await engine.handleMessage('digress', text);
    const result = await engine.handleMessage('digress', '解绑以后我的交易记录还在吗');
    expect(result.intent.name).toBe('records_after_unbind');
    expect(allText(result)).toContain(responseText('faq.records_after_unbind'));
    expect(allText(result)).toContain('第 3 步');
    expect(result.progress?.step).toBe(3);
  });

  it('offers a human after two messages it cannot understand', async () => {
    const engine = newEngine();
    expect(allText(await engine.handleMessage('lost', 'asdfghjkl'))).toBe(responseText('fallback'));
    const second = await engine.handleMessage('lost', '今天天气怎么样');
    expect(second.intent.name).toBe('out_of_scope');
    expect(allText(second)).toBe(responseText('fallback.offerHuman'));
  });

  it('asks which one was meant, offering both as buttons, when two intents are too close', async () => {
    // A wide margin makes any runner-up "too close", so the test does not hang on one sentence's scores.
    const engine = new DialogueEngine({ content, store: new MemoryConversationStore(), parser: { ambiguityMargin: 1 } });
    const result = await engine.handleMessage('unsure', '解绑以后再绑回去麻烦吗');
    expect(result.replies.map((reply) => reply.id)).toEqual(['clarify']);
    const payloads = result.replies[0]!.quickReplies!.map((reply) => reply.payload);
    expect(payloads).toContain('/rebind');
    expect(payloads).toContain('/out_of_scope');
  });
});

describe('typed button titles', () => {
  it('typing a button\'s title does what clicking it does ("还有余额" answers the balance question)', async () => {
    const engine = newEngine();
    await engine.handleMessage('typed', '我要解绑');
    const result = await engine.handleMessage('typed', '还有余额');
    expect(result.state).toBe('unbinding.withdrawingBalance');
    const transcript = await engine.transcript('typed');
    expect(transcript.filter((entry) => entry.role === 'user').at(-1)!.text).toBe('还有余额');
  });

  it('a typed problem with a method starts its troubleshooting, while the bare method name just chooses it', async () => {
    const engine = newEngine();
    expect((await engine.handleMessage('problem', '收不到短信验证码怎么办')).state).toBe('verifying.troubleshooting');
    expect((await newEngine().handleMessage('choice', '解绑要输入短信验证码吗')).state).toBe('verifying.guidingMethod');
  });
});

describe('script', () => {
  it('answers in traditional characters a user who writes them, quick replies included', async () => {
    const engine = newEngine();
    const result = await engine.handleMessage('tw', '解綁錢包後購物記錄還在嗎');
    expect(result.intent.name).toBe('records_after_unbind');
    expect(allText(result)).toContain('記錄');
    expect(allText(result)).not.toContain('记录');
    // The answer ends with the offer of the steps, whose buttons come first.
    expect(result.replies.at(-1)!.quickReplies![0]!.title).toBe('帶我解綁');
    // "好" is the same in both scripts, so the conversation keeps the user's script.
    const next = await engine.handleMessage('tw', '/unbind_wallet');
    expect(allText(next)).toContain('解綁');
  });

  it('answers a button title typed in traditional characters in traditional characters (the payload has no script)', async () => {
    const engine = newEngine();
    await engine.startConversation('tw-typed');
    // The greeting's buttons are in simplified characters; the user types one in traditional ones.
    const result = await engine.handleMessage('tw-typed', '我要解綁錢包');
    expect(result.replies.map((reply) => reply.id)).toEqual(['unbind.intro', 'unbind.askBalance']);
    expect(allText(result)).toContain('錢包');
    expect(allText(result)).not.toContain('钱包');
  });

  it('answers in simplified characters otherwise', async () => {
    const result = await newEngine().handleMessage('cn', '解绑后购物记录还在吗');
    expect(allText(result)).toContain('记录');
  });
});

describe('secrets the user types', () => {
  it('warns first, and nothing stored keeps the code, card, phone or ID number', async () => {
    const store = new MemoryConversationStore();
    const engine = newEngine(store);
    const secrets = ['验证码是 482913', '卡号6222 0212 3456 7890 123', '手机13812345678', '身份证11010519491231002X', '我的密码是abc12345'];
    for (const text of secrets) {
      const result = await engine.handleMessage('secret', text);
      expect(result.replies[0]!.text).toBe(responseText('secretWarning'));
    }
    const transcript = await engine.transcript('secret');
    const stored = JSON.stringify([await store.load('secret'), transcript]);
    for (const value of ['482913', '6222', '13812345678', '11010519491231002X', 'abc12345']) expect(stored).not.toContain(value);
    const userLines = transcript.filter((entry) => entry.role === 'user').map((entry) => entry.text);
    expect(userLines).toEqual(['验证码是 [验证码]', '卡号[卡号]', '手机[手机号]', '身份证[身份证号]', '我的密码是[密码]']);
  });

  it('a bare code typed during verification re-asks the question instead of treating it as an answer', async () => {
    const engine = newEngine();
    for (const text of ['/unbind_wallet', '/deny', '/affirm', '/affirm', '/affirm', '/affirm', '/affirm', '/affirm', '/verification_help{"method":"sms"}']) {
      await engine.handleMessage('code', text);
    }
    const result = await engine.handleMessage('code', '123456');
    expect(result.replies[0]!.text).toBe(responseText('secretWarning'));
    expect(allText(result)).toContain(responseText('verify.guide.sms'));
    expect(result.state).toBe('unbinding.confirmUnbind.verifying.guidingMethod');
  });
});

describe('persistence', () => {
  it('round-trips the snapshot through JSON: a new engine on the same store continues at the same step', async () => {
    const store = new MemoryConversationStore();
    for (const text of ['我要解绑', '没有', '好了', '好了']) await newEngine(store).handleMessage('resume', text);
    const stored = await store.load('resume');
    expect(JSON.parse(JSON.stringify(stored))).toEqual(stored);
    const result = await newEngine(store).handleMessage('resume', '好了');
    expect(result.progress?.step).toBe(4);
  });

  it('a snapshot the current flows cannot use starts over with a note instead of failing the turn', async () => {
    const store = new MemoryConversationStore();
    const broken: ConversationState = { flowVersion: 'old', snapshot: { status: 'active', value: 'removedState', context: {}, children: {} }, script: 'simplified' };
    await store.saveTurn('old', { state: broken, entries: [] });
    const result = await newEngine(store).handleMessage('old', '我要解绑');
    expect(result.replies[0]!.text).toBe(responseText('conversationUpdated'));
    expect(result.state).toBe('unbinding.checkingBalance');
    expect(warnings.some((warning) => warning.includes('could not be restored'))).toBe(true);
  });

  it('a snapshot from older flows whose states still exist continues where it was', async () => {
    const store = new MemoryConversationStore();
    const engine = newEngine(store);
    for (const text of ['我要解绑', '没有']) await engine.handleMessage('older', text);
    const stored = (await store.load('older'))!;
    await store.saveTurn('older', { state: { ...stored, flowVersion: 'an-older-version' }, entries: [] });
    const result = await newEngine(store).handleMessage('older', '好了');
    expect(result.progress?.step).toBe(2);
  });

  it('keeps the transcript of each turn in order, with intents on user lines', async () => {
    const engine = newEngine();
    await engine.handleMessage('log', '你好');
    await engine.handleMessage('log', '谢谢');
    const transcript: TranscriptEntry[] = await engine.transcript('log');
    expect(transcript.map((entry) => entry.role)).toEqual(['user', 'bot', 'user', 'bot']);
    expect(transcript[0]).toMatchObject({ text: '你好', intent: { name: 'greet' } });
  });
});

describe('bad input', () => {
  it.each([
    [undefined, 'text_not_string'],
    [42, 'text_not_string'],
    ['   ', 'empty_text'],
    ['长'.repeat(maxMessageLength + 1), 'text_too_long'],
  ])('refuses %j with a clear error and leaves the conversation untouched', async (text, code) => {
    const store = new MemoryConversationStore();
    const engine = newEngine(store);
    await engine.handleMessage('bad', '我要解绑');
    const before = await store.load('bad');
    const error = await engine.handleMessage('bad', text).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(DialogueInputError);
    expect((error as DialogueInputError).code).toBe(code);
    expect(await store.load('bad')).toEqual(before);
    expect((await engine.transcript('bad')).length).toBe(3);
  });

  it('accepts a message of exactly the maximum length', async () => {
    await expect(newEngine().handleMessage('long', '长'.repeat(maxMessageLength))).resolves.toBeDefined();
  });
});

/** A store with the latency of a real database: every read and write waits a random few milliseconds. */
class SlowStore extends MemoryConversationStore {
  private pause = () => new Promise((resolve) => setTimeout(resolve, Math.random() * 4));
  override async load(conversationId: string) {
    await this.pause();
    return super.load(conversationId);
  }
  override async saveTurn(...args: Parameters<MemoryConversationStore['saveTurn']>) {
    await this.pause();
    return super.saveTurn(...args);
  }
}

describe('concurrency', () => {
  it('runs 50 concurrent messages of one conversation one after another: all 50 kept in order, each turn starting where the last ended', async () => {
    const store = new SlowStore();
    const engine = newEngine(store);
    await engine.handleMessage('busy', '/unbind_wallet');
    await engine.handleMessage('busy', '/deny');
    await engine.handleMessage('busy', '/affirm');
    const labels = Array.from({ length: 50 }, (_, index) => `#${index + 1}`);
    // Forward and back in turn: a turn run on a stale snapshot would break the chain of states.
    const results = await Promise.all(labels.map((label, index) => engine.handleMessage('busy', index % 2 ? '/go_back' : '/affirm', label)));
    const userLines = (await engine.transcript('busy')).filter((entry) => entry.role === 'user').slice(3);
    expect(userLines.map((entry) => entry.text)).toEqual(labels);
    const records = store.records.filter((record) => record.conversationId === 'busy');
    expect(records).toHaveLength(53);
    for (let index = 1; index < records.length; index++) expect(records[index]!.stateBefore).toBe(records[index - 1]!.stateAfter);
    expect(results.map((result) => result.progress?.step)).toEqual(labels.map((_, index) => (index % 2 ? 2 : 3)));
  });

  it('takes one turn for a message sent twice at once with one clientMessageId: the second is the first answered again', async () => {
    const store = new SlowStore();
    const engine = newEngine(store);
    const send = () => engine.handleMessage('resend', '验证码是482913', undefined, { clientMessageId: 'm-1' });
    const [first, second] = await Promise.all([send(), send()]);
    expect(first.duplicate).toBeUndefined();
    expect(second.duplicate).toBe(true);
    expect(second.userMessage).toEqual(first.userMessage);
    expect(first.userMessage.redacted).toBe(true);
    expect(second.replies).toEqual(first.replies);
    expect(second.replies.find((reply) => reply.tone === 'warning')?.id).toBe('secretWarning');
    expect({ state: second.state, intent: second.intent, event: second.event, askRating: second.askRating }).toEqual({
      state: first.state,
      intent: first.intent,
      event: first.event,
      askRating: first.askRating,
    });
    expect(store.records.filter((record) => record.conversationId === 'resend')).toHaveLength(1);
    expect((await engine.transcript('resend')).filter((entry) => entry.role === 'user')).toHaveLength(1);
  });

  it('runs different conversations side by side', async () => {
    const store = new SlowStore();
    const engine = newEngine(store);
    let inFlight = 0;
    let mostAtOnce = 0;
    const load = store.load.bind(store);
    store.load = async (id) => {
      mostAtOnce = Math.max(mostAtOnce, ++inFlight);
      try {
        return await load(id);
      } finally {
        inFlight--;
      }
    };
    await Promise.all(Array.from({ length: 10 }, (_, index) => engine.handleMessage(`side-${index}`, '/unbind_wallet')));
    expect(mostAtOnce).toBeGreaterThan(1);
  });
});

describe('which answer a rating rates', () => {
  it('is the FAQ answer asked mid-flow, not the reminder of the step that follows it', async () => {
    const store = new MemoryConversationStore();
    const engine = newEngine(store);
    await engine.handleMessage('rated', '怎么解绑钱包');
    const result = await engine.handleMessage('rated', '解绑后零钱还在吗');
    expect(result.askRating).toBe(true);
    expect(result.replies.length).toBeGreaterThan(1);
    const answer = result.replies[result.answerIndex!]!;
    expect(answer.id).toMatch(/^faq\./);
    expect(result.answerIndex).toBeLessThan(result.replies.length - 1);
    const lines = await store.transcript('rated');
    expect(lines.find((line) => line.seq === result.answerSeq)?.text).toBe(answer.text);
  });

  it('is the answer, not the offer to start the unbinding that follows it', async () => {
    const store = new MemoryConversationStore();
    const engine = newEngine(store);
    const result = await engine.handleMessage('rated-idle', '解绑后还能用微信支付吗');
    expect(result.askRating).toBe(true);
    const lines = await store.transcript('rated-idle');
    expect(lines.find((line) => line.seq === result.answerSeq)?.text).toBe(responseText('faq.pay_after_unbind'));
  });
});
