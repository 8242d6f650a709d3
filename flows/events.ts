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
] as const;
export type FaqTopic = (typeof faqTopics)[number];

export type UserEvent =
  | { type: 'user.affirm' }
  | { type: 'user.deny' }
  | { type: 'user.back' }
  | { type: 'user.repeat' }
  | { type: 'user.cancel' }
  | { type: 'user.restart' }
  | { type: 'user.stepHelp' }
  | { type: 'user.unbind' }
  /** A question or problem about verification, typed ("收不到验证码"); `method` when it names one. */
  | { type: 'user.verificationHelp'; method?: VerificationMethod }
  /** The user picked the method the app shows (a button, or just "短信"/"指纹"). */
  | { type: 'user.chooseMethod'; method: VerificationMethod }
  /** The user wants to verify another way ("换一种验证方式"). */
  | { type: 'user.switchMethod' }
  | { type: 'user.ask'; topic: FaqTopic }
  | { type: 'user.human' }
  | { type: 'user.greet' }
  | { type: 'user.thanks' }
  | { type: 'user.goodbye' }
  /** The message held nothing but a secret, such as a bare verification code. */
  | { type: 'user.shareSecret' }
  | { type: 'nlu.fallback' }
  | { type: 'nlu.ambiguous'; candidates: [string, string] };

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

export type FlowOutcome =
  | { outcome: 'completed' | 'cancelled' | 'back' | 'passed' | 'skipped' | 'restart' }
  | { outcome: 'handoff'; reason: HandoffReason };

export function say(key: string, params?: SayParams['params']): { type: 'say'; params: SayParams } {
  return { type: 'say', params: params ? { key, params } : { key } };
}
