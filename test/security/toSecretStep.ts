import type { RedactionStep } from '../../src/nlu/index.js';

/** What a channel answers a message with: at least the replies and their buttons. */
export interface Answer {
  replies: { id?: string; quickReplies?: { title: string; payload: string }[] }[];
}
export type Send = (text: string, displayText?: string) => Promise<Answer>;

/** The button the user clicks at each turn from a new conversation to step 7's verification. */
const toVerification = ['没有余额', '好了，下一步', '好了，下一步', '好了，下一步', '好了，下一步', '好了，下一步', '好了，下一步'];
const methodButton: Record<RedactionStep, string> = { smsCode: '短信验证码', paymentPassword: '安全问题' };

/**
 * Walks a conversation, by clicking its buttons as the widget does (payload plus title), to the step
 * where a secret is typed: being guided through SMS verification, or through the security question.
 */
export async function walkToSecretStep(send: Send, step: RedactionStep): Promise<Answer> {
  let answer = await send('我要解绑钱包');
  for (const title of [...toVerification, methodButton[step]]) {
    const button = answer.replies.flatMap((reply) => reply.quickReplies ?? []).find((candidate) => candidate.title === title);
    if (!button) throw new Error(`no button "${title}" in ${JSON.stringify(answer.replies.map((reply) => reply.id))}`);
    answer = await send(button.payload, button.title);
  }
  return answer;
}
