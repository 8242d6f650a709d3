import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { freePort, noRateLimits, startServerProcess, stopServerProcesses } from '../support/serverProcess.js';

const dir = mkdtempSync(path.join(tmpdir(), 'bot-first-ws-'));

afterAll(async () => {
  await stopServerProcesses();
  rmSync(dir, { recursive: true, force: true });
});

interface Frame {
  type: string;
  id?: string;
}

/** Opens a socket, says hello for the conversation and one message, and collects frames until the bot's last reply. */
function talk(wsUrl: string, conversation: { id: string; token: string }, text: string): Promise<Frame[]> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(wsUrl);
    const frames: Frame[] = [];
    ws.once('error', reject);
    ws.once('open', () => ws.send(JSON.stringify({ type: 'hello', conversation: conversation.id, token: conversation.token })));
    ws.on('message', (data) => {
      const frame = JSON.parse(data.toString()) as Frame;
      frames.push(frame);
      if (frame.type === 'ready') ws.send(JSON.stringify({ type: 'message', text }));
      if (frame.id === 'unbind.askBalance') {
        ws.close();
        resolve(frames);
      }
    });
  });
}

describe('the websocket channel, loaded when the first websocket connects', () => {
  it('answers the very first sockets of a fresh process, opened together before Botkit was loaded', async () => {
    const server = await startServerProcess({ port: await freePort(), databaseFile: path.join(dir, 'chatbot.db'), env: noRateLimits });
    const created = await Promise.all(
      [1, 2].map(async () => (await (await fetch(`${server.baseUrl}/api/conversations`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).json()) as { id: string; token: string }),
    );
    const [first, second] = await Promise.all(created.map((conversation) => talk(server.wsUrl, conversation, '我要解绑')));
    for (const frames of [first!, second!]) {
      expect(frames.map((frame) => frame.type).slice(0, 3)).toEqual(['ready', 'typing', 'message.accepted']);
      expect(frames.map((frame) => frame.id).filter(Boolean)).toEqual(['unbind.intro', 'unbind.askBalance']);
    }
    // A wrong path is refused without loading anything, and does not disturb the channel.
    const wrong = new WebSocket(`ws://127.0.0.1:${server.port}/not-the-socket`);
    await new Promise<void>((resolve) => wrong.once('error', () => resolve()));
  }, 120_000);
});
