import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createConversation, sendMessage, serveDuringTests, type Conversation } from '../support/testServer.js';

const server = serveDuringTests();

interface Progress {
  step: number;
  total: number;
  completed: number;
  phase: 'steps' | 'verification' | 'confirmation';
  status: 'active' | 'done' | 'cancelled' | 'handed_off' | 'stopped';
}
interface Turn {
  replies: { id: string }[];
  state: string;
  progress: Progress | null;
}

async function say(conversation: Conversation, text: string): Promise<Turn> {
  const response = await sendMessage(server.baseUrl, conversation, { text });
  expect(response.status, text).toBe(200);
  return (await response.json()) as Turn;
}

async function view(conversation: Conversation): Promise<{ state: string; progress: Progress | null }> {
  const response = await fetch(`${server.baseUrl}/api/conversations/${conversation.id}`, { headers: { authorization: `Bearer ${conversation.token}` } });
  return (await response.json()) as { state: string; progress: Progress | null };
}

/** Says each message; after each, the conversation's view must report what the turn reported. */
async function walk(conversation: Conversation, messages: readonly string[]): Promise<Turn[]> {
  const turns: Turn[] = [];
  for (const text of messages) {
    const turn = await say(conversation, text);
    expect((await view(conversation)).progress, `GET after "${text}"`).toEqual(turn.progress);
    turns.push(turn);
  }
  return turns;
}

const toStep = (step: number) => ['/unbind_wallet', '/deny', ...Array.from({ length: step - 1 }, () => '/affirm')];
const wholeUnbinding = [...toStep(7), '/verification_help{"method":"sms"}', '/affirm', '/affirm', '/thanks'];

describe('the progress of the unbinding (issue 14)', () => {
  it('counts completed steps through a whole unbinding, is never full before the confirmation, and says done on the turn it ends', async () => {
    const conversation = await createConversation(server.baseUrl);
    const turns = await walk(conversation, wholeUnbinding);
    const progress = turns.map((turn) => turn.progress);
    expect(progress[0]).toBeNull(); // the balance question comes before step 1
    for (let step = 1; step <= 6; step++) {
      expect(progress[step]).toEqual({ step, total: 7, completed: step - 1, phase: 'steps', status: 'active' });
    }
    expect(progress[7]).toEqual({ step: 7, total: 7, completed: 6, phase: 'verification', status: 'active' }); // which method?
    expect(progress[8]).toEqual({ step: 7, total: 7, completed: 6, phase: 'verification', status: 'active' }); // SMS guide
    expect(turns[9]!.replies.map((reply) => reply.id)).toContain('unbind.confirm');
    expect(progress[9]).toEqual({ step: 7, total: 7, completed: 6, phase: 'confirmation', status: 'active' });
    expect(turns[10]!.replies.map((reply) => reply.id)).toContain('unbind.completed');
    expect(progress[10]).toEqual({ step: 7, total: 7, completed: 7, phase: 'confirmation', status: 'done' });
    expect(progress[11]).toBeNull(); // after that turn, nothing runs
    for (const shown of progress.filter((item) => item?.status === 'active')) expect(shown!.completed).toBeLessThan(shown!.total);
  });

  it('says cancelled, with the step it stopped at, on the turn the user cancels', async () => {
    const conversation = await createConversation(server.baseUrl);
    const turns = await walk(conversation, [...toStep(3), '/cancel', '解绑后记录还在吗']);
    expect(turns.at(-2)!.replies.map((reply) => reply.id)).toContain('unbind.cancelled');
    expect(turns.at(-2)!.progress).toEqual({ step: 3, total: 7, completed: 2, phase: 'steps', status: 'cancelled' });
    expect(turns.at(-1)!.progress).toBeNull();
  });

  it('says handed_off, in the phase it was in, on the turn the conversation goes to a human', async () => {
    const conversation = await createConversation(server.baseUrl);
    const turns = await walk(conversation, [...toStep(7), '/contact_human', '好的谢谢']);
    expect(turns.at(-2)!.state).toBe('handedOff');
    expect(turns.at(-2)!.progress).toEqual({ step: 7, total: 7, completed: 6, phase: 'verification', status: 'handed_off' });
    expect(turns.at(-1)!.progress).toBeNull();
  });

  it('sends the same progress in every websocket message frame as the REST turn of the same message', async () => {
    const overRest = await createConversation(server.baseUrl);
    const overSocket = await createConversation(server.baseUrl);
    const ws = new WebSocket(server.wsUrl);
    const frames: { type: string; progress?: unknown; script?: unknown }[] = [];
    const waiters: (() => void)[] = [];
    ws.on('message', (data) => {
      frames.push(JSON.parse(data.toString()) as (typeof frames)[number]);
      waiters.splice(0).forEach((wake) => wake());
    });
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    const framesUntil = async (count: number) => {
      while (frames.length < count) await new Promise<void>((wake) => waiters.push(wake));
    };
    ws.send(JSON.stringify({ type: 'hello', conversation: overSocket.id, token: overSocket.token }));
    await framesUntil(1);
    for (const text of [...wholeUnbinding.slice(0, 3), '/cancel', '/thanks']) {
      const turn = await say(overRest, text);
      const seen = frames.length;
      ws.send(JSON.stringify({ type: 'message', text }));
      await framesUntil(seen + 2 + turn.replies.length); // typing, message.accepted, then one frame per reply
      const messages = frames.slice(seen + 1).filter((frame) => frame.type === 'message');
      expect(messages.map((frame) => frame.progress), text).toEqual(turn.replies.map(() => turn.progress));
    }
    ws.close();
  });
});
