import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { detectScript } from '../../src/nlu/textNormalizer.js';
import { sendMessage, serveDuringTests, type Conversation } from '../support/testServer.js';

const server = serveDuringTests();

type Script = 'hans' | 'hant-tw' | 'hant-hk';
interface Created extends Conversation {
  script: Script;
  replies: { id: string; text: string; quickReplies?: { title: string }[] }[];
}
interface Turn {
  script: Script;
  replies: { id: string; text: string; quickReplies?: { title: string }[] }[];
}

const create = (body?: unknown, contentType = 'application/json') =>
  fetch(`${server.baseUrl}/api/conversations`, { method: 'POST', ...(body === undefined ? {} : { headers: { 'content-type': contentType }, body: typeof body === 'string' ? body : JSON.stringify(body) }) });

async function open(locale?: string): Promise<Created> {
  const response = await create(locale === undefined ? {} : { locale });
  expect(response.status).toBe(201);
  return (await response.json()) as Created;
}

async function say(conversation: Conversation, text: string): Promise<Turn> {
  return (await (await sendMessage(server.baseUrl, conversation, { text })).json()) as Turn;
}

const scriptOf = async (conversation: Conversation) =>
  ((await (await fetch(`${server.baseUrl}/api/conversations/${conversation.id}`, { headers: { authorization: `Bearer ${conversation.token}` } })).json()) as { script: Script }).script;

const textOf = (turn: { replies: { text: string; quickReplies?: { title: string }[] }[] }) =>
  turn.replies.flatMap((reply) => [reply.text, ...(reply.quickReplies ?? []).map((button) => button.title)]).join('\n');

describe('the conversation’s locale and the script of its replies', () => {
  it('greets a zh-TW user in traditional before they type anything, and says so (hant-tw)', async () => {
    const conversation = await open('zh-TW');
    expect(conversation.script).toBe('hant-tw');
    expect(conversation.replies.map((reply) => reply.id)).toEqual(['greet']);
    expect(detectScript(textOf(conversation))).toBe('traditional');
    expect(textOf(conversation)).toContain('微信錢包解綁助手');
    expect(await scriptOf(conversation)).toBe('hant-tw');
    // A button's payload has no script: the conversation stays in the locale's.
    const turn = await say(conversation, '/unbind_wallet');
    expect(turn.script).toBe('hant-tw');
    expect(detectScript(textOf(turn))).toBe('traditional');
  });

  it('words a zh-HK conversation for Hong Kong where Taiwan says it otherwise (短訊, not 簡訊)', async () => {
    const hk = await open('zh-hk');
    const tw = await open('zh-Hant');
    expect(hk.script).toBe('hant-hk');
    const [inHk, inTw] = await Promise.all([say(hk, '/verification_help{"method":"sms"}'), say(tw, '/verification_help{"method":"sms"}')]);
    expect(inHk.replies.map((reply) => reply.id)).toEqual(['verify.guide.sms']);
    expect(inHk.script).toBe('hant-hk');
    expect(inHk.replies[0]!.text).toContain('短訊驗證');
    expect(inTw.script).toBe('hant-tw');
    expect(inTw.replies[0]!.text).toContain('簡訊驗證');
  });

  it('stays simplified (hans) for zh-CN, without a locale and without a body', async () => {
    const mainland = await open('zh-CN');
    expect(mainland.script).toBe('hans');
    expect(textOf(mainland)).toContain('微信钱包解绑助手');
    expect((await say(mainland, '我要解绑钱包')).script).toBe('hans');
    expect((await open()).script).toBe('hans');
    const bare = await create();
    expect(bare.status).toBe(201);
    expect(((await bare.json()) as Created).script).toBe('hans');
  });

  it('answers traditional typing in traditional as before, with Taiwan wording unless the locale is of Hong Kong', async () => {
    const none = await open();
    const typed = await say(none, '收不到簡訊驗證碼怎麼辦');
    expect(typed.script).toBe('hant-tw');
    expect(detectScript(textOf(typed))).toBe('traditional');
    expect(await scriptOf(none)).toBe('hant-tw');
    const hongKong = await open('en-HK');
    expect(hongKong.script).toBe('hans');
    expect((await say(hongKong, '收不到短訊驗證碼')).script).toBe('hant-hk');
    // A zh-TW user who types simplified is answered in simplified.
    const taiwan = await open('zh-TW');
    expect((await say(taiwan, '解绑后记录还在吗')).script).toBe('hans');
  });

  it('refuses a locale that is not a BCP 47 tag of at most 35 characters, unknown fields and bodies that are not JSON', async () => {
    for (const locale of ['zh_TW', '', 'x'.repeat(36), 'zh-Hant-TW-u-nu-hanidec-ca-chinese-x-abc']) {
      const response = await create({ locale });
      expect(response.status, locale).toBe(400);
      expect(((await response.json()) as { error: { code: string } }).error.code, locale).toBe('invalid_locale');
    }
    const notString = await create({ locale: 7 });
    expect(notString.status).toBe(400);
    expect(((await create({ locale: 'zh-TW', theme: 'dark' })).status)).toBe(400);
    expect((await create([1])).status).toBe(400);
    expect((await create('locale=zh-TW', 'application/x-www-form-urlencoded')).status).toBe(415);
  });

  it('sends the script in every websocket message frame, as the REST turn does', async () => {
    const conversation = await open('zh-HK');
    const ws = new WebSocket(server.wsUrl);
    const frames: { type: string; script?: unknown; text?: string }[] = [];
    const waiters: (() => void)[] = [];
    ws.on('message', (data) => {
      frames.push(JSON.parse(data.toString()) as (typeof frames)[number]);
      waiters.splice(0).forEach((wake) => wake());
    });
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    const until = async (count: number) => {
      while (frames.length < count) await new Promise<void>((wake) => waiters.push(wake));
    };
    ws.send(JSON.stringify({ type: 'hello', conversation: conversation.id, token: conversation.token }));
    await until(1);
    ws.send(JSON.stringify({ type: 'message', text: '/unbind_wallet' }));
    await until(4); // typing, the intro, the balance question
    const messages = frames.filter((frame) => frame.type === 'message');
    expect(messages.map((frame) => frame.script)).toEqual(['hant-hk', 'hant-hk']);
    expect(detectScript(messages.map((frame) => frame.text).join(''))).toBe('traditional');
    ws.close();
  });
});
