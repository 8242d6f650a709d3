import { answeredTopics, verificationMethods, type Outcome, type VerificationMethod } from '../../flows/events.js';
import type { AnalyticsRows } from './supportAnalytics.js';

/**
 * LEGACY PATH, only for turns stored before outcomes were (schema version 4 and earlier): what
 * happened is guessed from the response ids said, as analytics did before the flows reported it.
 * It knows the ids as they were named then; renaming content does not affect new turns, which are
 * never read this way. Delete it once no such turns are left in the ranges people look at.
 */
export function newLegacyReading(): { read(turn: AnalyticsRows['turns'][number]): Outcome[] } {
  const tipMethod: Record<string, VerificationMethod> = {
    'verify.tip.signal': 'sms',
    'verify.tip.phoneNumber': 'sms',
    'verify.tip.restart': 'biometric',
    'verify.tip.checkAnswer': 'securityQuestion',
  };
  const answered = new Set<string>(answeredTopics.map((topic) => `faq.${topic}`));
  let method: VerificationMethod | undefined;
  let inUnbinding = false;
  let step = 0;
  return {
    read(turn: AnalyticsRows['turns'][number]): Outcome[] {
      const outcomes: Outcome[] = [];
      const unbinding = turn.stateAfter.startsWith('unbinding');
      if (unbinding && !inUnbinding) outcomes.push({ kind: 'unbindStarted', atStep: 0 });
      for (const key of turn.said) {
        const guided = /^verify\.guide\.(\w+)$/.exec(key)?.[1];
        if (guided && (verificationMethods as readonly string[]).includes(guided)) {
          method = guided as VerificationMethod;
          outcomes.push({ kind: 'verificationAttempted', method });
        } else if (tipMethod[key] || (key === 'verify.tip.otherMethod' && method)) {
          method = tipMethod[key] ?? method!;
          outcomes.push({ kind: 'verificationFailed', method });
        } else if (key === 'verify.passed') outcomes.push({ kind: 'verificationPassed', method });
        else if (key === 'verify.skipped') outcomes.push({ kind: 'verificationSkipped' });
        else if (key === 'unbind.completed') outcomes.push({ kind: 'unbindCompleted' });
        else if (key === 'unbind.cancelled') outcomes.push({ kind: 'unbindCancelled', step });
        else if (key === 'faq.not_covered' || key === 'notCovered.inFlow') outcomes.push({ kind: 'notCovered' });
        else if (answered.has(key)) outcomes.push({ kind: 'answered', topic: key.slice('faq.'.length) as (typeof answeredTopics)[number] });
      }
      inUnbinding = unbinding;
      step = turn.step;
      return outcomes;
    },
  };
}
