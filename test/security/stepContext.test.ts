import { beforeAll, describe, expect, it } from 'vitest';
import { loadContent, type Content } from '../../src/content/loadContent.js';
import { MemoryConversationStore } from '../../src/dialogue/conversationStore.js';
import { DialogueEngine } from '../../src/dialogue/dialogueEngine.js';
import { MessageParser } from '../../src/nlu/index.js';
import { walkToSecretStep } from './toSecretStep.js';

let content: Content;
let parser: MessageParser;

beforeAll(() => {
  content = loadContent();
  parser = new MessageParser(content);
});

function engineWithStore() {
  const store = new MemoryConversationStore();
  return { engine: new DialogueEngine({ content, store, logger: { warn: () => undefined } }), store };
}

const userLines = async (store: MemoryConversationStore, id: string) =>
  (await store.transcript(id)).filter((entry) => entry.role === 'user').map((entry) => entry.text);

describe('the step the conversation is at tells the redactor what a number is', () => {
  it('at the SMS-code step a number in a sentence is the code, even one that elsewhere reads as a year', async () => {
    const { engine, store } = engineWithStore();
    const at = await walkToSecretStep((text, displayText) => engine.handleMessage('sms', text, displayText), 'smsCode');
    expect(at.replies.at(-1)?.id).toBe('verify.guide.sms');
    const result = await engine.handleMessage('sms', '收到的是 2019 这个');
    expect(result.replies[0]!.id).toBe('secretWarning');
    expect((await userLines(store, 'sms')).at(-1)).toBe('收到的是 [验证码] 这个');
    // The same words outside that step keep the year.
    const elsewhere = engineWithStore();
    await elsewhere.engine.handleMessage('other', '收到的是 2019 这个');
    expect((await userLines(elsewhere.store, 'other')).at(-1)).toBe('收到的是 2019 这个');
  });

  it('at the security-question step an answer mixing letters and digits is kept as a password, without any cue', async () => {
    const { engine, store } = engineWithStore();
    const at = await walkToSecretStep((text, displayText) => engine.handleMessage('answer', text, displayText), 'paymentPassword');
    expect(at.replies.at(-1)?.id).toBe('verify.guide.securityQuestion');
    await engine.handleMessage('answer', '我填的 wang1980 对吗');
    expect((await userLines(store, 'answer')).at(-1)).toBe('我填的 [密码] 对吗');
  });
});

describe('text shaped like a quick-reply payload is text', () => {
  it('only JSON a button carries (a method, a step) makes a payload; anything else is redacted as text and gets the warning', () => {
    for (const text of ['/affirm{"code":"482913"}', '/verification_help{"method":"sms","code":"482913"}', '/verify{"code":"482913"}', '/affirm 482913']) {
      const parse = parser.parse(text);
      expect(parse.fromPayload, text).toBe(false);
      expect(parse.redactedText, text).not.toContain('482913');
      expect(parse.secrets, text).toEqual(['verificationCode']);
    }
    expect(parser.parse('/affirm')).toMatchObject({ fromPayload: true, intent: { name: 'affirm' } });
    expect(parser.parse('/verification_help{"method":"sms"}')).toMatchObject({ fromPayload: true, method: 'sms' });
  });

  it('a payload sent without its title is stored as the title of the button that carries it', async () => {
    const { engine, store } = engineWithStore();
    await engine.handleMessage('label', '我要解绑钱包');
    await engine.handleMessage('label', '/deny');
    expect((await userLines(store, 'label')).at(-1)).toBe('没有余额');
  });
});
