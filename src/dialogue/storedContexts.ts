import type { AnyStateMachine, AnyStateNode } from 'xstate';
import { z } from 'zod';
import { faqTopics, handoffReasons, verificationMethods } from '../../flows/events.js';
import { unbindStepCount, unbindWalletMachine } from '../../flows/unbindWalletMachine.js';
import { troubleshootingTips } from '../../flows/verificationMachine.js';

/**
 * What a restored flow's context may hold. xstate restores a snapshot's context as it finds it, and
 * the flows trust their context: a damaged row with `step: 974353` or `lastTopic: "x"` would be
 * said to the user or fail every turn. Checked at restore, a context that does not fit makes the
 * conversation start over with a note instead. JSON drops `undefined`, so those keys are optional.
 */
const conversationContext = z
  .object({
    fallbackStreak: z.number().int().min(0),
    step: z.number().int().min(0).max(unbindStepCount),
    totalSteps: z.union([z.literal(0), z.literal(unbindStepCount)]),
    lastTopic: z.enum(faqTopics).optional(),
    handoffReason: z.enum(handoffReasons).optional(),
  })
  .strict()
  // Progress is reported as a pair: "step 1 of 0" would be shown to the user.
  .refine((context) => context.step === 0 || context.totalSteps === unbindStepCount, { message: 'a step without the number of steps', path: ['totalSteps'] });

const unbindWalletContext = z.object({ handoffReason: z.enum(handoffReasons), startAt: z.number().int().min(0).max(unbindStepCount) }).strict();

const verificationContext = z
  .object({
    method: z.enum(verificationMethods).optional(),
    tipIndex: z.number().int().min(0),
    hasFailed: z.boolean(),
    reportedProblem: z.boolean(),
  })
  .strict()
  // The tip said is looked up by index in its method's list (sms when none is known yet).
  .refine((context) => context.tipIndex < troubleshootingTips[context.method ?? 'sms'].length, { message: "past the last tip of its method", path: ['tipIndex'] });

const contextOfFlow: Record<string, z.ZodType> = {
  conversation: conversationContext,
  unbindWallet: unbindWalletContext,
  verification: verificationContext,
};

/** A stored flow as restore found it: where it is (its active state nodes, root first), its context, its child flows by invoke id. */
export interface StoredFlow {
  machine: AnyStateMachine;
  states: readonly AnyStateNode[];
  context: unknown;
  children: Readonly<Record<string, StoredFlow>>;
}

/** The numbered step a flow is on: the `meta.step` of its deepest active state that has one, 0 before the steps. */
function stepOf(flow: StoredFlow): number {
  const steps = flow.states.map((node) => (node.meta as { step?: unknown } | undefined)?.step).filter((step) => typeof step === 'number');
  return steps.at(-1) ?? 0;
}

/** What a context must agree with besides itself: where its flow and the flows it runs are. */
const fitsPlaceOfFlow: Record<string, (context: never, flow: StoredFlow) => string | undefined> = {
  // While the unbinding runs, the progress shown is the step the unbinding is on.
  conversation: (context: z.infer<typeof conversationContext>, flow) => {
    const unbinding = Object.values(flow.children).find((child) => child.machine.id === unbindWalletMachine.id);
    if (!unbinding) return undefined;
    const step = stepOf(unbinding);
    return context.step === step && context.totalSteps === unbindStepCount ? undefined : `progress ${context.step}/${context.totalSteps} while the unbinding is at step ${step}`;
  },
};

/** Throws when the stored context of a flow is not one that flow could have made where it is. */
export function checkStoredContext(flow: StoredFlow): void {
  const machineId = flow.machine.id;
  const schema = contextOfFlow[machineId];
  if (!schema) throw new Error(`no context check for flow "${machineId}"`);
  const result = schema.safeParse(flow.context);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    throw new Error(`the context of flow "${machineId}" does not fit: ${issue.path.join('.') || 'context'}: ${issue.message}`);
  }
  const misfit = fitsPlaceOfFlow[machineId]?.(result.data as never, flow);
  if (misfit) throw new Error(`the context of flow "${machineId}" does not fit where it is: ${misfit}`);
}
