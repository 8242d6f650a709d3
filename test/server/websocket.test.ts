import { beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createConversation, serveDuringTests } from '../support/testServer.js';

const server = serveDuringTests();

interface Frame {
  type: string;
  text?: string;
  id?: string;
  code?: string;
  quick_replies?: { title: string; payload: string }[];
  progress?: { step: number; total: number } | null;
  state?: string;
}

/** A widget-like client that records every frame it receives. */
async function connect(): Promise<{ ws: WebSocket; frames: Frame[]; closed: Promise<number>; next(count: number): Promise<Frame[]> }> {
  const ws = new WebSocket(server.wsUrl);
  const frames: Frame[] = [];
  const waiters: (() => void)[] = [];
  ws.on('message', (data) => {
    frames.push(JSON.parse(data.toString()) as Frame);
    waiters.splice(0).forEach((wake) => wake());
  });
  const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  let seen = 0;
  return {
    ws,
    frames,
    closed,
    async next(count) {
      while (frames.length < seen + count) await new Promise<void>((wake) => waiters.push(wake));
      const batch = frames.slice(seen, seen + count);
      seen += count;
      return batch;
    },
  };
}

describe('Botkit websocket channel', () => {
  it('after a hello with the token, answers a message with typing, the message as stored, then each reply with quick replies and progress', async () => {
    const conversation = await createConversation(server.baseUrl);
    const client = await connect();
    client.ws.send(JSON.stringify({ type: 'hello', conversation: conversation.id, token: conversation.token }));
    expect(await client.next(1)).toEqual([{ type: 'ready' }]);
    client.ws.send(JSON.stringify({ type: 'message', text: '我要解绑' }));
    const [typing, accepted, intro, question] = await client.next(4);
    expect(typing!.type).toBe('typing');
    expect(accepted).toEqual({ type: 'message.accepted', seq: 2, text: '我要解绑', redacted: false });
    expect(intro!.text).toContain('7 步');
    expect([intro!.id, question!.id]).toEqual(['unbind.intro', 'unbind.askBalance']);
    expect(question!.quick_replies!.map((reply) => reply.payload)).toEqual(['/affirm', '/deny']);
    client.ws.send(JSON.stringify({ type: 'message', text: '/deny', displayText: '没有余额' }));
    const [, clicked, step1] = await client.next(3);
    expect(clicked).toMatchObject({ type: 'message.accepted', text: '没有余额' });
    expect(step1!.progress).toEqual({ step: 1, total: 7, completed: 0, phase: 'steps', status: 'active' });
    expect(step1!.state).toBe('unbinding.openWeChat');
    client.ws.close();
  }, 30_000); // the first socket of the server loads Botkit (about half a second, much more on a busy CI machine)

  it('refuses a socket without a valid token and closes it', async () => {
    const conversation = await createConversation(server.baseUrl);
    const noHello = await connect();
    noHello.ws.send(JSON.stringify({ type: 'message', text: 'hi', user: conversation.id }));
    expect((await noHello.next(1))[0]!.code).toBe('unauthorized');
    expect(await noHello.closed).toBe(4401);

    const wrongToken = await connect();
    wrongToken.ws.send(JSON.stringify({ type: 'hello', conversation: conversation.id, token: 'not-the-token' }));
    expect((await wrongToken.next(1))[0]!.code).toBe('unauthorized');
    expect(await wrongToken.closed).toBe(4401);
  });

  it('never delivers one conversation\'s replies to another client, whatever user id it claims', async () => {
    const victim = await createConversation(server.baseUrl);
    const attacker = await createConversation(server.baseUrl);
    const victimSocket = await connect();
    victimSocket.ws.send(JSON.stringify({ type: 'hello', conversation: victim.id, token: victim.token }));
    await victimSocket.next(1);
    const attackerSocket = await connect();
    attackerSocket.ws.send(JSON.stringify({ type: 'hello', conversation: attacker.id, token: attacker.token }));
    await attackerSocket.next(1);
    // The stock adapter would re-route the victim's replies to whoever sent `user: <victim id>`.
    attackerSocket.ws.send(JSON.stringify({ type: 'message', text: '你好', user: victim.id }));
    expect((await attackerSocket.next(1))[0]!.code).toBe('invalid_frame');
    victimSocket.ws.send(JSON.stringify({ type: 'message', text: '解绑后记录还在吗' }));
    const [, , answer] = await victimSocket.next(3);
    expect(answer!.id).toBe('faq.records_after_unbind');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(attackerSocket.frames.some((frame) => frame.text?.includes('记录'))).toBe(false);
    victimSocket.ws.close();
    attackerSocket.ws.close();
  });

  it('answers malformed, binary and empty frames with an error and keeps the socket usable', async () => {
    const conversation = await createConversation(server.baseUrl);
    const client = await connect();
    client.ws.send(JSON.stringify({ type: 'hello', conversation: conversation.id, token: conversation.token }));
    await client.next(1);
    client.ws.send('{not json');
    expect((await client.next(1))[0]!.code).toBe('invalid_json');
    client.ws.send(Buffer.from([1, 2, 3]), { binary: true });
    expect((await client.next(1))[0]!.code).toBe('binary_frame');
    client.ws.send(JSON.stringify({ type: 'message', text: '   ' }));
    const [, emptyError] = await client.next(2);
    expect(emptyError!.code).toBe('empty_text');
    client.ws.send('{"type":"message","text":"\\udc00解绑"}');
    expect((await client.next(2))[1]!.code).toBe('invalid_unicode');
    client.ws.send(JSON.stringify({ type: 'message', text: '解绑\u0000' }));
    expect((await client.next(2))[1]!.code).toBe('control_characters');
    client.ws.send(JSON.stringify({ type: 'message', text: '你好' }));
    const [, accepted, greeting] = await client.next(3);
    expect(accepted!.type).toBe('message.accepted');
    expect(greeting!.type).toBe('message');
    client.ws.close();
  });

  it('closes a socket that sends a frame over 16 KB (100 000 emoji) with 1009, and one with invalid UTF-8 with 1007', async () => {
    const conversation = await createConversation(server.baseUrl);
    const huge = await connect();
    huge.ws.send(JSON.stringify({ type: 'hello', conversation: conversation.id, token: conversation.token }));
    await huge.next(1);
    huge.ws.send(JSON.stringify({ type: 'message', text: '😀'.repeat(100_000) }));
    expect(await huge.closed).toBe(1009);

    const garbled = await connect();
    garbled.ws.send(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), { binary: false });
    expect(await garbled.closed).toBe(1007);

    // Neither took the server or the conversation down.
    const after = await connect();
    after.ws.send(JSON.stringify({ type: 'hello', conversation: conversation.id, token: conversation.token }));
    expect(await after.next(1)).toEqual([{ type: 'ready' }]);
    after.ws.close();
  });
});
