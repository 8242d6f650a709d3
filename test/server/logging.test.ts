import { describe, expect, it } from 'vitest';
import { createConversation, sendMessage, serveDuringTests } from '../support/testServer.js';

const server = serveDuringTests();

type LogLine = Record<string, unknown> & { msg: string; level: number };
const lines = (): LogLine[] => server.logLines.map((line) => JSON.parse(line) as LogLine);

describe('structured logs', () => {
  it('gives every request an id, echoes it as X-Request-Id, and logs the turn under it without the text', async () => {
    const conversation = await createConversation(server.baseUrl);
    const response = await sendMessage(server.baseUrl, conversation, { text: '我要解绑钱包' });
    const requestId = response.headers.get('x-request-id');
    expect(requestId).toMatch(/^[0-9a-f-]{36}$/);
    const ofRequest = lines().filter((line) => line.requestId === requestId);
    const turn = ofRequest.find((line) => line.msg === 'turn');
    expect(turn).toMatchObject({ conversationId: conversation.id, channel: 'rest', intent: 'unbind_wallet', state: 'unbinding.checkingBalance' });
    expect(typeof turn!.ms).toBe('number');
    expect(JSON.stringify(turn)).not.toContain('解绑钱包');
    expect(ofRequest.find((line) => line.msg === 'request')).toMatchObject({ method: 'POST', path: `/api/conversations/${conversation.id}/messages`, status: 200 });
  });

  it('keeps a request id a proxy passed on, and replaces one that is not a plain token', async () => {
    const kept = await fetch(`${server.baseUrl}/healthz`, { headers: { 'x-request-id': 'edge-1234.abc' } });
    expect(kept.headers.get('x-request-id')).toBe('edge-1234.abc');
    const replaced = await fetch(`${server.baseUrl}/healthz`, { headers: { 'x-request-id': 'x'.repeat(65) } });
    expect(replaced.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('logs refused requests at info with their status, not as errors', async () => {
    const response = await fetch(`${server.baseUrl}/api/conversations/nope`);
    const requestId = response.headers.get('x-request-id');
    expect(lines().find((line) => line.requestId === requestId && line.msg === 'request')).toMatchObject({ status: 404, level: 30 });
  });
});
