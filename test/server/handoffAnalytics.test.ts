import { describe, expect, it } from 'vitest';
import { parseServiceHours } from '../../src/support/serviceHours.js';
import { adminToken, agentCall, createAgent } from '../support/agentClient.js';
import { createConversation, sendMessage, serveDuringTests } from '../support/testServer.js';

describe('GET /api/admin/analytics: handoffs', () => {
  const server = serveDuringTests({ adminToken, serviceHours: parseServiceHours('00:00-24:00') });

  it('counts requests, how they ended, the waits and each agent\'s work; deflection keeps its definition', async () => {
    const lin = await createAgent(server.baseUrl, '小林');
    await new Promise((resolve) => setTimeout(resolve, 5));
    const wang = await createAgent(server.baseUrl, '小王');
    const handOver = async () => {
      const conversation = await createConversation(server.baseUrl);
      await sendMessage(server.baseUrl, conversation, { text: '转人工' });
      return conversation;
    };
    const resolved = await handOver();
    await agentCall(server.baseUrl, lin, 'POST', `/conversations/${resolved.id}/claim`);
    await agentCall(server.baseUrl, lin, 'POST', `/conversations/${resolved.id}/messages`, { text: '你好' });
    await agentCall(server.baseUrl, lin, 'POST', `/conversations/${resolved.id}/messages`, { text: '已经帮你处理好了' });
    await agentCall(server.baseUrl, lin, 'POST', `/conversations/${resolved.id}/resolve`);
    const handedBack = await handOver();
    await agentCall(server.baseUrl, wang, 'POST', `/conversations/${handedBack.id}/claim`);
    await agentCall(server.baseUrl, wang, 'POST', `/conversations/${handedBack.id}/handback`);
    const left = await handOver();
    await sendMessage(server.baseUrl, left, { text: '不等了' });
    await handOver();

    const analytics = (await (await fetch(`${server.baseUrl}/api/admin/analytics`, { headers: { authorization: `Bearer ${adminToken}` } })).json()) as {
      totals: { handedOff: number; engaged: number; deflectionRate: number };
      handoffs: Record<string, unknown> & { perAgent: unknown[] };
    };
    expect(analytics.handoffs).toMatchObject({ requested: 4, resolvedByAgent: 1, handedBack: 1, userLeft: 1 });
    expect(analytics.handoffs['medianWaitSeconds']).toBeGreaterThanOrEqual(0);
    expect(analytics.handoffs['medianFirstReplySeconds']).toBeGreaterThanOrEqual(0);
    expect(analytics.handoffs.perAgent).toEqual([
      { id: lin.id, name: '小林', claimed: 1, resolved: 1, messages: 2 },
      { id: wang.id, name: '小王', claimed: 1, resolved: 0, messages: 0 },
    ]);
    // A conversation handed over is not deflected, however the handover ended.
    expect(analytics.totals).toMatchObject({ engaged: 4, handedOff: 4, deflectionRate: 0 });
  });
});
