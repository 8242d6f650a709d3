import type { AnyActorRef } from 'xstate';
import type { Outcome } from '../../flows/events.js';
import { unbindPhases, type UnbindPhase } from '../../flows/unbindWalletMachine.js';

/** `active` while the unbinding runs; the other values on the one turn it ends, saying how. */
export const progressStatuses = ['active', 'done', 'cancelled', 'handed_off', 'stopped'] as const;
export type ProgressStatus = (typeof progressStatuses)[number];

/**
 * The guided unbinding as a client shows it. `step` and `total` mean what they always have (the
 * numbered step the user is on, of 7), so older clients keep working; `completed` is how many steps
 * the user has finished. Verification and confirmation are the article's step 7, so a bar drawn
 * from `completed / total` is full only once the user confirmed the wallet is unbound.
 */
export interface Progress {
  step: number;
  total: number;
  completed: number;
  phase: UnbindPhase;
  status: ProgressStatus;
}

/** The parts of the conversation's snapshot progress is read from. */
interface ConversationView {
  value: unknown;
  context: { step: number; totalSteps: number };
  children: Record<string, AnyActorRef | undefined>;
}

/** Where the unbinding stands while it runs at a numbered step; undefined outside it and at the balance question. */
export function activeProgress(snapshot: ConversationView): Progress | undefined {
  const { step, totalSteps } = snapshot.context;
  if (snapshot.value !== 'unbinding' || step === 0) return undefined;
  // The step the user is on is not finished yet, whatever its phase.
  return { step, total: totalSteps, completed: step - 1, phase: phaseOf(snapshot.children['flow']), status: 'active' };
}

/** The `meta.phase` of the deepest active state of the unbinding flow that declares one. */
function phaseOf(flow: AnyActorRef | undefined): UnbindPhase {
  const meta = (flow?.getSnapshot() as { getMeta?: () => Record<string, unknown> } | undefined)?.getMeta?.() ?? {};
  let deepest: { phase: UnbindPhase; depth: number } | undefined;
  for (const [id, value] of Object.entries(meta)) {
    const phase = (value as { phase?: unknown } | undefined)?.phase;
    if (!(unbindPhases as readonly unknown[]).includes(phase)) continue;
    const depth = id.split('.').length;
    if (!deepest || depth > deepest.depth) deepest = { phase: phase as UnbindPhase, depth };
  }
  return deepest?.phase ?? 'steps';
}

/**
 * What a turn reports: the progress after it while the unbinding runs; on the turn the unbinding
 * ended, where it was with how it ended (read from the flows' outcomes); otherwise nothing.
 */
export function progressAfterTurn(before: Progress | undefined, after: Progress | undefined, outcomes: readonly Outcome[]): Progress | undefined {
  if (after) return after;
  if (!before) return undefined;
  const status = howItEnded(outcomes);
  return { ...before, completed: status === 'done' ? before.total : before.completed, status };
}

function howItEnded(outcomes: readonly Outcome[]): Exclude<ProgressStatus, 'active'> {
  if (outcomes.some((outcome) => outcome.kind === 'unbindCompleted')) return 'done';
  if (outcomes.some((outcome) => outcome.kind === 'unbindCancelled')) return 'cancelled';
  if (outcomes.some((outcome) => outcome.kind === 'handedOff')) return 'handed_off';
  // The user asked for a human but no ticket could be opened now (handoff.busy): the steps are gone.
  return 'stopped';
}

/** A stored progress, as far as it can be trusted: a damaged one is dropped rather than shown. */
export function storedProgress(value: unknown): Progress | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { step, total, completed, phase, status } = value as Record<string, unknown>;
  const whole = (n: unknown): n is number => Number.isInteger(n) && (n as number) >= 0 && (n as number) <= 100;
  if (!whole(step) || !whole(total) || !whole(completed)) return undefined;
  if (!(unbindPhases as readonly unknown[]).includes(phase) || !(progressStatuses as readonly unknown[]).includes(status)) return undefined;
  return { step, total, completed, phase: phase as UnbindPhase, status: status as ProgressStatus };
}
