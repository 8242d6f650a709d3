import { describe, expect, it } from 'vitest';
import { loadContent } from '../../src/content/loadContent.js';
import { parseServiceHours } from '../../src/support/serviceHours.js';
import { adminToken, agentCall, createAgent } from '../support/agentClient.js';
import { createConversation, sendMessage, serveDuringTests } from '../support/testServer.js';

const responses = loadContent().responses;

describe('agent assist: the suggested reply', () => {
  const server = serveDuringTests({ adminToken, serviceHours: parseServiceHours('00:00-24:00') });

  const suggestionAfter = async (...messages: string[]) => {
    const agent = await createAgent(server.baseUrl, '小林');
    const conversation = await createConversation(server.baseUrl);
    await sendMessage(server.baseUrl, conversation, { text: '转人工' });
    await agentCall(server.baseUrl, agent, 'POST', `/conversations/${conversation.id}/claim`);
    for (const text of messages) await sendMessage(server.baseUrl, conversation, { text });
    const detail = (await (await agentCall(server.baseUrl, agent, 'GET', `/conversations/${conversation.id}`)).json()) as { suggestion?: { responseId: string; text: string } };
    return detail.suggestion;
  };

  it('is the article\'s answer to the user\'s last message, for the agent to send as is or edit', async () => {
    expect(await suggestionAfter('你好', '解绑以后还能重新绑定吗')).toEqual({ responseId: 'faq.rebind', text: responses.get('faq.rebind')!.text });
  });

  it('is in the script the user writes', async () => {
    const suggestion = await suggestionAfter('解綁以後還能重新綁定嗎');
    expect(suggestion?.responseId).toBe('faq.rebind');
    expect(suggestion?.text).not.toBe(responses.get('faq.rebind')!.text);
  });

  it('is absent when the article does not answer it, or it is no question', async () => {
    expect(await suggestionAfter('解绑要收手续费吗')).toBeUndefined();
    expect(await suggestionAfter('好的谢谢')).toBeUndefined();
  });
});
