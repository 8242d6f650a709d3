import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createConversation, sendMessage, startTestServer, type Conversation, type TestServer } from '../support/testServer.js';

interface ErrorBody {
  error: { code: string };
}

const adminToken = 'an-admin-token-long-enough-0123456789';
const dayMs = 86_400_000;

/** Every byte SQLite keeps for this database: the file and its write-ahead log. */
function databaseBytes(server: TestServer): string {
  return [server.databaseFile, `${server.databaseFile}-wal`]
    .filter((file) => existsSync(file))
    .map((file) => readFileSync(file).toString('utf8'))
    .join('\n');
}

/** A conversation whose words can be looked for in the file: an unusual phrase, a ticket, a rating. */
async function conversationWithWords(server: TestServer, marker: string): Promise<Conversation> {
  const conversation = await createConversation(server.baseUrl);
  for (const text of [`解绑后记录还在吗 ${marker}`, `我想问问${marker}的事情`, '转人工']) expect((await sendMessage(server.baseUrl, conversation, { text })).status).toBe(200);
  await fetch(`${server.baseUrl}/api/conversations/${conversation.id}/rating`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${conversation.token}` },
    body: JSON.stringify({ helpful: true }),
  });
  return conversation;
}

const rowsOf = (server: TestServer, conversationId: string) =>
  Object.fromEntries(
    ['conversations', 'transcript', 'turns', 'ratings', 'handoff_tickets'].map((table) => [
      table,
      server.store.db.prepare<[string], { count: number }>(`SELECT COUNT(*) AS count FROM ${table} WHERE ${table === 'conversations' ? 'id' : 'conversation_id'} = ?`).get(conversationId)!.count,
    ]),
  );

const gone = { conversations: 0, transcript: 0, turns: 0, ratings: 0, handoff_tickets: 0 };

describe('deleting a conversation', () => {
  it('its owner deletes it with its token: every row goes, the words are gone from the database file, the token stops working', async () => {
    const server = await startTestServer({ adminToken });
    try {
      const kept = await conversationWithWords(server, '保留的青柠檬');
      const deleted = await conversationWithWords(server, '删除的紫葡萄');
      expect(databaseBytes(server)).toContain('删除的紫葡萄');

      const auth = { authorization: `Bearer ${deleted.token}` };
      expect((await fetch(`${server.baseUrl}/api/conversations/${deleted.id}`, { method: 'DELETE', headers: { authorization: `Bearer ${kept.token}` } })).status).toBe(403);
      expect((await fetch(`${server.baseUrl}/api/conversations/${deleted.id}`, { method: 'DELETE', headers: auth })).status).toBe(204);

      expect(rowsOf(server, deleted.id)).toEqual(gone);
      expect(databaseBytes(server)).not.toContain('删除的紫葡萄');
      expect(databaseBytes(server)).toContain('保留的青柠檬');
      expect((await fetch(`${server.baseUrl}/api/conversations/${deleted.id}`, { headers: auth })).status).toBe(404);
      expect((await sendMessage(server.baseUrl, deleted, { text: '还在吗' })).status).toBe(404);
      expect((await sendMessage(server.baseUrl, kept, { text: '谢谢' })).status).toBe(200);
    } finally {
      await server.stop();
      server.cleanup();
    }
  });

  it('a websocket still open on the deleted conversation cannot bring it back: the next message saves nothing and the socket is closed', async () => {
    const server = await startTestServer();
    try {
      const conversation = await conversationWithWords(server, '另一个标签页');
      const ws = new WebSocket(server.wsUrl);
      const frames: { type: string; code?: string }[] = [];
      ws.on('message', (data) => frames.push(JSON.parse(data.toString()) as { type: string; code?: string }));
      const closed = new Promise<number>((resolve) => ws.on('close', resolve));
      await new Promise((resolve) => ws.once('open', resolve));
      ws.send(JSON.stringify({ type: 'hello', conversation: conversation.id, token: conversation.token }));
      await expect.poll(() => frames.map((frame) => frame.type)).toContain('ready');

      expect((await fetch(`${server.baseUrl}/api/conversations/${conversation.id}`, { method: 'DELETE', headers: { authorization: `Bearer ${conversation.token}` } })).status).toBe(204);
      ws.send(JSON.stringify({ type: 'message', text: '我的记录还在吗' }));
      expect(await closed).toBe(4401);
      expect(frames.at(-1)).toMatchObject({ type: 'error', code: 'unauthorized' });
      expect(rowsOf(server, conversation.id)).toEqual(gone);
      expect(databaseBytes(server)).not.toContain('我的记录还在吗');
    } finally {
      await server.stop();
      server.cleanup();
    }
  });

  it('an admin deletes one on a user\'s request; an unknown id is a 404', async () => {
    const server = await startTestServer({ adminToken });
    try {
      const conversation = await conversationWithWords(server, '客服代删的橘子');
      const remove = (id: string) => fetch(`${server.baseUrl}/api/admin/conversations/${id}`, { method: 'DELETE', headers: { authorization: `Bearer ${adminToken}` } });
      expect((await remove(conversation.id)).status).toBe(204);
      expect(rowsOf(server, conversation.id)).toEqual(gone);
      expect(databaseBytes(server)).not.toContain('客服代删的橘子');
      const again = await remove(conversation.id);
      expect(again.status).toBe(404);
      expect(((await again.json()) as ErrorBody).error.code).toBe('conversation_not_found');
    } finally {
      await server.stop();
      server.cleanup();
    }
  });
});

describe('retention and token expiry', () => {
  it('conversations idle for longer than RETENTION_DAYS are deleted when the server starts, active ones stay', async () => {
    const first = await startTestServer();
    const old = await conversationWithWords(first, '很久以前的香蕉');
    await first.stop();
    // The same database, opened 40 days later: the conversation has been idle for 40 days.
    const later = new Date(Date.now() + 40 * dayMs);
    const second = await startTestServer({ databaseFile: first.databaseFile, now: () => later, retention: { retentionDays: 30, tokenIdleDays: 0 } });
    try {
      const fresh = await conversationWithWords(second, '今天的西瓜');
      await expect.poll(() => rowsOf(second, old.id), { timeout: 5_000 }).toEqual(gone);
      expect(databaseBytes(second)).not.toContain('很久以前的香蕉');
      expect(rowsOf(second, fresh.id).conversations).toBe(1);
    } finally {
      await second.stop();
      first.cleanup();
    }
  });

  it('RETENTION_DAYS=0 keeps everything', async () => {
    const first = await startTestServer();
    const old = await conversationWithWords(first, '留着的苹果');
    await first.stop();
    const second = await startTestServer({ databaseFile: first.databaseFile, now: () => new Date(Date.now() + 400 * dayMs), retention: { retentionDays: 0, tokenIdleDays: 0 } });
    try {
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(rowsOf(second, old.id).transcript).toBeGreaterThan(0);
    } finally {
      await second.stop();
      first.cleanup();
    }
  });

  it('a token unused for longer than TOKEN_IDLE_DAYS has expired: 401 token_expired, so the widget starts afresh', async () => {
    let clock = Date.now();
    const server = await startTestServer({ now: () => new Date(clock), retention: { retentionDays: 0, tokenIdleDays: 7 } });
    try {
      const conversation = await createConversation(server.baseUrl);
      expect((await sendMessage(server.baseUrl, conversation, { text: '解绑后记录还在吗' })).status).toBe(200);
      clock += 6 * dayMs;
      expect((await fetch(`${server.baseUrl}/api/conversations/${conversation.id}`, { headers: { authorization: `Bearer ${conversation.token}` } })).status).toBe(200);
      clock += 2 * dayMs;
      const expired = await sendMessage(server.baseUrl, conversation, { text: '还在吗' });
      expect(expired.status).toBe(401);
      expect(((await expired.json()) as ErrorBody).error.code).toBe('token_expired');
    } finally {
      await server.stop();
      server.cleanup();
    }
  });
});
