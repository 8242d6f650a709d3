/**
 * The language the dialogue machines speak. The channel layer turns each user message into one
 * `user.*` or `nlu.*` event; the machines answer with `bot.*` events naming response ids, never text.
 */

export const verificationMethods = ['sms', 'biometric', 'securityQuestion'] as const;
export type VerificationMethod = (typeof verificationMethods)[number];

/** FAQ intents answered from the article, each with a response `faq.<topic>`. */
export const faqTopics = [
  'records_after_unbind',
  'balance_before_unbind',
  'bind_multiple',
  'bind_wallet',
  'rebind',
  'pay_after_unbind',
  'why_unbind',
  'wallet_wechat_relation',
  /** A question in the domain that the article does not answer: said so honestly, never another topic's answer. */
  'not_covered',
] as const;
export type FaqTopic = (typeof faqTopics)[number];

/** The topics the article answers; `not_covered` is the honest "the article does not say". */
export const answeredTopics = faqTopics.filter((topic) => topic !== 'not_covered');

/**
 * A yes or a no, with the question it answers: the id of the response that asked it, when the
 * bot's last message was a question (`noFlowActive`, `anythingElse` …). Outside a flow, what a yes
 * means depends on what was offered.
 */
type Answer = { question?: string | undefined };

export type UserEvent =
  | ({ type: 'user.affirm' } & Answer)
  | ({ type: 'user.deny' } & Answer)
  | { type: 'user.back' }
  | { type: 'user.repeat' }
  /**
   * `unsure`: the message may mean "stop", but not clearly enough to throw away the user's progress
   * (low confidence, or words the cancel intent does not explain): the bot asks first.
   */
  | { type: 'user.cancel'; unsure?: boolean }
  | { type: 'user.restart' }
  | { type: 'user.stepHelp' }
  | { type: 'user.unbind' }
  /** A question or problem about verification, typed ("收不到验证码"); `method` when it names one. */
  | { type: 'user.verificationHelp'; method?: VerificationMethod }
  /** The user picked the method the app shows (a button, or just "短信"/"指纹"). */
  | { type: 'user.chooseMethod'; method: VerificationMethod }
  /** The user wants to verify another way ("换一种验证方式"). */
  | { type: 'user.switchMethod' }
  /** One or more questions, answered in order; `also`: other requests in the message, offered as buttons. */
  | { type: 'user.ask'; topics: FaqTopic[]; also?: string[] }
  /** The user says where they already are; `step` is the step to do next, when the words say it. */
  | { type: 'user.jumpAhead'; step?: number }
  /** `unsure`: the message may ask for a human, but not clearly: the bot offers one instead of handing over. */
  | { type: 'user.human'; unsure?: boolean }
  | { type: 'user.greet' }
  | { type: 'user.thanks' }
  | { type: 'user.goodbye' }
  /** The message held nothing but a secret, such as a bare verification code. */
  | { type: 'user.shareSecret' }
  | { type: 'nlu.fallback' }
  | { type: 'nlu.ambiguous'; candidates: [string, string] };

/**
 * Sent by the support desk, not the user: the agent holding the conversation resolved it or handed
 * it back to the bot, and the bot answers again.
 */
export type AgentEvent = { type: 'agent.released'; how: 'resolved' | 'handedBack' };

/** How a handover ended, as the conversation reports it (`handoffEnded`). */
export type HandoffEnd = AgentEvent['how'] | 'userLeft';

/** Sent by a parent to a child flow after a digression: say where we are again. */
export type ResumeEvent = { type: 'flow.resume' };

export interface SayParams {
  /** A response id in `intents/responses/`. */
  key: string;
  /** Values for `{placeholders}` in the response text. */
  params?: Record<string, string | number>;
  /** Intents offered as quick replies in addition to the response's own (for clarifying questions). */
  choices?: string[];
}

export type SayEvent = { type: 'bot.say' } & SayParams;
/** A child flow reporting which numbered step the user is on (0 when no step is shown). */
export type ProgressEvent = { type: 'flow.progress'; step: number; total: number };

export const handoffReasons = ['user_request', 'verification_failed', 'repeated_fallback', 'unbind_failed'] as const;
export type HandoffReason = (typeof handoffReasons)[number];
export type HandoffEvent = { type: 'bot.handoff'; reason: HandoffReason; step: number };

/**
 * What happened in a turn, said by the flows as it happens, so the engine, analytics and QA never
 * have to guess it from the response ids (which a support team may rename).
 */
export type Outcome =
  | { kind: 'answered'; topic: FaqTopic }
  | { kind: 'notCovered' }
  | { kind: 'verificationAttempted'; method: VerificationMethod }
  | { kind: 'verificationFailed'; method: VerificationMethod }
  | { kind: 'verificationPassed'; method: VerificationMethod | undefined }
  | { kind: 'verificationSkipped' }
  | { kind: 'unbindStarted'; atStep: number }
  | { kind: 'unbindCompleted' }
  | { kind: 'unbindCancelled'; step: number }
  | { kind: 'handedOff'; reason: HandoffReason }
  /** The handover is over: resolved or handed back by the agent, or the user stopped waiting. */
  | { kind: 'handoffEnded'; how: HandoffEnd };
export type OutcomeEvent = { type: 'bot.outcome'; outcome: Outcome };

export type FlowOutcome =
  | { outcome: 'completed' | 'cancelled' | 'back' | 'passed' | 'skipped' | 'restart' }
  | { outcome: 'handoff'; reason: HandoffReason };

export function say(key: string, params?: SayParams['params']): { type: 'say'; params: SayParams } {
  return { type: 'say', params: params ? { key, params } : { key } };
}
