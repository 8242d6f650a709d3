import { beforeAll, describe, expect, it } from 'vitest';
import { createConversation, sendMessage, serveDuringTests } from '../support/testServer.js';

const server = serveDuringTests();

const get = (path: string, headers: Record<string, string> = {}) => fetch(`${server.baseUrl}${path}`, { headers });

describe('REST API', () => {
  it('POST /api/conversations creates a conversation with an unguessable id and a token, and greets', async () => {
    const response = await fetch(`${server.baseUrl}/api/conversations`, { method: 'POST' });
    expect(response.status).toBe(201);
    const body = (await response.json()) as { id: string; token: string; replies: { text: string }[] };
    expect(body.id).toMatch(/^[\w-]{22}$/);
    expect(body.token.length).toBeGreaterThanOrEqual(43);
    expect(body.replies[0]!.text).toContain('解绑');
    const other = await createConversation(server.baseUrl);
    expect(other.id).not.toBe(body.id);
  });

  it('POST /messages returns the contract: replies with quick replies, intent with confidence, state', async () => {
    const conversation = await createConversation(server.baseUrl);
    const response = await sendMessage(server.baseUrl, conversation, { text: '我要解绑钱包' });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { replies: { id: string; text: string; quickReplies?: { title: string; payload: string }[] }[]; intent: { name: string; confidence: number }; state: string };
    // Each reply names the response it renders, so a client can tell answers apart whatever their wording.
    expect(body.replies.map((reply) => reply.id)).toEqual(['unbind.intro', 'unbind.askBalance']);
    expect(body.intent.name).toBe('unbind_wallet');
    expect(body.intent.confidence).toBeGreaterThan(0.5);
    expect(body.state).toBe('unbinding.checkingBalance');
    expect(body.replies.at(-1)!.quickReplies).toEqual([
      { title: '还有余额', payload: '/affirm' },
      { title: '没有余额', payload: '/deny' },
    ]);
  });

  it('GET /api/conversations/{id} returns the redacted transcript and the step reached', async () => {
    const conversation = await createConversation(server.baseUrl);
    await sendMessage(server.baseUrl, conversation, { text: '/unbind_wallet' });
    await sendMessage(server.baseUrl, conversation, { text: '/deny', displayText: '没有余额' });
    await sendMessage(server.baseUrl, conversation, { text: '我的卡号是6222021234567890123' });
    const response = await get(`/api/conversations/${conversation.id}`, { authorization: `Bearer ${conversation.token}` });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { transcript: { role: string; text: string }[]; progress: unknown; state: string };
    expect(body.transcript[0]).toMatchObject({ role: 'bot', text: expect.stringContaining('你好') });
    const userLines = body.transcript.filter((entry) => entry.role === 'user').map((entry) => entry.text);
    expect(userLines).toEqual(['/unbind_wallet', '没有余额', '我的卡号是[卡号]']);
    expect(JSON.stringify(body)).not.toContain('6222021234567890123');
    expect(body.progress).toEqual({ step: 1, total: 7, completed: 0, phase: 'steps', status: 'active' });
  });

  it('GET /api/conversations/{id} reports the same state as the last turn, down to the verification step', async () => {
    const conversation = await createConversation(server.baseUrl);
    let last: { state: string; progress: unknown } | undefined;
    for (const text of ['/unbind_wallet', '/deny', ...Array.from({ length: 6 }, () => '/affirm'), '/verification_help{"method":"sms"}']) {
      last = (await (await sendMessage(server.baseUrl, conversation, { text })).json()) as { state: string; progress: unknown };
    }
    expect(last!.state).toBe('unbinding.confirmUnbind.verifying.guidingMethod');
    const body = (await (await get(`/api/conversations/${conversation.id}`, { authorization: `Bearer ${conversation.token}` })).json()) as { state: string; progress: unknown };
    expect({ state: body.state, progress: body.progress }).toEqual({ state: last!.state, progress: last!.progress });
  });

  it('POST /api/parse classifies without a conversation, like Rasa', async () => {
    const response = await fetch(`${server.baseUrl}/api/parse`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text: '解绑后记录还在吗' }) });
    const body = (await response.json()) as { intent: { name: string; confidence: number }; ranking: { name: string }[] };
    expect(body.intent.name).toBe('records_after_unbind');
    expect(body.ranking[0]!.name).toBe('records_after_unbind');
    expect(body.ranking.length).toBeGreaterThan(1);
  });

  it('serves /healthz, the OpenAPI document, the widget script and the demo page', async () => {
    expect(await (await get('/healthz')).json()).toEqual({ status: 'ok' });
    const openapi = (await (await get('/api/openapi.json')).json()) as { openapi: string; paths: Record<string, unknown> };
    expect(openapi.openapi).toMatch(/^3\./);
    expect(Object.keys(openapi.paths)).toEqual(expect.arrayContaining(['/api/conversations', '/api/conversations/{id}', '/api/conversations/{id}/messages', '/api/parse']));
    expect((await get('/widget.js')).headers.get('content-type')).toContain('javascript');
    expect(await (await get('/')).text()).toContain('widget.js');
  });
});

describe('embedding on other sites', () => {
  it('answers the CORS preflight so a page on another origin can call the API', async () => {
    const response = await fetch(`${server.baseUrl}/api/conversations`, {
      method: 'OPTIONS',
      headers: { origin: 'https://shop.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' },
    });
    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-origin')).toBe('*');
    expect(response.headers.get('access-control-allow-headers')).toContain('Authorization');
  });
});

describe('identity', () => {
  it('refuses a missing token with 401 and a wrong one with 403, leaving the conversation untouched', async () => {
    const owner = await createConversation(server.baseUrl);
    const intruder = await createConversation(server.baseUrl);
    await sendMessage(server.baseUrl, owner, { text: '/unbind_wallet' });

    const missing = await fetch(`${server.baseUrl}/api/conversations/${owner.id}/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"text":"/cancel"}' });
    expect(missing.status).toBe(401);
    const wrong = await sendMessage(server.baseUrl, { id: owner.id, token: intruder.token }, { text: '/cancel' });
    expect(wrong.status).toBe(403);
    expect(((await wrong.json()) as { error: { code: string } }).error.code).toBe('wrong_token');
    expect((await get(`/api/conversations/${owner.id}`, { authorization: `Bearer ${intruder.token}` })).status).toBe(403);
    expect((await get(`/api/conversations/${owner.id}`)).status).toBe(401);

    const transcript = (await (await get(`/api/conversations/${owner.id}`, { authorization: `Bearer ${owner.token}` })).json()) as { transcript: unknown[]; state: string };
    expect(transcript.state).toBe('unbinding.checkingBalance');
    expect(transcript.transcript.filter((entry) => (entry as { role: string }).role === 'user')).toHaveLength(1);
  });

  it('answers an unknown conversation with 404', async () => {
    const response = await sendMessage(server.baseUrl, { id: 'no-such-conversation', token: 'x' }, { text: 'hi' });
    expect(response.status).toBe(404);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('conversation_not_found');
  });
});

describe('bad input gets a clear 4xx JSON error and the server keeps serving', () => {
  let conversation: { id: string; token: string };
  beforeAll(async () => {
    conversation = await createConversation(server.baseUrl);
  });

  it.each([
    ['malformed JSON', '{"text":', {}, 400, 'invalid_json'],
    ['missing text', {}, {}, 400, 'text_missing'],
    ['a JSON array', [1, 2], {}, 400, 'invalid_body'],
    ['empty text', { text: '  ' }, {}, 400, 'empty_text'],
    ['non-string text', { text: 42 }, {}, 400, 'text_not_string'],
    ['an unknown field', { text: 'hi', admin: true }, {}, 400, 'invalid_body'],
    ['text over 1000 characters', { text: '长'.repeat(1001) }, {}, 413, 'text_too_long'],
    ['a body over 16 KB', { text: 'a'.repeat(20_000) }, {}, 413, 'body_too_large'],
    ['100 000 emoji', { text: '😀'.repeat(100_000) }, {}, 413, 'body_too_large'],
    ['1001 emoji (each counts as one character)', { text: '😀'.repeat(1001) }, {}, 413, 'text_too_long'],
    ['control characters', { text: '你好\u0000\u0007' }, {}, 400, 'control_characters'],
    ['a lone surrogate (escaped in valid JSON)', '{"text":"\\ud800 解绑"}', {}, 400, 'invalid_unicode'],
    ['a displayText with control characters', { text: '/affirm', displayText: 'ok\u001b[31m' }, {}, 400, 'control_characters'],
    ['the wrong content type', 'text=hi', { 'content-type': 'application/x-www-form-urlencoded' }, 415, 'unsupported_media_type'],
  ] as const)('%s', async (_name, body, headers, status, code) => {
    const response = await sendMessage(server.baseUrl, conversation, body, headers);
    expect(response.status).toBe(status);
    expect(response.headers.get('content-type')).toContain('application/json');
    const payload = (await response.json()) as { error: { code: string; message: string } };
    expect(payload.error.code).toBe(code);
    expect(payload.error.message.length).toBeGreaterThan(5);
    // Still serving, and the conversation took no turn.
    const ok = await sendMessage(server.baseUrl, conversation, { text: '你好' });
    expect(ok.status).toBe(200);
  });

  it('refuses a body that is not valid UTF-8 instead of storing replacement characters', async () => {
    const bytes = Buffer.concat([Buffer.from('{"text":"'), Buffer.from([0xe8, 0xa7, 0xff, 0xfe]), Buffer.from('"}')]);
    const response = await fetch(`${server.baseUrl}/api/conversations/${conversation.id}/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${conversation.token}` },
      body: bytes,
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('invalid_utf8');
  });

  it('accepts 1000 emoji, tabs and line breaks: a person can send those', async () => {
    expect((await sendMessage(server.baseUrl, conversation, { text: '😀'.repeat(1000) })).status).toBe(200);
    expect((await sendMessage(server.baseUrl, conversation, { text: '怎么\t解绑\r\n钱包' })).status).toBe(200);
  });

  it('never answered any of them with a 5xx', () => {
    expect(server.errors.filter((message) => message.includes('request failed') || message.includes('turn failed'))).toEqual([]);
  });

  it('answers an unknown API route with a JSON 404', async () => {
    const response = await get('/api/nothing-here');
    expect(response.status).toBe(404);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('not_found');
  });
});

describe('concurrency', () => {
  it('runs 50 concurrent messages on one conversation one after another: all 50 in the transcript, each once, every turn starting where the one before ended', async () => {
    const conversation = await createConversation(server.baseUrl);
    await sendMessage(server.baseUrl, conversation, { text: '/unbind_wallet' });
    await sendMessage(server.baseUrl, conversation, { text: '/deny' });
    await sendMessage(server.baseUrl, conversation, { text: '/affirm' });
    await sendMessage(server.baseUrl, conversation, { text: '/affirm' });
    // Forward and back in turn: nearly every turn changes the step, so a turn run on a stale
    // snapshot (two at once) would break the chain of states below.
    const messages = Array.from({ length: 50 }, (_, index) => ({ text: index % 2 ? '/go_back' : '/affirm', displayText: `#${index + 1}` }));
    const responses = await Promise.all(messages.map((body) => sendMessage(server.baseUrl, conversation, body)));
    expect(responses.map((response) => response.status)).toEqual(messages.map(() => 200));
    const repliesByMessage = new Map<string, string[]>();
    for (const [index, response] of responses.entries()) {
      const turn = (await response.json()) as { replies: { text: string }[] };
      repliesByMessage.set(messages[index]!.displayText, turn.replies.map((reply) => reply.text));
    }

    const { transcript } = (await (await get(`/api/conversations/${conversation.id}`, { authorization: `Bearer ${conversation.token}` })).json()) as {
      transcript: { role: string; text: string }[];
    };
    const concurrentLines = transcript.slice(transcript.findIndex((entry) => entry.text === '#1' || /^#\d+$/.test(entry.text)));
    const userLines = concurrentLines.filter((entry) => entry.role === 'user').map((entry) => entry.text);
    expect([...userLines].sort()).toEqual(messages.map((message) => message.displayText).sort());
    // The bot lines after each user line are exactly the replies that message's request received.
    for (const [index, entry] of concurrentLines.entries()) {
      if (entry.role !== 'user') continue;
      const following = concurrentLines.slice(index + 1);
      const botLines = following.slice(0, following.findIndex((next) => next.role === 'user') === -1 ? undefined : following.findIndex((next) => next.role === 'user'));
      expect(botLines.map((line) => line.text)).toEqual(repliesByMessage.get(entry.text));
    }
    const turns = server.store.db
      .prepare('SELECT state_before AS before, state_after AS after FROM turns WHERE conversation_id = ? ORDER BY rowid')
      .all(conversation.id) as { before: string; after: string }[];
    expect(turns).toHaveLength(4 + 50);
    for (let index = 1; index < turns.length; index++) expect(turns[index]!.before).toBe(turns[index - 1]!.after);
    expect(new Set(turns.slice(4).map((turn) => turn.after)).size).toBeGreaterThan(1);
  });
});
