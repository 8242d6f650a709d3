import { createServer as createHttpServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createBotkitWebChannel, type BotkitWebChannel } from '../../src/channels/botkitWebChannel.js';
import { loadContent } from '../../src/content/loadContent.js';
import { DialogueEngine } from '../../src/dialogue/dialogueEngine.js';
import { createLogger } from '../../src/server/logging.js';
import { RateLimiter } from '../../src/limits/rateLimiter.js';
import { newConversationIdentity } from '../../src/storage/identityStore.js';
import { openStore, type ServerStore } from '../../src/storage/openStore.js';

interface Frame {
  type: string;
}

/** A widget-like socket that has said hello for its conversation. */
async function connect(url: string, conversation: { id: string; token: string }) {
  const ws = new WebSocket(url);
  const frames: Frame[] = [];
  let closed = false;
  ws.on('message', (data) => frames.push(JSON.parse(data.toString()) as Frame));
  ws.on('close', () => (closed = true));
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  ws.send(JSON.stringify({ type: 'hello', conversation: conversation.id, token: conversation.token }));
  await expect.poll(() => frames.some((frame) => frame.type === 'ready')).toBe(true);
  return { ws, frames, closed: () => closed };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("Botkit's memory of conversations", () => {
  let httpServer: Server;
  let store: ServerStore;
  let channel: BotkitWebChannel;
  let wsUrl: string;

  beforeAll(async () => {
    store = openStore('memory:');
    const engine = new DialogueEngine({ content: loadContent(), store, logger: { warn: () => undefined } });
    httpServer = createHttpServer();
    const off = () => new RateLimiter({ perMinute: 0, burst: 0 });
    channel = createBotkitWebChannel({
      server: httpServer,
      engine,
      identities: store,
      allowedOrigins: ['*'],
      log: createLogger({ write: () => undefined }, 'silent'),
      addressLimiter: off(),
      conversationLimiter: off(),
      socketsPerAddress: 0,
      addressOf: (request) => request.socket.remoteAddress ?? 'unknown',
    });
    await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
    wsUrl = `ws://127.0.0.1:${(httpServer.address() as AddressInfo).port}/ws`;
  });
  afterAll(async () => {
    await channel.close();
    await new Promise((resolve) => httpServer.close(resolve));
    store.close();
  });

  /** Botkit's per-conversation map: the object behind its memory storage, a key per conversation's dialog state. */
  const botkitEntries = () => Object.keys((channel.controller.storage as unknown as { memory: Record<string, string | undefined> }).memory).length;

  async function conversationOverSocket(): Promise<WebSocket> {
    const { identity, token } = newConversationIdentity(new Date());
    await store.createConversation(identity);
    const client = await connect(wsUrl, { id: identity.id, token });
    client.ws.send(JSON.stringify({ type: 'message', text: '你好' }));
    await expect.poll(() => client.frames.some((frame) => frame.type === 'message'), { timeout: 10_000 }).toBe(true);
    return client.ws;
  }

  it('is back to its size before after 1 000 sockets have each had a conversation and closed', { timeout: 120_000 }, async () => {
    const before = botkitEntries();
    // The entry this test watches is there while a conversation has a socket open.
    const first = await conversationOverSocket();
    expect(botkitEntries()).toBe(before + 1);
    first.close();

    for (let batch = 0; batch < 40; batch++) {
      const sockets = await Promise.all(Array.from({ length: 25 }, conversationOverSocket));
      for (const ws of sockets) ws.close();
    }
    await expect.poll(botkitEntries, { timeout: 10_000 }).toBe(before);
  });

  it('keeps the entry while another socket of the conversation is still open', async () => {
    const { identity, token } = newConversationIdentity(new Date());
    await store.createConversation(identity);
    const tab1 = await connect(wsUrl, { id: identity.id, token });
    const tab2 = await connect(wsUrl, { id: identity.id, token });
    const before = botkitEntries();
    tab1.ws.send(JSON.stringify({ type: 'message', text: '你好' }));
    await expect.poll(() => tab1.frames.some((frame) => frame.type === 'message')).toBe(true);
    expect(botkitEntries()).toBe(before + 1);
    tab1.ws.close();
    await expect.poll(tab1.closed).toBe(true);
    await sleep(100);
    expect(botkitEntries()).toBe(before + 1);
    tab2.ws.close();
    await expect.poll(botkitEntries).toBe(before);
  });
});
