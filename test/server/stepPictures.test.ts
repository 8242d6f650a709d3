import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { replyPictures } from '../../src/content/schemas.js';
import { openApiDocument } from '../../src/server/openApiDocument.js';
import { createConversation, sendMessage, serveDuringTests, type Conversation } from '../support/testServer.js';

/**
 * A step's reply names the picture a client draws inside it (issue 14): over REST, in the
 * websocket's frames, and in the stored transcript, so a reloaded widget shows the same message.
 */

const server = serveDuringTests();

interface Reply {
  id: string;
  picture?: string;
}
interface Line {
  role: string;
  text: string;
  picture?: string;
}

const say = async (conversation: Conversation, text: string) =>
  ((await (await sendMessage(server.baseUrl, conversation, { text })).json()) as { replies: Reply[] }).replies;

async function transcript(conversation: Conversation): Promise<Line[]> {
  const response = await fetch(`${server.baseUrl}/api/conversations/${conversation.id}`, { headers: { authorization: `Bearer ${conversation.token}` } });
  return ((await response.json()) as { transcript: Line[] }).transcript;
}

describe('step pictures in replies', () => {
  it('come with each step and with step 6’s help, and nowhere else', async () => {
    const conversation = await createConversation(server.baseUrl);
    const seen: Reply[] = [];
    for (const text of ['怎么解绑钱包', '没有余额', '好了', '好了', '好了', '好了', '好了', '找不到', '好了']) seen.push(...(await say(conversation, text)));
    expect(seen.filter((reply) => reply.picture).map((reply) => [reply.id, reply.picture])).toEqual([
      ['unbind.step1', 'step1'],
      ['unbind.step2', 'step2'],
      ['unbind.step3', 'step3'],
      ['unbind.step4', 'step4'],
      ['unbind.step5', 'step5'],
      ['unbind.step6', 'step6'],
      ['unbind.help.step6', 'step6Menu'],
      ['unbind.step7', 'step7'],
    ]);
    // The transcript keeps them on the same lines.
    const lines = await transcript(conversation);
    expect(lines.filter((line) => line.picture).map((line) => line.picture)).toEqual(['step1', 'step2', 'step3', 'step4', 'step5', 'step6', 'step6Menu', 'step7']);
    expect(lines.filter((line) => line.role !== 'bot').some((line) => 'picture' in line)).toBe(false);
  });

  it('come in the websocket’s message frames too', async () => {
    const conversation = await createConversation(server.baseUrl);
    const ws = new WebSocket(server.wsUrl);
    const frames: { type: string; id?: string; picture?: string }[] = [];
    ws.on('message', (data) => frames.push(JSON.parse(data.toString()) as (typeof frames)[number]));
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    ws.send(JSON.stringify({ type: 'hello', conversation: conversation.id, token: conversation.token }));
    await expect.poll(() => frames.some((frame) => frame.type === 'ready')).toBe(true);
    ws.send(JSON.stringify({ type: 'message', text: '怎么解绑钱包' }));
    await expect.poll(() => frames.some((frame) => frame.id === 'unbind.askBalance')).toBe(true);
    ws.send(JSON.stringify({ type: 'message', text: '没有余额' }));
    await expect.poll(() => frames.find((frame) => frame.id === 'unbind.step1')?.picture).toBe('step1');
    expect(frames.filter((frame) => frame.type === 'message' && frame.id !== 'unbind.step1').some((frame) => 'picture' in frame)).toBe(false);
    ws.close();
  }, 15_000); // the process's first socket also waits for Botkit to load

  it('are documented in the REST contract with every name a reply can carry', () => {
    const schemas = openApiDocument.components.schemas as unknown as Record<string, { properties: Record<string, { enum?: readonly string[] }> }>;
    expect(schemas.Reply!.properties.picture!.enum).toEqual([...replyPictures]);
    expect(schemas.Line!.properties.picture!.enum).toEqual([...replyPictures]);
  });
});
