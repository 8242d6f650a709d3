import { createConversation, sendMessage, type Conversation } from './testServer.js';

/** Real conversations through the REST API, as users would make them. */
export async function seedConversations(baseUrl: string): Promise<{ completed: Conversation; handedOff: Conversation; lost: Conversation; faq: Conversation }> {
  const say = async (conversation: Conversation, ...texts: string[]) => {
    for (const text of texts) {
      const response = await sendMessage(baseUrl, conversation, { text });
      if (response.status !== 200) throw new Error(`${text}: ${response.status}`);
    }
  };
  const completed = await createConversation(baseUrl);
  await say(completed, '我要解绑钱包', '/deny', '/affirm', '/affirm', '/affirm', '/affirm', '/affirm', '/affirm', '/verification_help{"method":"sms"}', '/affirm', '/affirm');
  const handedOff = await createConversation(baseUrl);
  await say(handedOff, '/unbind_wallet', '/deny', '/affirm', '/affirm', '/affirm', '/affirm', '/affirm', '/affirm', '/verification_help{"method":"biometric"}', '/deny', '/deny', '/deny', '/contact_human');
  const lost = await createConversation(baseUrl);
  await say(lost, 'asdfghjkl', '微信怎么注销账号', '/records_after_unbind');
  const faq = await createConversation(baseUrl);
  // One question the article answers, one it does not.
  await say(faq, '解绑后还能用微信支付吗', '解绑要手续费吗');
  const rating = await fetch(`${baseUrl}/api/conversations/${faq.id}/rating`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${faq.token}` },
    body: JSON.stringify({ helpful: true }),
  });
  if (rating.status !== 204) throw new Error(`rating: ${rating.status}`);
  await createConversation(baseUrl); // opened, never used
  return { completed, handedOff, lost, faq };
}

