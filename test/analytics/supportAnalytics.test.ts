import { beforeAll, describe, expect, it } from 'vitest';
import type { Outcome } from '../../flows/events.js';
import { computeAnalytics, type AnalyticsRows } from '../../src/analytics/supportAnalytics.js';
import { loadContent } from '../../src/content/loadContent.js';
import { TextNormalizer } from '../../src/nlu/textNormalizer.js';

let normalizer: TextNormalizer;
beforeAll(() => {
  normalizer = new TextNormalizer(loadContent().lexicon);
});

type Turn = AnalyticsRows['turns'][number];
const range = { from: '2026-01-01', to: '2026-01-01' };

/** One conversation per entry, its turns in order; `said` ids made up unless a test is about them. */
function rowsOf(conversations: Record<string, Partial<Turn>[]>, extra: Partial<Pick<AnalyticsRows, 'tickets' | 'ratings'>> = {}): AnalyticsRows {
  const ids = Object.keys(conversations);
  return {
    conversations: ids.map((id) => ({ id, createdAt: '2026-01-01T08:00:00.000Z' })),
    turns: ids.flatMap((id) =>
      conversations[id]!.map((turn, index) => ({
        conversationId: id,
        at: `2026-01-01T08:00:${String(index).padStart(2, '0')}.000Z`,
        text: 'x',
        fromPayload: true,
        intent: 'affirm',
        confidence: 1,
        stateAfter: 'idle',
        step: 0,
        said: ['whatever'],
        outcomes: [],
        ...turn,
      })),
    ),
    tickets: extra.tickets ?? [],
    ratings: extra.ratings ?? [],
  };
}

const analyticsOf = (rows: AnalyticsRows) => computeAnalytics(rows, range, normalizer);
const stage = (analytics: ReturnType<typeof analyticsOf>, name: string) => analytics.funnel.find((entry) => entry.stage === name)!;
const method = (analytics: ReturnType<typeof analyticsOf>, name: string) => analytics.verification.find((entry) => entry.method === name)!;

/** An unbinding walked from step 1 to 7, with whatever outcomes the last turn adds. */
const walkthrough = (last: Outcome[], lastSaid: string[] = ['whatever']): Partial<Turn>[] => [
  { stateAfter: 'unbinding', step: 1, outcomes: [{ kind: 'unbindStarted', atStep: 0 }] },
  ...[2, 3, 4, 5, 6, 7].map((step) => ({ stateAfter: 'unbinding', step })),
  { stateAfter: 'idle', step: 0, said: lastSaid, outcomes: last },
];

describe('analytics read what the flows said happened', () => {
  it('counts a completed unbinding whose response ids were renamed', () => {
    const analytics = analyticsOf(rowsOf({ renamed: [{ said: ['whatever'], outcomes: [{ kind: 'unbindCompleted' }] }] }));
    expect(analytics.totals).toMatchObject({ engaged: 1, resolved: 1, resolutionRate: 1 });
    expect(stage(analytics, 'completed').reached).toBe(1);
  });

  it('does not count a completion from the response ids alone on a turn that has outcomes', () => {
    const analytics = analyticsOf(rowsOf({ saidOnly: [{ said: ['unbind.completed', 'verify.guide.sms', 'verify.passed'], outcomes: [] }] }));
    expect(analytics.totals).toMatchObject({ resolved: 0 });
    expect(stage(analytics, 'completed').reached).toBe(0);
    expect(analytics.verification.every((row) => row.attempted === 0)).toBe(true);
  });

  it('resolution counts a completed unbinding or a helpful rating; deflection still counts tickets', () => {
    const analytics = analyticsOf(
      rowsOf(
        { done: walkthrough([{ kind: 'unbindCompleted' }]), helped: [{ outcomes: [{ kind: 'answered', topic: 'rebind' }] }], human: [{ outcomes: [{ kind: 'handedOff', reason: 'user_request' }] }] },
        { ratings: [{ conversationId: 'helped', at: '2026-01-01T08:01:00.000Z', helpful: true }], tickets: [{ conversationId: 'human', reason: 'user_request', createdAt: '2026-01-01T08:01:00.000Z' }] },
      ),
    );
    expect(analytics.totals).toMatchObject({ engaged: 3, handedOff: 1, deflectionRate: 2 / 3, resolved: 2 });
  });

  it('shows the funnel from the steps reached, and which drop-outs cancelled', () => {
    const analytics = analyticsOf(
      rowsOf({
        completed: walkthrough([{ kind: 'unbindCompleted' }]),
        cancelledAtStep3: [
          { stateAfter: 'unbinding', step: 1, outcomes: [{ kind: 'unbindStarted', atStep: 0 }] },
          { stateAfter: 'unbinding', step: 2 },
          { stateAfter: 'unbinding', step: 3 },
          { stateAfter: 'idle', step: 0, outcomes: [{ kind: 'unbindCancelled', step: 3 }] },
        ],
        quietAtStep3: [
          { stateAfter: 'unbinding', step: 1, outcomes: [{ kind: 'unbindStarted', atStep: 0 }] },
          { stateAfter: 'unbinding', step: 3 },
        ],
        cancelledThenCompleted: [{ outcomes: [{ kind: 'unbindStarted', atStep: 0 }, { kind: 'unbindCancelled', step: 0 }] }, ...walkthrough([{ kind: 'unbindCompleted' }])],
      }),
    );
    expect(stage(analytics, 'started')).toEqual({ stage: 'started', reached: 4, droppedHere: 0, cancelledHere: 0 });
    expect(stage(analytics, 'step3')).toEqual({ stage: 'step3', reached: 4, droppedHere: 2, cancelledHere: 1 });
    expect(stage(analytics, 'step7')).toMatchObject({ reached: 2, droppedHere: 0 });
    expect(stage(analytics, 'completed')).toMatchObject({ reached: 2 });
  });

  it('reports verification by method from the attempted, failed and passed outcomes', () => {
    const analytics = analyticsOf(
      rowsOf(
        {
          smsPassed: [{ outcomes: [{ kind: 'verificationAttempted', method: 'sms' }] }, { outcomes: [{ kind: 'verificationPassed', method: 'sms' }] }],
          smsFailedThenPassed: [
            { outcomes: [{ kind: 'verificationAttempted', method: 'sms' }] },
            { outcomes: [{ kind: 'verificationFailed', method: 'sms' }] },
            { outcomes: [{ kind: 'verificationPassed', method: undefined }] },
          ],
          // Reported a problem straight away: the failure is the attempt.
          biometricHandedOff: [
            { outcomes: [{ kind: 'verificationFailed', method: 'biometric' }] },
            { outcomes: [{ kind: 'verificationFailed', method: 'biometric' }] },
            { outcomes: [{ kind: 'handedOff', reason: 'verification_failed' }] },
          ],
          questionFailed: [{ outcomes: [{ kind: 'verificationAttempted', method: 'securityQuestion' }, { kind: 'verificationFailed', method: 'securityQuestion' }] }],
        },
        { tickets: [{ conversationId: 'biometricHandedOff', reason: 'verification_failed', createdAt: '2026-01-01T08:01:00.000Z' }] },
      ),
    );
    expect(analytics.verification).toEqual([
      { method: 'sms', attempted: 2, passed: 2, failed: 0, handedOff: 0 },
      { method: 'biometric', attempted: 1, passed: 0, failed: 1, handedOff: 1 },
      { method: 'securityQuestion', attempted: 1, passed: 0, failed: 1, handedOff: 0 },
    ]);
  });

  it('counts questions answered from the article and those it could not answer', () => {
    const analytics = analyticsOf(
      rowsOf({
        two: [{ said: ['renamed.answer', 'renamed.answer2'], outcomes: [{ kind: 'answered', topic: 'rebind' }, { kind: 'answered', topic: 'bind_wallet' }] }],
        unknown: [{ said: ['renamed.notCovered'], outcomes: [{ kind: 'notCovered' }] }, { outcomes: [{ kind: 'notCovered' }] }],
      }),
    );
    expect(analytics.totals.questions).toEqual({ answered: 2, notCovered: 2 });
  });
});

describe('turns stored before outcomes were (legacy reading of the response ids)', () => {
  it('reads completion, verification, questions and the start of the unbinding from `said`', () => {
    const legacy = (turns: Partial<Turn>[]) => turns.map((turn) => ({ ...turn, outcomes: null }));
    const analytics = analyticsOf(
      rowsOf(
        {
          completed: legacy([
            { stateAfter: 'unbinding', step: 1, said: ['unbind.intro', 'unbind.step'] },
            { stateAfter: 'unbinding', step: 7, said: ['verify.guide.sms'] },
            { stateAfter: 'idle', step: 0, said: ['verify.passed', 'unbind.completed'] },
          ]),
          handedOff: legacy([
            { stateAfter: 'unbinding', step: 7, said: ['verify.tip.restart'] },
            { stateAfter: 'unbinding', step: 7, said: ['verify.tip.otherMethod'] },
            { stateAfter: 'unbinding', step: 7, said: ['verify.offerHuman'] },
            { stateAfter: 'handedOff', step: 7, said: ['handoff'] },
          ]),
          cancelled: legacy([
            { stateAfter: 'unbinding', step: 2, said: ['unbind.step'] },
            { stateAfter: 'idle', step: 0, said: ['unbind.cancelled'] },
          ]),
          faq: legacy([{ said: ['faq.rebind'] }, { said: ['faq.not_covered'] }]),
        },
        { tickets: [{ conversationId: 'handedOff', reason: 'verification_failed', createdAt: '2026-01-01T08:01:00.000Z' }] },
      ),
    );
    expect(analytics.totals).toMatchObject({ engaged: 4, resolved: 1, questions: { answered: 1, notCovered: 1 } });
    expect(stage(analytics, 'started').reached).toBe(3);
    expect(stage(analytics, 'step2')).toMatchObject({ droppedHere: 1, cancelledHere: 1 });
    expect(stage(analytics, 'completed').reached).toBe(1);
    expect(method(analytics, 'sms')).toEqual({ method: 'sms', attempted: 1, passed: 1, failed: 0, handedOff: 0 });
    expect(method(analytics, 'biometric')).toEqual({ method: 'biometric', attempted: 1, passed: 0, failed: 1, handedOff: 1 });
  });

  it('reads a conversation that continued after the upgrade: old turns from `said`, new ones from outcomes', () => {
    const analytics = analyticsOf(
      rowsOf({
        straddling: [
          { stateAfter: 'unbinding', step: 6, said: ['unbind.step'], outcomes: null },
          { stateAfter: 'unbinding', step: 7, said: ['renamed.step'], outcomes: [] },
          { stateAfter: 'idle', step: 0, said: ['renamed.completed'], outcomes: [{ kind: 'unbindCompleted' }] },
        ],
      }),
    );
    expect(stage(analytics, 'started').reached).toBe(1);
    expect(stage(analytics, 'completed').reached).toBe(1);
  });
});

describe('unanswered questions past the cap', () => {
  it('groups only the newest messages and says how many there were', () => {
    const asked = ['微信怎么注销账号', '怎么注销微信账号', '花呗能绑吗', '今天天气怎么样', '钱包能退款吗'];
    const analytics = computeAnalytics(
      rowsOf({ many: asked.map((text) => ({ text, fromPayload: false, intent: 'out_of_scope', confidence: 0.1 })) }),
      range,
      normalizer,
      2,
    );
    expect(analytics.unansweredMessages).toEqual({ total: 5, considered: 2 });
    expect(analytics.unanswered.map((group) => group.text).sort()).toEqual(['今天天气怎么样', '钱包能退款吗'].sort());
  });
});
