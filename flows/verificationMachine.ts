import { assign, sendParent, setup } from 'xstate';
import { say, type FlowOutcome, type Outcome, type ResumeEvent, type SayParams, type UserEvent, type VerificationMethod } from './events.js';

export interface VerificationInput {
  /** Already known when the user named it ("收不到短信验证码"). */
  method?: VerificationMethod | undefined;
  /** The user opened with a problem report, so the troubleshooting starts at once. */
  reportedProblem?: boolean | undefined;
}

interface VerificationContext {
  method: VerificationMethod | undefined;
  /** Which troubleshooting tip of the method's list the user is on. */
  tipIndex: number;
  /** The user has reported that verification failed at least once. */
  hasFailed: boolean;
  reportedProblem: boolean;
}

/** The article's advice for each method, in the order worth trying. Exported so start-up can check each id has a response. */
export const troubleshootingTips: Record<VerificationMethod, string[]> = {
  sms: ['verify.tip.signal', 'verify.tip.phoneNumber'],
  biometric: ['verify.tip.restart', 'verify.tip.otherMethod'],
  securityQuestion: ['verify.tip.checkAnswer', 'verify.tip.otherMethod'],
};

const outcome = (value: Outcome) => ({ type: 'bot.outcome' as const, outcome: value });

const methodOf = (event: UserEvent | ResumeEvent) =>
  event.type === 'user.chooseMethod' || event.type === 'user.verificationHelp' ? event.method : undefined;

/**
 * Security verification while unbinding: which method the app shows, how to pass it, and the
 * article's troubleshooting when it fails; after that, a human. Reports its result as output.
 */
export const verificationMachine = setup({
  types: {
    context: {} as VerificationContext,
    events: {} as UserEvent | ResumeEvent,
    input: {} as VerificationInput,
    output: {} as FlowOutcome,
  },
  actions: {
    say: sendParent((_, params: SayParams) => ({ type: 'bot.say' as const, ...params })),
    /** Says what happened to the verification, for analytics: guided, failed or passed, by method. */
    reportAttempt: sendParent(({ context }) => outcome({ kind: 'verificationAttempted', method: context.method ?? 'sms' })),
    reportFailure: sendParent(({ context }) => outcome({ kind: 'verificationFailed', method: context.method ?? 'sms' })),
    reportPassed: sendParent(({ context }) => outcome({ kind: 'verificationPassed', method: context.method })),
    reportSkipped: sendParent(() => outcome({ kind: 'verificationSkipped' })),
    sayMethodGuide: sendParent(({ context }) => ({ type: 'bot.say' as const, key: `verify.guide.${context.method ?? 'sms'}` })),
    sayCurrentTip: sendParent(({ context }) => ({
      type: 'bot.say' as const,
      key: troubleshootingTips[context.method ?? 'sms'][context.tipIndex]!,
    })),
    rememberMethod: assign({ method: ({ context, event }) => methodOf(event) ?? context.method, tipIndex: 0 }),
    nextTip: assign({ tipIndex: ({ context }) => context.tipIndex + 1 }),
  },
  guards: {
    methodKnown: ({ context }) => context.method !== undefined,
    problemWithKnownMethod: ({ context }) => context.method !== undefined && context.reportedProblem,
    namesMethod: ({ event }) => methodOf(event) !== undefined,
    namesOtherMethod: ({ context, event }) => methodOf(event) !== undefined && methodOf(event) !== context.method,
    hasMoreTips: ({ context }) => context.tipIndex + 1 < troubleshootingTips[context.method ?? 'sms'].length,
  },
}).createMachine({
  id: 'verification',
  context: ({ input }) => ({ method: input.method, tipIndex: 0, hasFailed: false, reportedProblem: input.reportedProblem ?? false }),
  initial: 'start',
  on: {
    'user.cancel': '.stopped',
    'user.human': '.handedOff',
    'user.chooseMethod': { target: '.guidingMethod', actions: 'rememberMethod', reenter: true },
    'user.switchMethod': { target: '.choosingMethod', reenter: true },
  },
  states: {
    start: {
      always: [
        { guard: 'problemWithKnownMethod', target: 'troubleshooting' },
        { guard: 'methodKnown', target: 'guidingMethod' },
        { target: 'choosingMethod' },
      ],
    },
    choosingMethod: {
      entry: say('verify.askMethod'),
      on: {
        // "没有要求验证": the article says the system *may* ask; without it the unbinding goes on.
        'user.deny': 'skipped',
        'user.back': 'wentBack',
        'user.repeat': { target: 'choosingMethod', reenter: true },
        'flow.resume': { target: 'choosingMethod', reenter: true },
        'user.stepHelp': { actions: say('verify.methodHelp') },
        // "收不到短信验证码" names the method and the problem: straight to that method's troubleshooting.
        'user.verificationHelp': [
          { guard: 'namesMethod', target: 'troubleshooting', actions: 'rememberMethod' },
          { actions: say('verify.methodHelp') },
        ],
        'user.affirm': { actions: say('verify.methodHelp') },
        'user.restart': 'restartRequested',
      },
    },
    guidingMethod: {
      entry: ['reportAttempt', 'sayMethodGuide'],
      on: {
        'user.affirm': 'passed',
        'user.deny': 'troubleshooting',
        // "收不到验证码" / "指纹不行" while being guided is a failure report, not a new question;
        // naming another method ("其实是刷脸，失败了") switches to that method's troubleshooting.
        'user.verificationHelp': [{ guard: 'namesOtherMethod', target: 'troubleshooting', actions: 'rememberMethod' }, { target: 'troubleshooting' }],
        'user.stepHelp': 'troubleshooting',
        'user.back': 'choosingMethod',
        'user.repeat': { target: 'guidingMethod', reenter: true },
        'flow.resume': { target: 'guidingMethod', reenter: true },
        'user.restart': 'restartRequested',
      },
    },
    troubleshooting: {
      entry: [assign({ hasFailed: true }), 'reportFailure', 'sayCurrentTip'],
      on: {
        'user.affirm': 'passed',
        'user.deny': [{ guard: 'hasMoreTips', target: 'troubleshooting', reenter: true, actions: 'nextTip' }, { target: 'offeringHuman' }],
        // "还是没收到" is the same as "still not working"; a problem with another method starts its tips.
        'user.verificationHelp': [
          { guard: 'namesOtherMethod', target: 'troubleshooting', reenter: true, actions: 'rememberMethod' },
          { guard: 'hasMoreTips', target: 'troubleshooting', reenter: true, actions: 'nextTip' },
          { target: 'offeringHuman' },
        ],
        'user.stepHelp': { target: 'troubleshooting', reenter: true },
        'user.back': 'guidingMethod',
        'user.repeat': { target: 'troubleshooting', reenter: true },
        'flow.resume': { target: 'troubleshooting', reenter: true },
        'user.restart': 'restartRequested',
      },
    },
    /** "要我帮你转接人工客服吗？": yes hands off, no keeps the user here, "再试一次" tries again. */
    offeringHuman: {
      entry: say('verify.offerHuman'),
      on: {
        'user.affirm': 'handedOff',
        'user.deny': { target: 'choosingMethod', actions: say('verify.declinedHuman') },
        // "不用了" here declines the human; it does not stop the unbinding.
        'user.cancel': { target: 'choosingMethod', actions: say('verify.declinedHuman') },
        'user.repeat': { target: 'guidingMethod', actions: assign({ tipIndex: 0 }) },
        'user.verificationHelp': [{ guard: 'namesMethod', target: 'troubleshooting', actions: 'rememberMethod' }, { target: 'choosingMethod' }],
        'user.stepHelp': 'choosingMethod',
        'user.back': 'troubleshooting',
        'flow.resume': { target: 'offeringHuman', reenter: true },
        'user.restart': 'restartRequested',
      },
    },
    passed: { type: 'final', entry: ['reportPassed', say('verify.passed')], output: { outcome: 'passed' } },
    skipped: { type: 'final', entry: ['reportSkipped', say('verify.skipped')], output: { outcome: 'skipped' } },
    wentBack: { type: 'final', output: { outcome: 'back' } },
    stopped: { type: 'final', output: { outcome: 'cancelled' } },
    restartRequested: { type: 'final', output: { outcome: 'restart' } },
    handedOff: {
      type: 'final',
      output: ({ context }) => ({ outcome: 'handoff', reason: context.hasFailed ? 'verification_failed' : 'user_request' }),
    },
  },
  // The machine's result is the output of the final state it reached.
  output: ({ event }) => event.output as FlowOutcome,
});
