import { z } from 'zod';
import { faqTopics, handoffReasons, verificationMethods } from '../../flows/events.js';
import { unbindStepCount } from '../../flows/unbindWalletMachine.js';
import { troubleshootingTips } from '../../flows/verificationMachine.js';

/**
 * What a restored flow's context may hold. xstate restores a snapshot's context as it finds it, and
 * the flows trust their context: a damaged row with `step: 974353` or `lastTopic: "x"` would be
 * said to the user or fail every turn. Checked at restore, a context that does not fit makes the
 * conversation start over with a note instead. JSON drops `undefined`, so those keys are optional.
 */
const mostTips = Math.max(...Object.values(troubleshootingTips).map((tips) => tips.length));

const conversationContext = z
  .object({
    fallbackStreak: z.number().int().min(0),
    step: z.number().int().min(0).max(unbindStepCount),
    totalSteps: z.union([z.literal(0), z.literal(unbindStepCount)]),
    lastTopic: z.enum(faqTopics).optional(),
    handoffReason: z.enum(handoffReasons).optional(),
  })
  .strict();

const unbindWalletContext = z.object({ handoffReason: z.enum(handoffReasons) }).strict();

const verificationContext = z
  .object({
    method: z.enum(verificationMethods).optional(),
    tipIndex: z.number().int().min(0).max(mostTips),
    hasFailed: z.boolean(),
    reportedProblem: z.boolean(),
  })
  .strict();

const contextOfFlow: Record<string, z.ZodType> = {
  conversation: conversationContext,
  unbindWallet: unbindWalletContext,
  verification: verificationContext,
};

/** Throws when the restored context of flow `machineId` is not one that flow could have made. */
export function checkStoredContext(machineId: string, context: unknown): void {
  const schema = contextOfFlow[machineId];
  if (!schema) throw new Error(`no context check for flow "${machineId}"`);
  const result = schema.safeParse(context);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    throw new Error(`the context of flow "${machineId}" does not fit: ${issue.path.join('.') || 'context'}: ${issue.message}`);
  }
}
