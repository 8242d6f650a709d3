import { assign, forwardTo, sendParent, setup } from 'xstate';
import { say, type FlowOutcome, type HandoffReason, type ResumeEvent, type SayEvent, type SayParams, type UserEvent } from './events.js';
import { verificationMachine } from './verificationMachine.js';

export const unbindStepCount = 7;

interface UnbindContext {
  handoffReason: HandoffReason;
}

type VerificationDone = { type: 'xstate.done.actor.verification'; output: FlowOutcome };

/** Re-enter the current state so its prompt is said again, optionally after a short note. */
const sayAgain = (state: string, ...before: ReturnType<typeof say>[]) => ({ target: state, reenter: true, actions: before });

/**
 * One of the article's first six steps: say it, wait for the user, and let them go back, repeat,
 * get help with where to tap, or ask about verification (which comes at step 7).
 */
function step(number: number, name: string, previous: string | undefined, next: string) {
  return {
    meta: { step: number },
    entry: [{ type: 'reportProgress' as const, params: { step: number } }, say(`unbind.step${number}`)],
    on: {
      'user.affirm': next,
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
 * The guided unbinding: a balance check, then the article's 7 steps one at a time; step 7 invokes
 * the verification sub-flow. Ends with an outcome the conversation acts on.
 */
export const unbindWalletMachine = setup({
  types: {
    context: {} as UnbindContext,
    events: {} as UserEvent | ResumeEvent | VerificationDone | SayEvent,
    output: {} as FlowOutcome,
  },
  actors: { verification: verificationMachine },
  actions: {
    say: sendParent((_, params: SayParams) => ({ type: 'bot.say' as const, ...params })),
    reportProgress: sendParent((_, params: { step: number }) => ({ type: 'flow.progress' as const, step: params.step, total: unbindStepCount })),
    forwardToVerification: forwardTo('verification'),
    relaySay: sendParent(({ event }) => event as SayEvent),
  },
  guards: {
    verification: ({ event }, outcome: FlowOutcome['outcome']) =>
      event.type === 'xstate.done.actor.verification' && event.output.outcome === outcome,
  },
}).createMachine({
  id: 'unbindWallet',
  context: { handoffReason: 'user_request' },
  initial: 'checkingBalance',
  on: {
    // The verification sub-flow speaks through this flow to the conversation.
    'bot.say': { actions: 'relaySay' },
    'user.cancel': '.cancelled',
    'user.restart': { target: '.openWeChat', reenter: true, actions: say('unbind.restarted') },
    'user.human': { target: '.handedOff', actions: assign({ handoffReason: 'user_request' }) },
  },
  states: {
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
    openWeChat: step(1, 'openWeChat', undefined, 'openMe'),
    openMe: step(2, 'openMe', 'openWeChat', 'openPay'),
    openPay: step(3, 'openPay', 'openMe', 'openWallet'),
    openWallet: step(4, 'openWallet', 'openPay', 'findWallet'),
    findWallet: step(5, 'findWallet', 'openWallet', 'tapUnbind'),
    tapUnbind: step(6, 'tapUnbind', 'findWallet', 'confirmUnbind'),
    confirmUnbind: {
      meta: { step: 7 },
      entry: [{ type: 'reportProgress', params: { step: 7 } }, say('unbind.step7')],
      initial: 'verifying',
      states: {
        verifying: {
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
          // While verifying, the sub-flow owns the conversation: it gets every user event.
          on: { 'user.*': { actions: 'forwardToVerification' }, 'flow.resume': { actions: 'forwardToVerification' } },
        },
        confirming: {
          entry: say('unbind.confirm'),
          on: {
            'user.affirm': '#unbindWallet.completed',
            'user.deny': { actions: say('unbind.confirmFailed') },
            'user.stepHelp': { actions: say('unbind.help.step7') },
            'user.back': '#unbindWallet.tapUnbind',
            'user.repeat': sayAgain('confirming'),
            'flow.resume': sayAgain('confirming', say('unbind.resume', { step: 7 })),
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
