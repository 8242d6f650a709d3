import { and, assign, forwardTo, not, raise, sendParent, setup, stateIn } from 'xstate';
import {
  say,
  type FlowOutcome,
  type HandoffReason,
  type OutcomeEvent,
  type ResumeEvent,
  type SayEvent,
  type SayParams,
  type UserEvent,
} from './events.js';
import { verificationMachine } from './verificationMachine.js';

/**
 * The article's seven steps, in order: one list that the states, the progress and the
 * jump-ahead transitions are all derived from. The last one (confirming) holds the verification.
 */
export const unbindSteps = ['openWeChat', 'openMe', 'openPay', 'openWallet', 'findWallet', 'tapUnbind', 'confirmUnbind'] as const;
export type UnbindStep = (typeof unbindSteps)[number];
export const unbindStepCount = unbindSteps.length;

/**
 * Where in the unbinding the user is, as states declare it in `meta.phase`: tapping through the
 * app (steps 1–6), the security verification of step 7, or its final confirmation. Step 7 is only
 * done once the user confirms the wallet is unbound, so a progress bar is not full before that.
 */
export const unbindPhases = ['steps', 'verification', 'confirmation'] as const;
export type UnbindPhase = (typeof unbindPhases)[number];

export interface UnbindInput {
  /** Set when the user said where they already are ("我已经在钱包页面了"): start at that step. */
  startAt?: number | undefined;
}

interface UnbindContext {
  handoffReason: HandoffReason;
  /** The step to start at, from the input; 0 starts with the balance question. */
  startAt: number;
}

type VerificationDone = { type: 'xstate.done.actor.verification'; output: FlowOutcome };

/** Re-enter the current state so its prompt is said again, optionally after a short note. */
const sayAgain = (state: string, ...before: ReturnType<typeof say>[]) => ({ target: state, reenter: true, actions: before });

const stateOfStep = (number: number): UnbindStep => unbindSteps[number - 1]!;

/**
 * One of the article's first six steps: say it, wait for the user, and let them go back, repeat,
 * get help with where to tap, or ask about verification (which comes at step 7).
 */
function step(number: number) {
  const name = stateOfStep(number);
  const previous = number > 1 ? stateOfStep(number - 1) : undefined;
  return {
    meta: { step: number, phase: 'steps' satisfies UnbindPhase },
    entry: [{ type: 'reportProgress' as const, params: { step: number } }, say(`unbind.step${number}`)],
    on: {
      'user.affirm': stateOfStep(number + 1),
      // "没有" / "不行" at a step means the user does not see what was described.
      'user.deny': { actions: say(`unbind.help.step${number}`) },
      'user.stepHelp': { actions: say(`unbind.help.step${number}`) },
      'user.back': previous ?? sayAgain(name, say('unbind.backAtFirstStep')),
      'user.repeat': sayAgain(name),
      'flow.resume': sayAgain(name, say('unbind.resume', { step: number })),
      'user.verificationHelp': sayAgain(name, say('unbind.verificationLater')),
      'user.chooseMethod': sayAgain(name, say('unbind.verificationLater')),
      'user.switchMethod': sayAgain(name, say('unbind.verificationLater')),
    },
  };
}

/**
 * "我已经在钱包页面了": to the step the user says is next, from wherever the flow is; the step the
 * user is already on is said again; without a place, the bot asks which page the user is on.
 */
const jumpTransitions = [
  ...unbindSteps.map((name, index) => ({
    guard: and([{ type: 'jumpsTo' as const, params: { step: index + 1 } }, not(stateIn(`#unbindWallet.${name}`))]),
    target: `#unbindWallet.${name}`,
    actions: say('unbind.skipAhead', { step: index + 1 }),
  })),
  { guard: 'namesAPlace' as const, actions: 'repeatCurrentStep' as const },
  { actions: say('unbind.askPosition') },
];

/**
 * The guided unbinding: a balance check, then the article's 7 steps one at a time; step 7 invokes
 * the verification sub-flow. Ends with an outcome the conversation acts on.
 */
export const unbindWalletMachine = setup({
  types: {
    context: {} as UnbindContext,
    events: {} as UserEvent | ResumeEvent | VerificationDone | SayEvent | OutcomeEvent,
    input: {} as UnbindInput,
    output: {} as FlowOutcome,
  },
  actors: { verification: verificationMachine },
  actions: {
    say: sendParent((_, params: SayParams) => ({ type: 'bot.say' as const, ...params })),
    reportProgress: sendParent((_, params: { step: number }) => ({ type: 'flow.progress' as const, step: params.step, total: unbindStepCount })),
    forwardToVerification: forwardTo('verification'),
    /** The verification sub-flow speaks, and reports what happened, through this flow. */
    relayToParent: sendParent(({ event }) => event as SayEvent | OutcomeEvent),
    /** The user names the step they are on: it is said again, as "再说一遍" would. */
    repeatCurrentStep: raise({ type: 'user.repeat' }),
  },
  guards: {
    verification: ({ event }, outcome: FlowOutcome['outcome']) =>
      event.type === 'xstate.done.actor.verification' && event.output.outcome === outcome,
    jumpsTo: ({ event }, params: { step: number }) => event.type === 'user.jumpAhead' && event.step === params.step,
    namesAPlace: ({ event }) => event.type === 'user.jumpAhead' && event.step !== undefined,
    startsAt: ({ context }, params: { step: number }) => context.startAt === params.step,
  },
}).createMachine({
  id: 'unbindWallet',
  context: ({ input }) => ({
    handoffReason: 'user_request',
    startAt: input?.startAt !== undefined && input.startAt >= 1 && input.startAt <= unbindStepCount ? input.startAt : 0,
  }),
  initial: 'starting',
  on: {
    'bot.say': { actions: 'relayToParent' },
    'bot.outcome': { actions: 'relayToParent' },
    'user.cancel': '.cancelled',
    'user.restart': { target: '.openWeChat', reenter: true, actions: say('unbind.restarted') },
    'user.human': { target: '.handedOff', actions: assign({ handoffReason: 'user_request' }) },
    // Ahead of the bot without saying where: ask which page the user is on.
    'user.jumpAhead': jumpTransitions,
  },
  states: {
    /** Passed through at once: the balance question, or the step the user said they are at. */
    starting: {
      always: [
        ...unbindSteps.map((name, index) => ({
          guard: { type: 'startsAt' as const, params: { step: index + 1 } },
          target: name,
          // Straight from a message such as "我已经在钱包页面了": the balance question was never asked.
          actions: [say('unbind.skipAhead', { step: index + 1 }), say('unbind.balanceReminder')],
        })),
        { target: 'checkingBalance' },
      ],
    },
    checkingBalance: {
      entry: [{ type: 'reportProgress', params: { step: 0 } }, say('unbind.intro'), say('unbind.askBalance')],
      on: {
        'user.affirm': 'withdrawingBalance',
        'user.deny': 'openWeChat',
        'user.back': { actions: [say('unbind.backAtFirstStep'), say('unbind.askBalance')] },
        'user.repeat': { actions: say('unbind.askBalance') },
        'user.stepHelp': { actions: say('unbind.askBalance') },
        'flow.resume': { actions: say('unbind.askBalance') },
        'user.verificationHelp': { actions: [say('unbind.verificationLater'), say('unbind.askBalance')] },
        'user.chooseMethod': { actions: [say('unbind.verificationLater'), say('unbind.askBalance')] },
        'user.switchMethod': { actions: [say('unbind.verificationLater'), say('unbind.askBalance')] },
      },
    },
    withdrawingBalance: {
      entry: say('unbind.balanceAdvice'),
      on: {
        'user.affirm': 'openWeChat',
        'user.deny': sayAgain('withdrawingBalance'),
        'user.back': 'checkingBalance',
        'user.repeat': sayAgain('withdrawingBalance'),
        'user.stepHelp': sayAgain('withdrawingBalance'),
        'flow.resume': sayAgain('withdrawingBalance'),
        'user.verificationHelp': sayAgain('withdrawingBalance', say('unbind.verificationLater')),
        'user.chooseMethod': sayAgain('withdrawingBalance', say('unbind.verificationLater')),
        'user.switchMethod': sayAgain('withdrawingBalance', say('unbind.verificationLater')),
      },
    },
    ...Object.fromEntries(unbindSteps.slice(0, -1).map((name, index) => [name, step(index + 1)])),
    confirmUnbind: {
      meta: { step: unbindStepCount },
      entry: [{ type: 'reportProgress', params: { step: unbindStepCount } }, say('unbind.step7')],
      initial: 'verifying',
      states: {
        verifying: {
          meta: { phase: 'verification' satisfies UnbindPhase },
          invoke: {
            id: 'verification',
            src: 'verification',
            // From the confirmation, "收不到短信验证码" reopens verification at that method's tips.
            input: ({ event }) =>
              event.type === 'user.verificationHelp' || event.type === 'user.chooseMethod'
                ? { method: event.method, reportedProblem: event.type === 'user.verificationHelp' && event.method !== undefined }
                : {},
            onDone: [
              { guard: { type: 'verification', params: 'passed' }, target: 'confirming' },
              { guard: { type: 'verification', params: 'skipped' }, target: 'confirming' },
              { guard: { type: 'verification', params: 'back' }, target: '#unbindWallet.tapUnbind' },
              { guard: { type: 'verification', params: 'restart' }, target: '#unbindWallet.openWeChat', actions: say('unbind.restarted') },
              {
                guard: { type: 'verification', params: 'handoff' },
                target: '#unbindWallet.handedOff',
                actions: assign({
                  handoffReason: ({ event }) => (event.output.outcome === 'handoff' ? event.output.reason : 'verification_failed'),
                }),
              },
              { target: '#unbindWallet.cancelled' },
            ],
          },
          // While verifying, the sub-flow owns the conversation: it gets every user event but a jump.
          on: {
            'user.jumpAhead': jumpTransitions,
            'user.*': { actions: 'forwardToVerification' },
            'flow.resume': { actions: 'forwardToVerification' },
          },
        },
        confirming: {
          meta: { phase: 'confirmation' satisfies UnbindPhase },
          entry: say('unbind.confirm'),
          on: {
            'user.affirm': '#unbindWallet.completed',
            'user.deny': { actions: say('unbind.confirmFailed') },
            'user.stepHelp': { actions: say('unbind.help.step7') },
            'user.back': '#unbindWallet.tapUnbind',
            'user.repeat': sayAgain('confirming'),
            'flow.resume': sayAgain('confirming', say('unbind.resume', { step: unbindStepCount })),
            'user.verificationHelp': 'verifying',
            'user.chooseMethod': 'verifying',
            'user.switchMethod': 'verifying',
          },
        },
      },
    },
    completed: { type: 'final', entry: say('unbind.completed'), output: { outcome: 'completed' } },
    cancelled: { type: 'final', entry: say('unbind.cancelled'), output: { outcome: 'cancelled' } },
    handedOff: { type: 'final', output: ({ context }) => ({ outcome: 'handoff', reason: context.handoffReason }) },
  },
  // The machine's result is the output of the final state it reached.
  output: ({ event }) => event.output as FlowOutcome,
});
