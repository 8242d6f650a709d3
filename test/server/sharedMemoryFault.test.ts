import { existsSync, mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, noRateLimits, startServerProcess, stopServerProcesses } from '../support/serverProcess.js';
import { createConversation, sendMessage } from '../support/testServer.js';

const dir = mkdtempSync(path.join(tmpdir(), 'bot-shm-'));

afterAll(async () => {
  await stopServerProcesses();
  rmSync(dir, { recursive: true, force: true });
});

describe("SQLite's shared-memory file", () => {
  it('a -shm file that is truncated or replaced under the running server does not kill it: turns go on, nothing is lost', async () => {
    const databaseFile = path.join(dir, 'chatbot.db');
    const server = await startServerProcess({ port: await freePort(), databaseFile, env: noRateLimits });
    const conversation = await createConversation(server.baseUrl);
    expect((await sendMessage(server.baseUrl, conversation, { text: '/unbind_wallet' })).status).toBe(200);

    // What a full disk, a careless cleanup script or another tool can do to the file SQLite maps.
    const shm = `${databaseFile}-shm`;
    if (existsSync(shm)) truncateSync(shm, 0);
    else writeFileSync(shm, '', { mode: 0o444 });

    const statuses = [];
    for (const text of ['/deny', '/affirm', '/affirm']) statuses.push((await sendMessage(server.baseUrl, conversation, { text })).status);
    expect(statuses).toEqual([200, 200, 200]);
    expect((await fetch(`${server.baseUrl}/healthz`)).status).toBe(200);
    const transcript = (await (await fetch(`${server.baseUrl}/api/conversations/${conversation.id}`, { headers: { authorization: `Bearer ${conversation.token}` } })).json()) as {
      transcript: { role: string }[];
      progress: { step: number };
    };
    expect(transcript.transcript.filter((line) => line.role === 'user')).toHaveLength(4);
    expect(transcript.progress.step).toBe(3);
    const exit = await Promise.race([server.exited, new Promise((resolve) => setTimeout(() => resolve('running'), 200))]);
    expect(exit).toBe('running');
  }, 90_000);
});
