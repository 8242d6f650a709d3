import { and, assign, emit, enqueueActions, sendTo, setup, stateIn } from 'xstate';
import {
  faqTopics,
  type AgentEvent,
  type FaqTopic,
  type FlowOutcome,
  type HandoffReason,
  type Outcome,
  type OutcomeEvent,
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

/** Both child flows are invoked as `flow`, so the conversation addresses whichever runs by that id. */
type FlowDone = { type: 'xstate.done.actor.flow'; output: FlowOutcome };

export type ConversationEvent = UserEvent | AgentEvent | SayEvent | ProgressEvent | OutcomeEvent | FlowDone;

/** What the bot emits for the channel layer: something to say, what happened, or a conversation handed to a human. */
export type ConversationEmitted = SayEvent | OutcomeEvent | { type: 'bot.handoff'; reason: HandoffReason; step: number };

/**
 * Questions the conversation itself asks outside a flow, by response id: what a yes to each means.
 * A no to an offer closes it politely; a no to "还有什么可以帮你的吗？" says goodbye.
 */
const offersOfTheWalkthrough = ['noFlowActive', 'verify.standalonePassed', 'offer.walkthrough'];
const offersOfAHuman = ['fallback.offerHuman', 'human.confirm', 'faq.not_covered'];

/** Answers after which, outside a flow, the bot offers to walk the user through the unbinding. */
const topicsBeforeUnbinding: readonly FaqTopic[] = faqTopics.filter((topic) => topic !== 'bind_wallet' && topic !== 'not_covered');

const say = (key: string) => ({ type: 'say' as const, params: { key } });
const answers = (questions: string[]) => ({ type: 'answers' as const, params: { questions } });

/**
 * What `unbinding` and `verifying` do alike while a child flow runs: controls go to the flow, an
 * answer to a question the conversation asked is handled here, a stop or a human that was not
 * clearly asked for is confirmed first, and digressions are answered before the flow picks up
 * where it was.
 */
const forward = { actions: ['resetFallbacks', 'forwardToFlow'] } as const;
const insideAFlow = {
  'user.affirm': [
    { guard: 'humanOffered', target: 'requestingHuman', actions: 'rememberRepeatedFallback' },
    { guard: answers(['human.confirm']), target: 'requestingHuman', actions: 'rememberUserRequest' },
    { guard: answers(['unbind.confirmCancel']), actions: ['resetFallbacks', 'cancelFlow'] },
    forward,
  ],
  'user.deny': [
    { guard: 'humanOffered', actions: ['resetFallbacks', 'resumeFlow'] },
    { guard: answers(['human.confirm', 'unbind.confirmCancel']), actions: ['resetFallbacks', 'resumeFlow'] },
    forward,
  ],
  'user.cancel': [
    { guard: 'humanOffered', actions: ['resetFallbacks', 'resumeFlow'] },
    // "算了吧" in the middle of the steps may be a sigh: ask before throwing the progress away.
    { guard: and(['unsure', stateIn('#conversation.unbinding')]), actions: ['resetFallbacks', say('unbind.confirmCancel')] },
    forward,
  ],
  'user.human': [{ guard: 'unsure', actions: ['resetFallbacks', say('human.confirm')] }, forward],
  'user.back': forward,
  'user.repeat': forward,
  'user.restart': forward,
  'user.stepHelp': forward,
  'user.verificationHelp': forward,
  'user.chooseMethod': forward,
  'user.switchMethod': forward,
  'user.jumpAhead': forward,
  'user.ask': { actions: ['resetFallbacks', 'answerFaq', 'resumeFlow'] },
  'user.greet': { actions: ['resetFallbacks', say('greet.inFlow'), 'resumeFlow'] },
  'user.thanks': { actions: ['resetFallbacks', say('thanks.inFlow'), 'resumeFlow'] },
  'user.shareSecret': { actions: ['resetFallbacks', 'resumeFlow'] },
  'nlu.ambiguous': { actions: ['resetFallbacks', 'clarify'] },
} as const;

const outcomeIs = (outcome: FlowOutcome['outcome']) => ({ event }: { event: ConversationEvent }) =>
  event.type === 'xstate.done.actor.flow' && event.output.outcome === outcome;

const outcomeEvent = (outcome: Outcome): OutcomeEvent => ({ type: 'bot.outcome', outcome });

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
    /** Children speak, and say what happened, through the conversation so the channel hears one voice, in order. */
    relay: emit(({ event }) => event as SayEvent | OutcomeEvent),
    /** Each question of the message in order, then the other requests as buttons. */
    answerFaq: enqueueActions(({ event, enqueue, self }) => {
      if (event.type !== 'user.ask') return;
      const inFlow = self.getSnapshot().value !== 'idle';
      // "…？要怎么解绑？": the unbinding itself starts after the answers (see `asksToUnbindToo`).
      const also = (event.also ?? []).filter((intent) => intent !== 'unbind_wallet');
      event.topics.forEach((topic, index) => {
        const last = index === event.topics.length - 1;
        const key = `faq.${topic}`;
        const choices = last && also.length ? { choices: also } : {};
        enqueue.emit({ type: 'bot.say', key, ...choices });
        enqueue.emit(outcomeEvent(topic === 'not_covered' ? { kind: 'notCovered' } : { kind: 'answered', topic }));
      });
      const answered = event.topics.filter((topic) => topic !== 'not_covered');
      if (answered.length) enqueue.assign({ lastTopic: answered.at(-1) });
      // A clear next step, asked as a question with an answer path ("好" starts, "不用" closes).
      const lastTopic = event.topics.at(-1)!;
      if (!inFlow && topicsBeforeUnbinding.includes(lastTopic) && !event.also?.length) {
        enqueue.emit({ type: 'bot.say', key: 'offer.walkthrough' });
      }
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
    resumeFlow: sendTo('flow', { type: 'flow.resume' }),
    forwardToFlow: sendTo('flow', ({ event }) => event),
    /** "确定要停止解绑吗？" answered yes: the flow gets the cancel it was asked about. */
    cancelFlow: sendTo('flow', { type: 'user.cancel' }),
    trackProgress: assign(({ event }) => (event.type === 'flow.progress' ? { step: event.step, totalSteps: event.total } : {})),
    clearProgress: assign({ step: 0, totalSteps: 0 }),
    countFallback: assign({ fallbackStreak: ({ context }) => context.fallbackStreak + 1 }),
    resetFallbacks: assign({ fallbackStreak: 0 }),
    handOff: enqueueActions(({ context, enqueue, check }) => {
      const reason = context.handoffReason ?? 'user_request';
      // Only what is true: an agent will answer here, or nobody can now (and when someone can).
      enqueue.emit({ type: 'bot.say', key: check('agentAvailable') ? 'handoff.created' : 'handoff.nobodyAvailable' });
      enqueue.emit({ type: 'bot.handoff', reason, step: context.step });
      enqueue.emit(outcomeEvent({ kind: 'handedOff', reason }));
    }),
    /** The user stopped waiting: the bot answers again. */
    leaveQueue: enqueueActions(({ enqueue }) => {
      enqueue.emit({ type: 'bot.say', key: 'handoff.left' });
      enqueue.emit(outcomeEvent({ kind: 'handoffEnded', how: 'userLeft' }));
    }),
    /** The agent resolved the conversation or handed it back: the user is told, the bot answers again. */
    sayReleased: enqueueActions(({ event, enqueue }) => {
      if (event.type !== 'agent.released') return;
      enqueue.emit({ type: 'bot.say', key: event.how === 'resolved' ? 'handoff.resolved' : 'handoff.handedBack' });
      enqueue.emit(outcomeEvent({ kind: 'handoffEnded', how: event.how }));
    }),
    forgetHandoff: assign({ handoffReason: undefined, fallbackStreak: 0 }),
    reportStarted: emit(({ event }) => outcomeEvent({ kind: 'unbindStarted', atStep: event.type === 'user.jumpAhead' ? (event.step ?? 0) : 0 })),
    reportCompleted: emit(() => outcomeEvent({ kind: 'unbindCompleted' })),
    reportCancelled: emit(({ context }) => outcomeEvent({ kind: 'unbindCancelled', step: context.step })),
    rememberFlowHandoffReason: assign({
      handoffReason: ({ event }) => (event.type === 'xstate.done.actor.flow' && event.output.outcome === 'handoff' ? event.output.reason : 'user_request'),
    }),
    rememberUserRequest: assign({ handoffReason: 'user_request' as HandoffReason }),
    rememberRepeatedFallback: assign({ handoffReason: 'repeated_fallback' as HandoffReason }),
  },
  guards: {
    /**
     * Whether an agent can answer now (inside service hours, one online). The server provides the
     * real check; on its own the conversation assumes someone is there.
     */
    agentAvailable: () => true,
    /** Whether a new ticket may be opened now; the server limits them per address and overall. */
    ticketAllowed: () => true,
    fallbackRepeated: ({ context }) => context.fallbackStreak >= 1,
    /** Two misunderstandings in a row, and this is the third: hand over rather than loop. */
    fallbackExhausted: ({ context }) => context.fallbackStreak >= 2,
    /** The last turn asked "要不要帮你转接人工客服？" (the second misunderstanding in a row). */
    humanOffered: ({ context }) => context.fallbackStreak >= 2,
    beforeSteps: ({ context }) => context.step === 0,
    /** The yes or no answers one of these questions (the response the bot last asked). */
    // Params typed loosely: xstate's enqueueActions cannot infer a guard's params type.
    answers: ({ event }, params: unknown) =>
      (event.type === 'user.affirm' || event.type === 'user.deny') && event.question !== undefined && (params as { questions: string[] }).questions.includes(event.question),
    onlyNotCovered: ({ event }) => event.type === 'user.ask' && event.topics.every((topic) => topic === 'not_covered'),
    asksToUnbindToo: ({ event }) => event.type === 'user.ask' && (event.also ?? []).includes('unbind_wallet'),
    unsure: ({ event }) => (event.type === 'user.cancel' || event.type === 'user.human') && event.unsure === true,
    outcomeCompleted: outcomeIs('completed'),
    outcomeCancelled: outcomeIs('cancelled'),
    outcomePassed: outcomeIs('passed'),
    outcomeHandoff: outcomeIs('handoff'),
    outcomeRestart: outcomeIs('restart'),
  },
}).createMachine({
  id: 'conversation',
  context: { fallbackStreak: 0, step: 0, totalSteps: 0, lastTopic: undefined, handoffReason: undefined },
  initial: 'idle',
  on: {
    'bot.say': { actions: 'relay' },
    'bot.outcome': { actions: 'relay' },
    'flow.progress': { actions: 'trackProgress' },
    // A release that finds the conversation elsewhere (restarted after a content update): still say so.
    'agent.released': { actions: 'sayReleased' },
  },
  states: {
    idle: {
      on: {
        'user.greet': { actions: ['resetFallbacks', say('greet')] },
        'user.thanks': { actions: ['resetFallbacks', say('thanks')] },
        'user.goodbye': { actions: ['resetFallbacks', say('goodbye')] },
        'user.ask': [
          { guard: 'asksToUnbindToo', target: 'unbinding', actions: ['resetFallbacks', 'answerFaq', 'reportStarted'] },
          { actions: ['resetFallbacks', 'answerFaq'] },
        ],
        'user.repeat': { actions: ['resetFallbacks', 'repeatLastAnswer'] },
        'user.unbind': { target: 'unbinding', actions: ['resetFallbacks', 'reportStarted'] },
        'user.restart': { target: 'unbinding', actions: ['resetFallbacks', 'reportStarted'] },
        'user.jumpAhead': { target: 'unbinding', actions: ['resetFallbacks', 'reportStarted'] },
        'user.verificationHelp': { target: 'verifying', actions: 'resetFallbacks' },
        'user.chooseMethod': { target: 'verifying', actions: 'resetFallbacks' },
        'user.switchMethod': { target: 'verifying', actions: 'resetFallbacks' },
        'user.human': [
          { guard: 'unsure', actions: ['resetFallbacks', say('human.confirm')] },
          { target: 'requestingHuman', actions: ['resetFallbacks', 'rememberUserRequest'] },
        ],
        'user.shareSecret': { actions: ['resetFallbacks', say('anythingElse')] },
        'nlu.ambiguous': { actions: ['resetFallbacks', 'clarify'] },
        'nlu.fallback': [
          { guard: 'fallbackExhausted', target: 'requestingHuman', actions: 'rememberRepeatedFallback' },
          { guard: 'fallbackRepeated', actions: ['countFallback', say('fallback.offerHuman')] },
          { actions: ['countFallback', say('fallback')] },
        ],
        // A yes takes what the last question offered; with none open, the bot says nothing is running and offers the steps.
        'user.affirm': [
          { guard: 'humanOffered', target: 'requestingHuman', actions: 'rememberRepeatedFallback' },
          { guard: answers(offersOfAHuman), target: 'requestingHuman', actions: ['resetFallbacks', 'rememberUserRequest'] },
          { guard: answers(offersOfTheWalkthrough), target: 'unbinding', actions: ['resetFallbacks', 'reportStarted'] },
          { guard: answers(['anythingElse']), actions: ['resetFallbacks', say('anythingElse.go')] },
          { actions: ['resetFallbacks', say('noFlowActive')] },
        ],
        // A no closes what was offered; "没有了" to "还有什么可以帮你的吗？" ends the conversation politely.
        'user.deny': [
          { guard: 'humanOffered', actions: ['resetFallbacks', say('anythingElse')] },
          { guard: answers(['anythingElse']), actions: ['resetFallbacks', say('goodbye')] },
          { actions: ['resetFallbacks', say('offer.declined')] },
        ],
        // "不用了" to "要不要帮你转接人工客服？" declines the human; with nothing running it cancels nothing.
        'user.cancel': [
          { guard: 'humanOffered', actions: ['resetFallbacks', say('anythingElse')] },
          { actions: ['resetFallbacks', say('offer.declined')] },
        ],
        'user.back': { actions: ['resetFallbacks', say('noFlowActive')] },
        'user.stepHelp': { actions: ['resetFallbacks', say('noFlowActive')] },
      },
    },
    unbinding: {
      invoke: {
        id: 'flow',
        src: 'unbindWallet',
        input: ({ event }) => ({ startAt: event.type === 'user.jumpAhead' ? event.step : undefined }),
        onDone: [
          { guard: 'outcomeHandoff', target: 'requestingHuman', actions: 'rememberFlowHandoffReason' },
          { guard: 'outcomeCompleted', target: 'idle', actions: ['reportCompleted', 'clearProgress'] },
          { guard: 'outcomeCancelled', target: 'idle', actions: ['reportCancelled', 'clearProgress'] },
          { target: 'idle', actions: 'clearProgress' },
        ],
      },
      on: {
        ...insideAFlow,
        'user.goodbye': { actions: { type: 'sayWithStep', params: { key: 'goodbye.inFlow' } } },
        // Asking to unbind again must not silently throw away the progress made so far.
        'user.unbind': [
          { guard: 'beforeSteps', actions: ['resetFallbacks', say('unbind.alreadyInProgress.beforeSteps'), 'resumeFlow'] },
          { actions: ['resetFallbacks', { type: 'sayWithStep', params: { key: 'unbind.alreadyInProgress' } }] },
        ],
        'nlu.fallback': [
          { guard: 'fallbackExhausted', target: 'requestingHuman', actions: 'rememberRepeatedFallback' },
          { guard: 'fallbackRepeated', actions: ['countFallback', say('fallback.offerHuman')] },
          // Before step 1 there is no step to point at: repeat the question that is open.
          { guard: 'beforeSteps', actions: ['countFallback', say('fallback.inFlow.beforeSteps'), 'resumeFlow'] },
          { actions: ['countFallback', { type: 'sayWithStep', params: { key: 'fallback.inFlow' } }] },
        ],
      },
    },
    verifying: {
      invoke: {
        id: 'flow',
        src: 'verification',
        input: ({ event }) => ({
          method: event.type === 'user.chooseMethod' || event.type === 'user.verificationHelp' ? event.method : undefined,
          // "收不到验证码" opens with the problem; "解绑要验证吗" or a button does not.
          reportedProblem: event.type === 'user.verificationHelp' && event.method !== undefined,
        }),
        onDone: [
          { guard: 'outcomeHandoff', target: 'requestingHuman', actions: 'rememberFlowHandoffReason' },
          { guard: 'outcomePassed', target: 'idle', actions: say('verify.standalonePassed') },
          { guard: 'outcomeRestart', target: 'unbinding', actions: 'reportStarted' },
          { target: 'idle', actions: say('anythingElse') },
        ],
      },
      on: {
        ...insideAFlow,
        // "好" to "你的手机上显示的是哪一种？" outside the steps: the user is not at that screen yet, so
        // the steps, which end with it, are the way on.
        'user.affirm': [
          { guard: answers(['verify.askMethod', 'verify.methodHelp']), target: 'unbinding', actions: ['resetFallbacks', 'reportStarted'] },
          ...insideAFlow['user.affirm'],
        ],
        'user.goodbye': { target: 'idle', actions: say('goodbye') },
        'user.unbind': { target: 'unbinding', actions: 'reportStarted' },
        'user.jumpAhead': { target: 'unbinding', actions: 'reportStarted' },
        'nlu.fallback': [
          { guard: 'fallbackExhausted', target: 'requestingHuman', actions: 'rememberRepeatedFallback' },
          { guard: 'fallbackRepeated', actions: ['countFallback', say('fallback.offerHuman')] },
          { actions: ['countFallback', say('fallback'), 'resumeFlow'] },
        ],
      },
    },
    /**
     * Asked for a human. A ticket is opened unless the server refuses one now (too many requests
     * for a human from this address or overall): then the user is told, and the bot answers on.
     */
    requestingHuman: {
      always: [{ guard: 'ticketAllowed', target: 'handedOff' }, { target: 'idle', actions: ['forgetHandoff', say('handoff.busy')] }],
    },
    /**
     * A ticket is open. While it waits the bot still answers FAQs but no longer pretends to handle
     * the case; once an agent holds it the user's messages go to the agent and never reach here.
     */
    handedOff: {
      entry: 'handOff',
      exit: 'forgetHandoff',
      on: {
        'agent.released': { target: 'idle', actions: 'sayReleased' },
        // "不等了" / the button: back to the bot. A vague stop ("算了吧") is asked about first.
        'user.cancel': [{ guard: 'unsure', actions: say('handoff.confirmLeave') }, { target: 'idle', actions: 'leaveQueue' }],
        'user.affirm': [{ guard: answers(['handoff.confirmLeave']), target: 'idle', actions: 'leaveQueue' }, { actions: say('handoff.waiting') }],
        // What the article cannot answer is what the waiting human is for.
        'user.ask': [{ guard: 'onlyNotCovered', actions: say('handoff.waiting') }, { actions: 'answerFaq' }],
        'user.thanks': { actions: say('handoff.thanks') },
        'user.goodbye': { actions: say('goodbye') },
        'user.*': { actions: say('handoff.waiting') },
        'nlu.*': { actions: say('handoff.waiting') },
      },
    },
  },
});

export { faqTopics };
