import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createConversation, sendMessage, serveDuringTests, type Conversation, type TestServer } from '../support/testServer.js';

/**
 * Issue 14: the sender gets back the form of its message the server stored (redacted), a warning
 * about a secret is marked as one, and a message sent again with its clientMessageId is answered
 * from its first turn instead of taking another.
 */

interface Reply {
  id: string;
  text: string;
  tone?: string;
  quickReplies?: { title: string; payload: string }[];
}
interface UserMessage {
  seq: number;
  text: string;
  redacted: boolean;
}
interface Turn {
  replies: Reply[];
  userMessage: UserMessage;
  duplicate: boolean;
  progress: { step: number; total: number } | null;
  askRating: boolean;
  answerSeq: number | null;
  state: string;
  handoff: { reason: string; step: number } | null;
}
interface Line {
  role: string;
  text: string;
  seq: number;
  tone?: string;
}
interface Frame {
  type: string;
  id?: string;
  text?: string;
  tone?: string;
  code?: string;
  seq?: number;
  redacted?: boolean;
  clientMessageId?: string;
  duplicate?: boolean;
}

const code = '482913';
const card = '6222021234567890123';

async function turn(server: TestServer, conversation: Conversation, body: object): Promise<Turn> {
  const response = await sendMessage(server.baseUrl, conversation, body);
  expect(response.status).toBe(200);
  return (await response.json()) as Turn;
}

async function transcript(server: TestServer, conversation: Conversation): Promise<Line[]> {
  const response = await fetch(`${server.baseUrl}/api/conversations/${conversation.id}`, { headers: { authorization: `Bearer ${conversation.token}` } });
  return ((await response.json()) as { transcript: Line[] }).transcript;
}

/** Turn records the store kept for the conversation: one per turn taken. */
const turnsTaken = (server: TestServer, conversation: Conversation) =>
  server.store.db.prepare('SELECT COUNT(*) FROM turns WHERE conversation_id = ?').pluck().get(conversation.id) as number;

/** A widget-like socket, said hello, recording every frame. */
async function socketOf(server: TestServer, conversation: Conversation) {
  const ws = new WebSocket(server.wsUrl);
  const frames: Frame[] = [];
  ws.on('message', (data) => frames.push(JSON.parse(data.toString()) as Frame));
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  ws.send(JSON.stringify({ type: 'hello', conversation: conversation.id, token: conversation.token }));
  await expect.poll(() => frames.some((frame) => frame.type === 'ready')).toBe(true);
  return { ws, frames, send: (frame: object) => ws.send(JSON.stringify({ type: 'message', ...frame })) };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 300));

describe('REST: the stored form of the message comes back to the sender', () => {
  const server = serveDuringTests();

  it.each([
    { secret: 'verification code', text: `验证码是${code}`, raw: code },
    { secret: 'card number', text: `我的卡号是${card}`, raw: card },
  ])('a typed $secret comes back redacted, as the transcript has it, with a reply marked as the warning', async ({ text, raw }) => {
    const conversation = await createConversation(server.baseUrl);
    const answer = await turn(server, conversation, { text });
    expect(answer.userMessage.redacted).toBe(true);
    expect(answer.userMessage.text).not.toContain(raw);
    const lines = await transcript(server, conversation);
    const stored = lines.find((line) => line.seq === answer.userMessage.seq)!;
    expect(stored).toMatchObject({ role: 'user', text: answer.userMessage.text });
    // The warning is told apart by its data, not by its words; the other replies are plain.
    expect(answer.replies.filter((reply) => reply.tone === 'warning').map((reply) => reply.id)).toEqual(['secretWarning']);
    expect(answer.replies.filter((reply) => reply.id !== 'secretWarning').every((reply) => reply.tone === undefined)).toBe(true);
    expect(JSON.stringify(answer)).not.toContain(raw);
  });

  it('a plain message comes back unchanged, not redacted', async () => {
    const conversation = await createConversation(server.baseUrl);
    const answer = await turn(server, conversation, { text: '解绑后记录还在吗' });
    expect(answer.userMessage).toEqual({ seq: 2, text: '解绑后记录还在吗', redacted: false });
    expect(answer.duplicate).toBe(false);
    expect(answer.replies.some((reply) => 'tone' in reply)).toBe(false);
  });

  it('a clicked quick reply comes back as its title, the form the transcript shows', async () => {
    const conversation = await createConversation(server.baseUrl);
    await turn(server, conversation, { text: '/unbind_wallet' });
    const answer = await turn(server, conversation, { text: '/deny', displayText: '没有余额' });
    expect(answer.userMessage).toMatchObject({ text: '没有余额', redacted: false });
  });

  it('the transcript marks the warning line, and only it, as a warning', async () => {
    const conversation = await createConversation(server.baseUrl);
    await turn(server, conversation, { text: `验证码是${code}` });
    const lines = await transcript(server, conversation);
    const warnings = lines.filter((line) => line.tone === 'warning');
    expect(warnings).toHaveLength(1);
    expect(lines.filter((line) => line.tone !== undefined)).toEqual(warnings);
    expect(lines.filter((line) => line.role === 'bot')).toContainEqual(warnings[0]);
  });
});

describe('REST: a message sent again with its clientMessageId', () => {
  const server = serveDuringTests();

  it('is described in the OpenAPI document, with the id pattern the server checks', async () => {
    type Schema = { required?: string[]; properties: Record<string, { pattern?: string; enum?: string[] }> };
    const document = (await (await fetch(`${server.baseUrl}/api/openapi.json`)).json()) as {
      components: { schemas: Record<string, Schema> };
      paths: Record<string, { post: { requestBody: { content: { 'application/json': { schema: Schema } } } } }>;
    };
    const { Turn, Reply, Line } = document.components.schemas;
    expect(Turn!.required).toEqual(expect.arrayContaining(['userMessage', 'duplicate']));
    expect([Reply!.properties['tone']!.enum, Line!.properties['tone']!.enum]).toEqual([['warning'], ['warning']]);
    const body = document.paths['/api/conversations/{id}/messages']!.post.requestBody.content['application/json'].schema;
    const pattern = new RegExp(body.properties['clientMessageId']!.pattern!);
    expect(['a', 'x'.repeat(64), 'A-z_9'].every((id) => pattern.test(id))).toBe(true);
    expect(['', 'x'.repeat(65), 'a b', '验证码'].some((id) => pattern.test(id))).toBe(false);
  });

  it('is answered as the first time, with duplicate: true, and the transcript has it once', async () => {
    const conversation = await createConversation(server.baseUrl);
    await turn(server, conversation, { text: '/unbind_wallet' });
    const clientMessageId = randomUUID();
    const first = await turn(server, conversation, { text: '/deny', displayText: '没有余额', clientMessageId });
    const before = await transcript(server, conversation);
    const again = await turn(server, conversation, { text: '/deny', displayText: '没有余额', clientMessageId });
    expect(first.duplicate).toBe(false);
    expect(again.duplicate).toBe(true);
    const { duplicate: _first, ...firstTime } = first;
    const { duplicate: _again, ...secondTime } = again;
    expect(secondTime).toEqual(firstTime);
    expect(again.progress).toEqual({ step: 1, total: 7, completed: 0, phase: 'steps', status: 'active' });
    expect(await transcript(server, conversation)).toEqual(before);
  });

  it('after an answer, comes back with the same rating offer and answerSeq; a secret stays redacted', async () => {
    const conversation = await createConversation(server.baseUrl);
    const answered = { text: '解绑后记录还在吗', clientMessageId: 'faq-1' };
    const first = await turn(server, conversation, answered);
    const again = await turn(server, conversation, answered);
    expect(first.askRating).toBe(true);
    expect({ askRating: again.askRating, answerSeq: again.answerSeq }).toEqual({ askRating: true, answerSeq: first.answerSeq });

    const secret = { text: `验证码是${code}`, clientMessageId: 'secret-1' };
    await turn(server, conversation, secret);
    const resent = await turn(server, conversation, secret);
    expect(resent.userMessage.redacted).toBe(true);
    expect(resent.replies.find((reply) => reply.tone === 'warning')?.id).toBe('secretWarning');
    expect(JSON.stringify(resent)).not.toContain(code);
  });

  it('on the turn that handed the conversation over, comes back with the same handoff', async () => {
    const conversation = await createConversation(server.baseUrl);
    let body = { text: '转人工', clientMessageId: 'human-1' };
    let first = await turn(server, conversation, body);
    if (first.replies.some((reply) => reply.id === 'human.confirm')) {
      body = { text: '/affirm', clientMessageId: 'human-2' };
      first = await turn(server, conversation, body);
    }
    const again = await turn(server, conversation, body);
    expect(first.handoff).toMatchObject({ reason: 'user_request' });
    expect(again.handoff).toEqual(first.handoff);
    expect(again.replies).toEqual(first.replies);
  });

  it('sent several times at the same moment takes one turn: one answer is the turn, the others its duplicates', async () => {
    const conversation = await createConversation(server.baseUrl);
    const body = { text: '我要解绑钱包', clientMessageId: 'same-moment' };
    const answers = await Promise.all(Array.from({ length: 5 }, () => turn(server, conversation, body)));
    expect(answers.map((answer) => answer.duplicate).sort()).toEqual([false, true, true, true, true]);
    for (const answer of answers) expect({ userMessage: answer.userMessage, replies: answer.replies }).toEqual({ userMessage: answers[0]!.userMessage, replies: answers[0]!.replies });
    expect(turnsTaken(server, conversation)).toBe(1);
    expect((await transcript(server, conversation)).filter((line) => line.role === 'user')).toHaveLength(1);
  });

  it('is one per conversation: another conversation may use the same id', async () => {
    const [one, other] = await Promise.all([createConversation(server.baseUrl), createConversation(server.baseUrl)]);
    await turn(server, one, { text: '你好', clientMessageId: 'shared' });
    expect((await turn(server, other, { text: '你好', clientMessageId: 'shared' })).duplicate).toBe(false);
  });

  it('without a clientMessageId, the same text sent twice is two messages, as before', async () => {
    const conversation = await createConversation(server.baseUrl);
    await turn(server, conversation, { text: '你好' });
    expect((await turn(server, conversation, { text: '你好' })).duplicate).toBe(false);
    expect(turnsTaken(server, conversation)).toBe(2);
  });

  it.each(['', 'x'.repeat(65), 'has space', '验证码', 'a.b', 42, null])('refuses clientMessageId %j with 400 invalid_body and takes nothing', async (clientMessageId) => {
    const conversation = await createConversation(server.baseUrl);
    const response = await sendMessage(server.baseUrl, conversation, { text: '你好', clientMessageId });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('invalid_body');
    expect(await transcript(server, conversation)).toHaveLength(1);
  });

  it('accepts an id of 64 letters, digits, _ and -', async () => {
    const conversation = await createConversation(server.baseUrl);
    const clientMessageId = `${'aZ09_-'.repeat(10)}abcd`;
    expect(clientMessageId).toHaveLength(64);
    expect((await turn(server, conversation, { text: '你好', clientMessageId })).duplicate).toBe(false);
  });
});

describe('a message sent again does not count against the conversation limit', () => {
  const server = serveDuringTests({
    rateLimits: { perAddress: { perMinute: 0, burst: 0 }, perConversation: { perMinute: 1, burst: 2 }, socketsPerAddress: 0 },
  });

  it('a resend when the allowance is spent is answered as a duplicate, a new message is refused', async () => {
    const conversation = await createConversation(server.baseUrl);
    await turn(server, conversation, { text: '你好', clientMessageId: 'one' });
    await turn(server, conversation, { text: '谢谢', clientMessageId: 'two' });
    expect((await turn(server, conversation, { text: '你好', clientMessageId: 'one' })).duplicate).toBe(true);
    expect((await sendMessage(server.baseUrl, conversation, { text: '再见', clientMessageId: 'three' })).status).toBe(429);
  });

  it('over the websocket too', async () => {
    const conversation = await createConversation(server.baseUrl);
    const socket = await socketOf(server, conversation);
    socket.send({ text: '你好', clientMessageId: 'one' });
    socket.send({ text: '谢谢', clientMessageId: 'two' });
    socket.send({ text: '你好', clientMessageId: 'one' });
    socket.send({ text: '再见', clientMessageId: 'three' });
    await expect.poll(() => socket.frames.filter((frame) => frame.type === 'error').length).toBe(1);
    await settle();
    expect(socket.frames.find((frame) => frame.type === 'error')!.code).toBe('rate_limited');
    expect(socket.frames.filter((frame) => frame.type === 'message.accepted').map((frame) => [frame.clientMessageId, frame.duplicate ?? false])).toEqual([
      ['one', false],
      ['two', false],
      ['one', true],
    ]);
    socket.ws.close();
  });
});

describe('websocket: message.accepted and resends', () => {
  const server = serveDuringTests();

  it.each([
    { secret: 'verification code', text: `验证码是${code}`, raw: code },
    { secret: 'card number', text: `我的卡号是${card}`, raw: card },
  ])('a typed $secret is accepted redacted, after typing and before the replies, the warning marked by its tone', async ({ text, raw }) => {
    const conversation = await createConversation(server.baseUrl);
    const socket = await socketOf(server, conversation);
    socket.send({ text, clientMessageId: 'typed-secret' });
    await expect.poll(() => socket.frames.filter((frame) => frame.type === 'message').length).toBeGreaterThanOrEqual(2);
    const turnFrames = socket.frames.slice(socket.frames.findIndex((frame) => frame.type === 'typing'));
    expect(turnFrames.map((frame) => frame.type).slice(0, 2)).toEqual(['typing', 'message.accepted']);
    const accepted = turnFrames[1]!;
    expect(accepted).toMatchObject({ redacted: true, clientMessageId: 'typed-secret' });
    expect(accepted.text).not.toContain(raw);
    const stored = (await transcript(server, conversation)).find((line) => line.seq === accepted.seq)!;
    expect(stored).toMatchObject({ role: 'user', text: accepted.text });
    const replies = turnFrames.filter((frame) => frame.type === 'message');
    expect(replies.filter((frame) => frame.tone === 'warning').map((frame) => frame.id)).toEqual(['secretWarning']);
    expect(JSON.stringify(socket.frames)).not.toContain(raw);
    socket.ws.close();
  });

  it('a plain message is accepted unchanged, not redacted, and without a clientMessageId has none', async () => {
    const conversation = await createConversation(server.baseUrl);
    const socket = await socketOf(server, conversation);
    socket.send({ text: '解绑后记录还在吗' });
    await expect.poll(() => socket.frames.some((frame) => frame.type === 'message')).toBe(true);
    expect(socket.frames.find((frame) => frame.type === 'message.accepted')).toEqual({ type: 'message.accepted', seq: 2, text: '解绑后记录还在吗', redacted: false });
    socket.ws.close();
  });

  it("goes to every tab of the conversation, so the other tab shows the sender's bubble", async () => {
    const conversation = await createConversation(server.baseUrl);
    const sender = await socketOf(server, conversation);
    const otherTab = await socketOf(server, conversation);
    sender.send({ text: `验证码是${code}`, clientMessageId: 'two-tabs' });
    await expect.poll(() => otherTab.frames.some((frame) => frame.type === 'message.accepted')).toBe(true);
    expect(otherTab.frames.find((frame) => frame.type === 'message.accepted')).toMatchObject({ clientMessageId: 'two-tabs', redacted: true });
    sender.ws.close();
    otherTab.ws.close();
  });

  it('a resend is acknowledged with duplicate: true and nothing else; the transcript has the message once', async () => {
    const conversation = await createConversation(server.baseUrl);
    const socket = await socketOf(server, conversation);
    socket.send({ text: '我要解绑钱包', clientMessageId: 'offline-1' });
    await expect.poll(() => socket.frames.filter((frame) => frame.type === 'message').length).toBe(2);
    const first = socket.frames.find((frame) => frame.type === 'message.accepted')!;
    const before = await transcript(server, conversation);
    const seen = socket.frames.length;
    socket.send({ text: '我要解绑钱包', clientMessageId: 'offline-1' });
    await expect.poll(() => socket.frames.length).toBe(seen + 1);
    await settle();
    expect(socket.frames.slice(seen)).toEqual([{ ...first, duplicate: true }]);
    expect(await transcript(server, conversation)).toEqual(before);
    expect(turnsTaken(server, conversation)).toBe(1);
    socket.ws.close();
  });

  it('a message sent over REST and again over the socket (the widget fell back while offline) takes one turn', async () => {
    const conversation = await createConversation(server.baseUrl);
    const overRest = await turn(server, conversation, { text: '你好', clientMessageId: 'fallback-1' });
    const socket = await socketOf(server, conversation);
    socket.send({ text: '你好', clientMessageId: 'fallback-1' });
    await expect.poll(() => socket.frames.some((frame) => frame.type === 'message.accepted')).toBe(true);
    expect(socket.frames.find((frame) => frame.type === 'message.accepted')).toEqual({
      type: 'message.accepted',
      ...overRest.userMessage,
      clientMessageId: 'fallback-1',
      duplicate: true,
    });
    expect(turnsTaken(server, conversation)).toBe(1);
    socket.ws.close();
  });

  it('the same message from two tabs at the same moment takes one turn', async () => {
    const conversation = await createConversation(server.baseUrl);
    const [one, two] = await Promise.all([socketOf(server, conversation), socketOf(server, conversation)]);
    one.send({ text: '解绑后记录还在吗', clientMessageId: 'both-tabs' });
    two.send({ text: '解绑后记录还在吗', clientMessageId: 'both-tabs' });
    await expect.poll(() => one.frames.filter((frame) => frame.type === 'message.accepted').length).toBe(2);
    await settle();
    expect(turnsTaken(server, conversation)).toBe(1);
    expect((await transcript(server, conversation)).filter((line) => line.role === 'user')).toHaveLength(1);
    const accepted = one.frames.filter((frame) => frame.type === 'message.accepted');
    expect(accepted.map((frame) => frame.duplicate ?? false)).toEqual([false, true]);
    expect(new Set(accepted.map((frame) => frame.seq)).size).toBe(1);
    one.ws.close();
    two.ws.close();
  });

  it.each(['', 'x'.repeat(65), 'has space', 42])('refuses clientMessageId %j with invalid_frame and takes nothing', async (clientMessageId) => {
    const conversation = await createConversation(server.baseUrl);
    const socket = await socketOf(server, conversation);
    socket.send({ text: '你好', clientMessageId });
    await expect.poll(() => socket.frames.some((frame) => frame.type === 'error')).toBe(true);
    expect(socket.frames.find((frame) => frame.type === 'error')!.code).toBe('invalid_frame');
    await settle();
    expect(await transcript(server, conversation)).toHaveLength(1);
    socket.ws.close();
  });
});
