import { afterAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { parseServiceHours } from '../../src/support/serviceHours.js';
import { adminToken, agentCall, createAgent, openAgentStream, until } from '../support/agentClient.js';
import { createConversation, sendMessage, serveDuringTests, startTestServer, type Conversation } from '../support/testServer.js';

const allDay = parseServiceHours('00:00-24:00', 'Asia/Shanghai');

interface Line {
  role: string;
  text: string;
  at: string;
  seq: number;
  agentName?: string;
}
interface ConversationView {
  transcript: Line[];
  state: string;
  handoff: { status: string; position?: number; agentName?: string; serviceHours: string; available: boolean } | null;
}

const userView = async (baseUrl: string, conversation: Conversation, after?: number) => {
  const response = await fetch(`${baseUrl}/api/conversations/${conversation.id}${after === undefined ? '' : `?after=${after}`}`, {
    headers: { authorization: `Bearer ${conversation.token}` },
  });
  expect(response.headers.get('cache-control')).toBe('no-store');
  return (await response.json()) as ConversationView;
};
const say = async (baseUrl: string, conversation: Conversation, text: string) =>
  (await (await sendMessage(baseUrl, conversation, { text })).json()) as { replies: { id: string; text: string }[]; deliveredToAgent: boolean; state: string };

async function handedOver(baseUrl: string) {
  const conversation = await createConversation(baseUrl);
  await say(baseUrl, conversation, '转人工');
  return conversation;
}

describe('live handoff over REST', () => {
  const server = serveDuringTests({ adminToken, serviceHours: allDay });

  it('handoff → waiting with position → claim → agent line seen by the user → user line seen by the agent, live → resolve → the bot answers again', async () => {
    const agent = await createAgent(server.baseUrl, '小林');
    expect(agent.token).toMatch(/^agt_[0-9a-f]{12}_/);
    const stream = await openAgentStream(server.baseUrl, agent);
    expect(stream.response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    try {
      const conversation = await createConversation(server.baseUrl);
      const handoff = await say(server.baseUrl, conversation, '我要找人工客服');
      expect(handoff.replies.map((reply) => reply.id)).toEqual(['handoff.created']);
      const waiting = await userView(server.baseUrl, conversation);
      expect(waiting.handoff).toEqual({ status: 'waiting', position: 0, serviceHours: '00:00-24:00', available: true });
      await until(() => stream.events.some((event) => event.event === 'conversation.waiting' && event.data.conversationId === conversation.id));

      const inbox = (await (await agentCall(server.baseUrl, agent, 'GET', '/conversations?status=waiting')).json()) as { conversations: { id: string; status: string; reason: string }[] };
      expect(inbox.conversations).toContainEqual(expect.objectContaining({ id: conversation.id, status: 'waiting', reason: 'user_request' }));

      const claim = await agentCall(server.baseUrl, agent, 'POST', `/conversations/${conversation.id}/claim`);
      expect(claim.status).toBe(200);
      expect(claim.headers.get('cache-control')).toBe('no-store');
      expect(await claim.json()).toMatchObject({ id: conversation.id, status: 'assigned', agent: { id: agent.id, name: '小林' } });
      expect((await userView(server.baseUrl, conversation)).handoff).toMatchObject({ status: 'assigned', agentName: '小林' });

      const posted = await agentCall(server.baseUrl, agent, 'POST', `/conversations/${conversation.id}/messages`, { text: '你好，我是客服小林，请问卡在哪一步了？' });
      expect(posted.status).toBe(201);
      const { message } = (await posted.json()) as { message: Line };
      expect(message).toMatchObject({ role: 'agent', agentName: '小林', text: '你好，我是客服小林，请问卡在哪一步了？' });
      const full = await userView(server.baseUrl, conversation);
      expect(full.transcript.at(-1)).toEqual(message);
      expect(full.transcript.map((line) => line.seq)).toEqual(full.transcript.map((_line, index) => index + 1));
      expect((await userView(server.baseUrl, conversation, message.seq - 1)).transcript).toEqual([message]);
      expect((await userView(server.baseUrl, conversation, message.seq)).transcript).toEqual([]);

      // The user's answer goes to the agent: stored redacted, no bot reply but the warning about the secret.
      const answer = await say(server.baseUrl, conversation, '第 7 步验证不通过，我的手机号13812345678');
      expect(answer.deliveredToAgent).toBe(true);
      expect(answer.replies.map((reply) => reply.id)).toEqual(['secretWarning']);
      const detail = (await (await agentCall(server.baseUrl, agent, 'GET', `/conversations/${conversation.id}`)).json()) as { transcript: Line[]; status: string };
      expect(detail.status).toBe('assigned');
      const userLine = detail.transcript.find((line) => line.role === 'user' && line.text.includes('第 7 步'))!;
      expect(userLine.text).toContain('[手机号]');
      expect(JSON.stringify(detail)).not.toContain('13812345678');
      await until(() => stream.events.some((event) => event.event === 'message.created' && (event.data['message'] as Line).seq === userLine.seq));

      const resolved = await agentCall(server.baseUrl, agent, 'POST', `/conversations/${conversation.id}/resolve`);
      expect(resolved.status).toBe(200);
      const after = await userView(server.baseUrl, conversation);
      expect(after.handoff).toMatchObject({ status: 'resolved' });
      expect(after.state).toBe('idle');
      await until(() => stream.events.some((event) => event.event === 'conversation.resolved' && event.data.conversationId === conversation.id));
      const next = await say(server.baseUrl, conversation, '解绑后还能再绑定吗');
      expect(next.deliveredToAgent).toBe(false);
      expect(next.replies[0]!.id).toBe('faq.rebind');
      expect((await agentCall(server.baseUrl, agent, 'POST', `/conversations/${conversation.id}/messages`, { text: '还在吗' })).status).toBe(409);
    } finally {
      await stream.close();
    }
  });

  it('two agents claiming at once: exactly one 200, one 409 already_claimed', async () => {
    const [first, second] = await Promise.all([createAgent(server.baseUrl, '甲'), createAgent(server.baseUrl, '乙')]);
    for (let round = 0; round < 5; round++) {
      const conversation = await handedOver(server.baseUrl);
      const answers = await Promise.all([first, second].map((agent) => agentCall(server.baseUrl, agent, 'POST', `/conversations/${conversation.id}/claim`)));
      expect(answers.map((answer) => answer.status).sort()).toEqual([200, 409]);
      const refused = answers.find((answer) => answer.status === 409)!;
      expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('already_claimed');
    }
  });

  it('an agent cannot write into a conversation another holds (409), nor one nobody holds (409)', async () => {
    const [holder, other] = await Promise.all([createAgent(server.baseUrl, '丙'), createAgent(server.baseUrl, '丁')]);
    const conversation = await handedOver(server.baseUrl);
    const unclaimed = await agentCall(server.baseUrl, holder, 'POST', `/conversations/${conversation.id}/messages`, { text: '你好' });
    expect(unclaimed.status).toBe(409);
    expect(((await unclaimed.json()) as { error: { code: string } }).error.code).toBe('not_assigned');
    await agentCall(server.baseUrl, holder, 'POST', `/conversations/${conversation.id}/claim`);
    const intruder = await agentCall(server.baseUrl, other, 'POST', `/conversations/${conversation.id}/messages`, { text: '你好' });
    expect(intruder.status).toBe(409);
    expect(await intruder.json()).toMatchObject({ error: { code: 'not_assigned_to_you' } });
    expect((await agentCall(server.baseUrl, other, 'POST', `/conversations/${conversation.id}/resolve`)).status).toBe(409);
    expect((await agentCall(server.baseUrl, holder, 'POST', `/conversations/${conversation.id}/messages`, { text: '' })).status).toBe(400);
  });

  it('a disabled agent\'s token is refused with 401, as are a made-up one and none', async () => {
    const agent = await createAgent(server.baseUrl, '戊');
    expect((await agentCall(server.baseUrl, agent, 'GET', '/conversations')).status).toBe(200);
    const disable = await fetch(`${server.baseUrl}/api/admin/agents/${agent.id}/disable`, { method: 'POST', headers: { authorization: `Bearer ${adminToken}` } });
    expect(disable.status).toBe(200);
    const refused = await agentCall(server.baseUrl, agent, 'GET', '/conversations');
    expect(refused.status).toBe(401);
    expect(await refused.json()).toMatchObject({ error: { code: 'invalid_token' } });
    expect((await agentCall(server.baseUrl, { token: `agt_${agent.id}_${'x'.repeat(32)}` }, 'GET', '/conversations')).status).toBe(401);
    expect((await fetch(`${server.baseUrl}/api/agent/conversations`)).status).toBe(401);
    const listed = (await (await fetch(`${server.baseUrl}/api/admin/agents`, { headers: { authorization: `Bearer ${adminToken}` } })).json()) as { agents: { id: string; disabled: boolean }[] };
    expect(listed.agents).toContainEqual(expect.objectContaining({ id: agent.id, disabled: true }));
    expect(JSON.stringify(listed)).not.toContain(agent.token);
  });

  it('a user who stops waiting leaves the queue: the ticket is resolved as user_left and the bot answers again', async () => {
    const agent = await createAgent(server.baseUrl, '己');
    const conversation = await handedOver(server.baseUrl);
    const left = await say(server.baseUrl, conversation, '/cancel');
    expect(left.replies.map((reply) => reply.id)).toEqual(['handoff.left']);
    expect((await userView(server.baseUrl, conversation)).handoff).toMatchObject({ status: 'resolved' });
    const ticket = (await server.store.currentTicket(conversation.id))!;
    expect(ticket).toMatchObject({ handoffStatus: 'resolved', resolution: 'user_left', status: 'closed' });
    expect((await agentCall(server.baseUrl, agent, 'POST', `/conversations/${conversation.id}/claim`)).status).toBe(409);
    expect((await say(server.baseUrl, conversation, '我要解绑钱包')).state).toMatch(/^unbinding/);
  });
});

describe('nobody available', () => {
  it('outside the service hours: says so with the hours and keeps the ticket waiting for the next agent', async () => {
    // 09:00 in Shanghai, hours 10:00-11:00.
    const server = await startTestServer({ adminToken, serviceHours: parseServiceHours('10:00-11:00', 'Asia/Shanghai'), now: () => new Date('2026-01-05T01:00:00Z') });
    try {
      const agent = await createAgent(server.baseUrl, '庚');
      await agentCall(server.baseUrl, agent, 'GET', '/conversations');
      const conversation = await createConversation(server.baseUrl);
      const result = await say(server.baseUrl, conversation, '转人工');
      expect(result.replies.map((reply) => reply.id)).toEqual(['handoff.nobodyAvailable']);
      expect(result.replies[0]!.text).toContain('10:00-11:00');
      expect((await userView(server.baseUrl, conversation)).handoff).toEqual({ status: 'waiting', position: 0, serviceHours: '10:00-11:00', available: false });
      const waiting = (await (await agentCall(server.baseUrl, agent, 'GET', '/conversations?status=waiting')).json()) as { conversations: { id: string }[] };
      expect(waiting.conversations.map((one) => one.id)).toContain(conversation.id);
    } finally {
      await server.stop();
      server.cleanup();
    }
  }, 30_000);

  it('inside the hours with no agent online: says so too', async () => {
    const server = await startTestServer({ serviceHours: allDay });
    try {
      const conversation = await createConversation(server.baseUrl);
      expect((await say(server.baseUrl, conversation, '转人工')).replies.map((reply) => reply.id)).toEqual(['handoff.nobodyAvailable']);
    } finally {
      await server.stop();
      server.cleanup();
    }
  }, 30_000);
});

describe('an agent reply across a server restart', () => {
  it('is in the transcript after the restart, and the conversation is still assigned', async () => {
    const first = await startTestServer({ adminToken, serviceHours: allDay });
    const agent = await createAgent(first.baseUrl, '辛');
    const conversation = await handedOver(first.baseUrl);
    await agentCall(first.baseUrl, agent, 'POST', `/conversations/${conversation.id}/claim`);
    const posted = (await (await agentCall(first.baseUrl, agent, 'POST', `/conversations/${conversation.id}/messages`, { text: '我来帮你看看' })).json()) as { message: Line };
    await first.stop();

    const second = await startTestServer({ databaseFile: first.databaseFile, adminToken, serviceHours: allDay });
    try {
      const view = await userView(second.baseUrl, conversation);
      expect(view.transcript.at(-1)).toEqual(posted.message);
      expect(view.handoff).toMatchObject({ status: 'assigned', agentName: '辛' });
      expect((await say(second.baseUrl, conversation, '好的谢谢')).deliveredToAgent).toBe(true);
      const again = await agentCall(second.baseUrl, agent, 'POST', `/conversations/${conversation.id}/messages`, { text: '收到' });
      expect(again.status).toBe(201);
      expect(((await again.json()) as { message: Line }).message.seq).toBe(posted.message.seq + 2);
    } finally {
      await second.stop();
      first.cleanup();
    }
  }, 30_000);
});

describe('the widget over the websocket', () => {
  const server = serveDuringTests({ adminToken, serviceHours: allDay });
  const sockets: WebSocket[] = [];
  afterAll(() => sockets.forEach((ws) => ws.close()));

  it('receives the claim, the agent\'s typing and messages live, and the bot\'s note on resolve; the user\'s typing reaches the agent', async () => {
    const agent = await createAgent(server.baseUrl, '小林');
    const stream = await openAgentStream(server.baseUrl, agent);
    try {
      const conversation = await handedOver(server.baseUrl);
      const ws = new WebSocket(server.wsUrl);
      sockets.push(ws);
      const frames: { type: string; [key: string]: unknown }[] = [];
      ws.on('message', (data) => frames.push(JSON.parse(data.toString()) as (typeof frames)[number]));
      await new Promise((resolve) => ws.once('open', resolve));
      ws.send(JSON.stringify({ type: 'hello', conversation: conversation.id, token: conversation.token }));
      await until(() => frames.some((frame) => frame.type === 'ready'));

      await agentCall(server.baseUrl, agent, 'POST', `/conversations/${conversation.id}/claim`);
      await until(() => frames.some((frame) => frame.type === 'handoff.status' && frame['status'] === 'assigned'));
      expect(frames.find((frame) => frame.type === 'handoff.status')).toMatchObject({ agentName: '小林', serviceHours: '00:00-24:00', available: true });
      expect((await agentCall(server.baseUrl, agent, 'POST', `/conversations/${conversation.id}/typing`)).status).toBe(204);
      await until(() => frames.some((frame) => frame.type === 'agent.typing'));
      const posted = (await (await agentCall(server.baseUrl, agent, 'POST', `/conversations/${conversation.id}/messages`, { text: '你好，我在' })).json()) as { message: Line };
      await until(() => frames.some((frame) => frame.type === 'agent.message'));
      expect(frames.find((frame) => frame.type === 'agent.message')).toEqual({ type: 'agent.message', text: '你好，我在', agentName: '小林', at: posted.message.at, seq: posted.message.seq });

      ws.send(JSON.stringify({ type: 'typing' }));
      await until(() => stream.events.some((event) => event.event === 'typing' && event.data.conversationId === conversation.id));
      // A message to the agent gets no bot typing dots and no bot reply.
      const before = frames.length;
      ws.send(JSON.stringify({ type: 'message', text: '卡在第 7 步了' }));
      await until(() => stream.events.some((event) => event.event === 'message.created' && (event.data['message'] as Line).text === '卡在第 7 步了'));
      expect(frames.slice(before).filter((frame) => frame.type === 'typing' || frame.type === 'message')).toEqual([]);

      await agentCall(server.baseUrl, agent, 'POST', `/conversations/${conversation.id}/handback`);
      await until(() => frames.some((frame) => frame.type === 'message' && frame['id'] === 'handoff.handedBack'));
      await until(() => frames.some((frame) => frame.type === 'handoff.status' && frame['status'] === 'resolved'));
    } finally {
      await stream.close();
    }
  });

  it('ends agents\' event streams on shutdown, after heartbeats', async () => {
    const own = await startTestServer({ adminToken, serviceHours: allDay, agentHeartbeatMs: 50 });
    const agent = await createAgent(own.baseUrl, '壬');
    const stream = await openAgentStream(own.baseUrl, agent);
    await until(() => stream.comments() >= 3);
    await own.stop();
    await until(() => stream.ended());
    own.cleanup();
  }, 30_000);
});
