import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { socketCloseCodes, socketTimeoutsFromEnv } from '../../src/channels/socketLifetime.js';
import { parseServiceHours } from '../../src/support/serviceHours.js';
import { createConversation, sendMessage, serveDuringTests, type Conversation } from '../support/testServer.js';

interface Frame {
  type: string;
}

/** A widget-like socket: its frames, its pings, and the close code once it closes. */
async function connect(url: string, options: WebSocket.ClientOptions = {}) {
  const ws = new WebSocket(url, options);
  const frames: Frame[] = [];
  let pings = 0;
  let closeCode: number | undefined;
  ws.on('message', (data) => frames.push(JSON.parse(data.toString()) as Frame));
  ws.on('ping', () => pings++);
  ws.on('close', (code) => (closeCode = code));
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  return {
    ws,
    frames,
    pings: () => pings,
    closeCode: () => closeCode,
    async hello(conversation: Conversation) {
      ws.send(JSON.stringify({ type: 'hello', conversation: conversation.id, token: conversation.token }));
      await expect.poll(() => frames.some((frame) => frame.type === 'ready')).toBe(true);
    },
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('a socket that never says hello', () => {
  const helloMs = 1000;
  const server = serveDuringTests({ socketTimeouts: { helloMs, idleMs: 60_000, pingIntervalMs: 30_000 } });

  it('is closed once the hello deadline has passed; one that said hello in time stays open', async () => {
    const conversation = await createConversation(server.baseUrl);
    const silent = await connect(server.wsUrl);
    const greeted = await connect(server.wsUrl);
    await greeted.hello(conversation);
    await expect.poll(silent.closeCode, { timeout: helloMs * 5 }).toBe(socketCloseCodes.helloTimeout);
    await sleep(helloMs);
    expect(greeted.ws.readyState).toBe(WebSocket.OPEN);
    greeted.ws.close();
  }, 15_000); // the file's first socket also waits for Botkit to load
});

describe('idle sockets', () => {
  // The client answers pings in this same process, so a pause of the event loop longer than the
  // ping interval (a turn, a GC, another test file on a loaded CI machine) delays the answer past the
  // next tick and a healthy socket is cut off (1006). 300 ms leaves room for such pauses.
  const idleMs = 1500;
  const pingIntervalMs = 300;
  const server = serveDuringTests({ serviceHours: parseServiceHours('00:00-24:00', 'Asia/Shanghai'), socketTimeouts: { helloMs: 5000, idleMs, pingIntervalMs } });

  it('cuts off a socket that answers no ping, before it could count as idle', async () => {
    const dead = await connect(server.wsUrl, { autoPong: false });
    await dead.hello(await createConversation(server.baseUrl));
    await expect.poll(dead.closeCode, { timeout: idleMs }).toBeDefined();
    expect(dead.pings()).toBeGreaterThanOrEqual(1);
  }, 10_000);

  it('closes a socket with no frame either way past the idle timeout though it answers pings; keeps one in use, and one whose user waits for an agent', async () => {
    const withBot = await connect(server.wsUrl);
    await withBot.hello(await createConversation(server.baseUrl));

    const waiting = await createConversation(server.baseUrl);
    // No agent is online: the conversation waits in the queue, and its socket is how the agent's claim will arrive.
    const handoff = (await (await sendMessage(server.baseUrl, waiting, { text: '转人工' })).json()) as { state: string };
    expect(handoff.state).toBe('handedOff');
    const waitingSocket = await connect(server.wsUrl);
    await waitingSocket.hello(waiting);

    // Used while the clock runs: a frame restarts it.
    const inUse = await connect(server.wsUrl);
    await inUse.hello(await createConversation(server.baseUrl));
    const keepTalking = setInterval(() => inUse.ws.send(JSON.stringify({ type: 'typing' })), idleMs / 3);

    try {
      await expect.poll(withBot.closeCode, { timeout: idleMs * 3 }).toBe(socketCloseCodes.idle);
      await sleep(idleMs * 2);
      // Both answered pings all along: answered pings keep only the socket of a handover open.
      expect(withBot.pings()).toBeGreaterThanOrEqual(3);
      expect(waitingSocket.pings()).toBeGreaterThanOrEqual(Math.floor((idleMs * 3) / pingIntervalMs) - 2);
      expect(waitingSocket.ws.readyState).toBe(WebSocket.OPEN);
      expect(inUse.ws.readyState).toBe(WebSocket.OPEN);
    } finally {
      clearInterval(keepTalking);
      waitingSocket.ws.close();
      inUse.ws.close();
    }
  }, 20_000);
});

describe('socket timeouts from the environment', () => {
  it('default to a 10 s hello, 10 min idle and a ping every 30 s; a bad value names the setting', () => {
    expect(socketTimeoutsFromEnv({})).toEqual({ helloMs: 10_000, idleMs: 600_000, pingIntervalMs: 30_000 });
    expect(socketTimeoutsFromEnv({ WS_HELLO_TIMEOUT_SECONDS: '3', WS_IDLE_TIMEOUT_SECONDS: '0', WS_PING_INTERVAL_SECONDS: '15' })).toEqual({ helloMs: 3000, idleMs: 0, pingIntervalMs: 15_000 });
    expect(() => socketTimeoutsFromEnv({ WS_HELLO_TIMEOUT_SECONDS: '0' })).toThrow(/WS_HELLO_TIMEOUT_SECONDS/);
    expect(() => socketTimeoutsFromEnv({ WS_IDLE_TIMEOUT_SECONDS: '10m' })).toThrow(/WS_IDLE_TIMEOUT_SECONDS/);
  });
});
