import { describe, expect, it } from 'vitest';
import { createConversation, sendMessage, serveDuringTests } from '../support/testServer.js';

interface ErrorBody {
  error: { code: string; message: string };
}

const server = serveDuringTests();

async function transcriptOf(conversation: { id: string; token: string }) {
  const response = await fetch(`${server.baseUrl}/api/conversations/${conversation.id}`, { headers: { authorization: `Bearer ${conversation.token}` } });
  return ((await response.json()) as { transcript: { role: string; text: string }[]; state: string }).transcript;
}

describe('the database refusing writes', () => {
  it('a read-only database fails the turn with 503 storage_unavailable, /healthz says so, and the server serves again once it is writable', async () => {
    const conversation = await createConversation(server.baseUrl);
    expect((await sendMessage(server.baseUrl, conversation, { text: '/unbind_wallet' })).status).toBe(200);
    const before = await transcriptOf(conversation);

    server.store.db.pragma('query_only = ON');
    try {
      const refused = await sendMessage(server.baseUrl, conversation, { text: '/deny' });
      expect(refused.status).toBe(503);
      expect(refused.headers.get('retry-after')).toBe('5');
      expect(((await refused.json()) as ErrorBody).error.code).toBe('storage_unavailable');
      // Reading still works: the user's conversation is shown as it was, nothing half-written.
      expect(await transcriptOf(conversation)).toEqual(before);
      // A load balancer must stop sending users to a server that cannot save their turns.
      const health = await fetch(`${server.baseUrl}/healthz`);
      expect(health.status).toBe(503);
      expect(((await health.json()) as ErrorBody).error.code).toBe('database_unavailable');
    } finally {
      server.store.db.pragma('query_only = OFF');
    }
    expect(server.errors).toContain('storage failure');

    const retried = await sendMessage(server.baseUrl, conversation, { text: '/deny' });
    expect(retried.status).toBe(200);
    expect(((await retried.json()) as { progress: { step: number } }).progress.step).toBe(1);
  });

  it('a full disk (SQLITE_FULL) fails only the turns that need the space; the transaction leaves no partial turn', async () => {
    const conversation = await createConversation(server.baseUrl);
    const db = server.store.db;
    const pageCount = db.pragma('page_count', { simple: true }) as number;
    const previousMax = db.pragma('max_page_count', { simple: true }) as number;
    db.pragma(`max_page_count = ${pageCount}`);
    let statuses: number[] = [];
    try {
      // Fill the last free pages: some turns may still fit, then the disk is "full".
      for (let i = 0; i < 200 && !statuses.includes(503); i++) {
        statuses.push((await sendMessage(server.baseUrl, conversation, { text: `第 ${i} 次：${'怎么解绑钱包'.repeat(100)}` })).status);
      }
    } finally {
      db.pragma(`max_page_count = ${previousMax}`);
    }
    expect(statuses.at(-1)).toBe(503);
    expect(statuses.slice(0, -1).every((status) => status === 200)).toBe(true);
    const userLines = (await transcriptOf(conversation)).filter((entry) => entry.role === 'user');
    expect(userLines).toHaveLength(statuses.length - 1);
    expect((await sendMessage(server.baseUrl, conversation, { text: '你好' })).status).toBe(200);
  });
});

describe('a damaged conversation row', () => {
  it('starts that conversation over with a note to the user; other conversations carry on', async () => {
    const damaged = await createConversation(server.baseUrl);
    const healthy = await createConversation(server.baseUrl);
    for (const conversation of [damaged, healthy]) {
      await sendMessage(server.baseUrl, conversation, { text: '/unbind_wallet' });
      await sendMessage(server.baseUrl, conversation, { text: '/deny' });
    }
    server.store.db.prepare('UPDATE conversations SET snapshot = ? WHERE id = ?').run('{"value": "unbinding", "children": {', damaged.id);

    const response = await sendMessage(server.baseUrl, damaged, { text: '你好' });
    expect(response.status).toBe(200);
    const turn = (await response.json()) as { replies: { text: string }[]; state: string };
    const { loadContent } = await import('../../src/content/loadContent.js');
    const note = loadContent().responses.get('conversationUpdated')!.text;
    expect(turn.replies[0]!.text).toBe(note);
    expect(turn.state).toBe('idle');
    // The history is kept: the user still sees what was said before.
    expect((await transcriptOf(damaged)).filter((entry) => entry.role === 'user')).toHaveLength(3);
    expect(server.errors).toContain('stored conversation could not be restored; starting over');

    const other = (await (await sendMessage(server.baseUrl, healthy, { text: '/affirm' })).json()) as { progress: { step: number } };
    expect(other.progress.step).toBe(2);
  });
});
