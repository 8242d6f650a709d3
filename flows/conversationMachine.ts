import { assign, emit, enqueueActions, sendTo, setup } from 'xstate';
import {
  faqTopics,
  type FaqTopic,
  type FlowOutcome,
  type HandoffReason,
  type ProgressEvent,
  type SayEvent,
  type SayParams,
  type UserEvent,
} from './events.js';
import { unbindWalletMachine } from './unbindWalletMachine.js';
import { verificationMachine } from './verificationMachine.js';

export interface ConversationContext {
  /** Consecutive messages the bot did not understand (any understood one resets it); the second offers a human. */
  fallbackStreak: number;
  /** The numbered step of the unbinding the user is on, 0 outside it. */
  step: number;
  totalSteps: number;
  /** The last FAQ answered, so "再说一遍" outside a flow repeats it. */
  lastTopic: FaqTopic | undefined;
  handoffReason: HandoffReason | undefined;
}

type FlowDone =
  | { type: 'xstate.done.actor.unbindWallet'; output: FlowOutcome }
  | { type: 'xstate.done.actor.verification'; output: FlowOutcome };

export type ConversationEvent = UserEvent | SayEvent | ProgressEvent | FlowDone;

/** What the bot emits for the channel layer: something to say, or a conversation handed to a human. */
export type ConversationEmitted = SayEvent | { type: 'bot.handoff'; reason: HandoffReason; step: number };

/** Control words only mean something inside a flow; these get the same answer outside one. */
const flowControls = ['user.back', 'user.stepHelp'] as const;

/**
 * What `unbinding` and `verifying` do alike while a child flow runs: controls go to the flow, an
 * answer to the offer of a human is handled here, and digressions are answered before the flow
 * picks up where it was.
 */
const forward = { actions: ['resetFallbacks', 'forwardToFlow'] } as const;
const insideAFlow = {
  'user.affirm': [{ guard: 'humanOffered', target: 'handedOff', actions: 'rememberRepeatedFallback' }, forward],
  'user.deny': [{ guard: 'humanOffered', actions: ['resetFallbacks', 'resumeFlow'] }, forward],
  'user.cancel': [{ guard: 'humanOffered', actions: ['resetFallbacks', 'resumeFlow'] }, forward],
  'user.back': forward,
  'user.repeat': forward,
  'user.restart': forward,
  'user.stepHelp': forward,
  'user.verificationHelp': forward,
  'user.chooseMethod': forward,
  'user.switchMethod': forward,
  'user.human': forward,
  'user.ask': { actions: ['resetFallbacks', 'answerFaq', 'resumeFlow'] },
  'user.greet': { actions: ['resetFallbacks', { type: 'say', params: { key: 'greet.inFlow' } }, 'resumeFlow'] },
  'user.thanks': { actions: ['resetFallbacks', { type: 'say', params: { key: 'thanks.inFlow' } }, 'resumeFlow'] },
  'user.shareSecret': { actions: ['resetFallbacks', 'resumeFlow'] },
  'nlu.ambiguous': { actions: ['resetFallbacks', 'clarify'] },
} as const;

const outcomeIs = (outcome: FlowOutcome['outcome']) => ({ event }: { event: ConversationEvent }) =>
  (event.type === 'xstate.done.actor.unbindWallet' || event.type === 'xstate.done.actor.verification') && event.output.outcome === outcome;

/**
 * The conversation: routes each understood message to an FAQ answer, the guided unbinding, the
 * verification help, a fallback or a human, and lets the user digress without losing their place.
 */
export const conversationMachine = setup({
  types: {
    context: {} as ConversationContext,
    events: {} as ConversationEvent,
    emitted: {} as ConversationEmitted,
  },
  actors: { unbindWallet: unbindWalletMachine, verification: verificationMachine },
  actions: {
    say: emit((_, params: SayParams) => ({ type: 'bot.say' as const, ...params })),
    /** Children speak through the conversation so the channel hears one voice, in order. */
    relaySay: emit(({ event }) => event as SayEvent),
    answerFaq: enqueueActions(({ event, enqueue }) => {
      if (event.type !== 'user.ask') return;
      enqueue.emit({ type: 'bot.say', key: `faq.${event.topic}` });
      enqueue.assign({ lastTopic: event.topic });
    }),
    repeatLastAnswer: emit(({ context }) =>
      context.lastTopic ? { type: 'bot.say' as const, key: `faq.${context.lastTopic}` } : { type: 'bot.say' as const, key: 'noFlowActive' },
    ),
    clarify: emit(({ event }) =>
      event.type === 'nlu.ambiguous' ? { type: 'bot.say' as const, key: 'clarify', choices: [...event.candidates, 'out_of_scope'] } : { type: 'bot.say' as const, key: 'fallback' },
    ),
    // Before step 1 (the balance question) there is no step number to mention.
    sayWithStep: emit(({ context }, params: { key: string }) =>
      context.step > 0 ? { type: 'bot.say' as const, key: params.key, params: { step: context.step } } : { type: 'bot.say' as const, key: `${params.key}.beforeSteps` },
    ),
    resumeFlow: sendTo(({ self }) => Object.values(self.getSnapshot().children)[0]!, { type: 'flow.resume' }),
    forwardToFlow: sendTo(({ self }) => Object.values(self.getSnapshot().children)[0]!, ({ event }) => event),
    trackProgress: assign(({ event }) => (event.type === 'flow.progress' ? { step: event.step, totalSteps: event.total } : {})),
    clearProgress: assign({ step: 0, totalSteps: 0 }),
    countFallback: assign({ fallbackStreak: ({ context }) => context.fallbackStreak + 1 }),
    resetFallbacks: assign({ fallbackStreak: 0 }),
    handOff: emit(({ context }) => ({ type: 'bot.handoff' as const, reason: context.handoffReason ?? 'user_request', step: context.step })),
    rememberFlowHandoffReason: assign({
      handoffReason: ({ event }) =>
        (event.type === 'xstate.done.actor.unbindWallet' || event.type === 'xstate.done.actor.verification') && event.output.outcome === 'handoff'
          ? event.output.reason
          : 'user_request',
    }),
    rememberUserRequest: assign({ handoffReason: 'user_request' as HandoffReason }),
    rememberRepeatedFallback: assign({ handoffReason: 'repeated_fallback' as HandoffReason }),
  },
  guards: {
    fallbackRepeated: ({ context }) => context.fallbackStreak >= 1,
    /** Two misunderstandings in a row, and this is the third: hand over rather than loop. */
    fallbackExhausted: ({ context }) => context.fallbackStreak >= 2,
    /** The last turn asked "要不要帮你转接人工客服？" (the second misunderstanding in a row). */
    humanOffered: ({ context }) => context.fallbackStreak >= 2,
    beforeSteps: ({ context }) => context.step === 0,
    outcomeCompleted: outcomeIs('completed'),
    outcomePassed: outcomeIs('passed'),
    outcomeHandoff: outcomeIs('handoff'),
    outcomeRestart: outcomeIs('restart'),
  },
}).createMachine({
  id: 'conversation',
  context: { fallbackStreak: 0, step: 0, totalSteps: 0, lastTopic: undefined, handoffReason: undefined },
  initial: 'idle',
  on: {
    'bot.say': { actions: 'relaySay' },
    'flow.progress': { actions: 'trackProgress' },
  },
  states: {
    idle: {
      on: {
        'user.greet': { actions: ['resetFallbacks', { type: 'say', params: { key: 'greet' } }] },
        'user.thanks': { actions: ['resetFallbacks', { type: 'say', params: { key: 'thanks' } }] },
        'user.goodbye': { actions: ['resetFallbacks', { type: 'say', params: { key: 'goodbye' } }] },
        'user.ask': { actions: ['resetFallbacks', 'answerFaq'] },
        'user.repeat': { actions: ['resetFallbacks', 'repeatLastAnswer'] },
        'user.unbind': { target: 'unbinding', actions: 'resetFallbacks' },
        'user.restart': { target: 'unbinding', actions: 'resetFallbacks' },
        'user.verificationHelp': { target: 'verifying', actions: 'resetFallbacks' },
        'user.chooseMethod': { target: 'verifying', actions: 'resetFallbacks' },
        'user.switchMethod': { target: 'verifying', actions: 'resetFallbacks' },
        'user.human': { target: 'handedOff', actions: ['resetFallbacks', 'rememberUserRequest'] },
        'user.shareSecret': { actions: ['resetFallbacks', { type: 'say', params: { key: 'anythingElse' } }] },
        'nlu.ambiguous': { actions: ['resetFallbacks', 'clarify'] },
        'nlu.fallback': [
          { guard: 'fallbackExhausted', target: 'handedOff', actions: 'rememberRepeatedFallback' },
          { guard: 'fallbackRepeated', actions: ['countFallback', { type: 'say', params: { key: 'fallback.offerHuman' } }] },
          { actions: ['countFallback', { type: 'say', params: { key: 'fallback' } }] },
        ],
        // Answers to "要不要帮你转接人工客服？"
        'user.affirm': [
          { guard: 'humanOffered', target: 'handedOff', actions: 'rememberRepeatedFallback' },
          { actions: ['resetFallbacks', { type: 'say', params: { key: 'noFlowActive' } }] },
        ],
        'user.deny': [
          { guard: 'humanOffered', actions: ['resetFallbacks', { type: 'say', params: { key: 'anythingElse' } }] },
          { actions: ['resetFallbacks', { type: 'say', params: { key: 'noFlowActive' } }] },
        ],
        // "不用了" to "要不要帮你转接人工客服？" declines the human; it cancels nothing.
        'user.cancel': [
          { guard: 'humanOffered', actions: ['resetFallbacks', { type: 'say', params: { key: 'anythingElse' } }] },
          { actions: ['resetFallbacks', { type: 'say', params: { key: 'noFlowActive' } }] },
        ],
        ...Object.fromEntries(flowControls.map((type) => [type, { actions: ['resetFallbacks', { type: 'say', params: { key: 'noFlowActive' } }] }])),
      },
    },
    unbinding: {
      invoke: {
        id: 'unbindWallet',
        src: 'unbindWallet',
        onDone: [
          { guard: 'outcomeHandoff', target: 'handedOff', actions: 'rememberFlowHandoffReason' },
          { guard: 'outcomeCompleted', target: 'idle', actions: 'clearProgress' },
          { target: 'idle', actions: 'clearProgress' },
        ],
      },
      on: {
        ...insideAFlow,
        'user.goodbye': { actions: { type: 'sayWithStep', params: { key: 'goodbye.inFlow' } } },
        // Asking to unbind again must not silently throw away the progress made so far.
        'user.unbind': [
          { guard: 'beforeSteps', actions: ['resetFallbacks', { type: 'say', params: { key: 'unbind.alreadyInProgress.beforeSteps' } }, 'resumeFlow'] },
          { actions: ['resetFallbacks', { type: 'sayWithStep', params: { key: 'unbind.alreadyInProgress' } }] },
        ],
        'nlu.fallback': [
          { guard: 'fallbackExhausted', target: 'handedOff', actions: 'rememberRepeatedFallback' },
          { guard: 'fallbackRepeated', actions: ['countFallback', { type: 'say', params: { key: 'fallback.offerHuman' } }] },
          // Before step 1 there is no step to point at: repeat the question that is open.
          { guard: 'beforeSteps', actions: ['countFallback', { type: 'say', params: { key: 'fallback.inFlow.beforeSteps' } }, 'resumeFlow'] },
          { actions: ['countFallback', { type: 'sayWithStep', params: { key: 'fallback.inFlow' } }] },
        ],
      },
    },
    verifying: {
      invoke: {
        id: 'verification',
        src: 'verification',
        input: ({ event }) => ({
          method: event.type === 'user.chooseMethod' || event.type === 'user.verificationHelp' ? event.method : undefined,
          // "收不到验证码" opens with the problem; "解绑要验证吗" or a button does not.
          reportedProblem: event.type === 'user.verificationHelp' && event.method !== undefined,
        }),
        onDone: [
          { guard: 'outcomeHandoff', target: 'handedOff', actions: 'rememberFlowHandoffReason' },
          { guard: 'outcomePassed', target: 'idle', actions: { type: 'say', params: { key: 'verify.standalonePassed' } } },
          { guard: 'outcomeRestart', target: 'unbinding' },
          { target: 'idle', actions: { type: 'say', params: { key: 'anythingElse' } } },
        ],
      },
      on: {
        ...insideAFlow,
        'user.goodbye': { target: 'idle', actions: { type: 'say', params: { key: 'goodbye' } } },
        'user.unbind': 'unbinding',
        'nlu.fallback': [
          { guard: 'fallbackExhausted', target: 'handedOff', actions: 'rememberRepeatedFallback' },
          { guard: 'fallbackRepeated', actions: ['countFallback', { type: 'say', params: { key: 'fallback.offerHuman' } }] },
          { actions: ['countFallback', { type: 'say', params: { key: 'fallback' } }, 'resumeFlow'] },
        ],
      },
    },
    /** A ticket is open; the bot still answers FAQs but no longer pretends to handle the case. */
    handedOff: {
      entry: [{ type: 'say', params: { key: 'handoff.created' } }, 'handOff'],
      on: {
        'user.ask': { actions: 'answerFaq' },
        'user.thanks': { actions: { type: 'say', params: { key: 'handoff.thanks' } } },
        'user.goodbye': { actions: { type: 'say', params: { key: 'goodbye' } } },
        'user.*': { actions: { type: 'say', params: { key: 'handoff.waiting' } } },
        'nlu.*': { actions: { type: 'say', params: { key: 'handoff.waiting' } } },
      },
    },
  },
});

export { faqTopics };
