import type { TextNormalizer } from '../nlu/index.js';
import { AnalyticsTally } from './analyticsTally.js';
import { dayRange, unansweredConsidered, type Analytics, type SlicedAnalyticsSource } from './supportAnalytics.js';
import { TopGroups, UnansweredGrouper } from './unansweredGroups.js';

/** Longest stretch of analytics work between two turns of the event loop: users' messages wait no longer. */
const defaultBudgetMs = 4;

/** Tells long work when to give the event loop back; `setImmediate` lets waiting I/O run first. */
export class SliceClock {
  private since = performance.now();

  constructor(private readonly budgetMs = defaultBudgetMs) {}

  get due(): boolean {
    return performance.now() - this.since >= this.budgetMs;
  }

  async pause(): Promise<void> {
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.since = performance.now();
  }
}

export interface SlicedAnalyticsOptions {
  budgetMs?: number;
  /** Unanswered messages grouped at most (the newest). */
  unansweredCap?: number;
}

/**
 * The dashboard's analytics for a range without holding the event loop: the rows are read a slice
 * at a time (each one short query), added up, and the newest unanswered messages grouped one at a
 * time, pausing whenever the work has run for `budgetMs`.
 */
export async function computeAnalyticsInSlices(
  source: SlicedAnalyticsSource,
  range: { from: string; to: string },
  normalizer: TextNormalizer,
  { budgetMs = defaultBudgetMs, unansweredCap = unansweredConsidered }: SlicedAnalyticsOptions = {},
): Promise<Analytics> {
  const clock = new SliceClock(budgetMs);
  const { fromIso, toIso } = dayRange(range.from, range.to);
  const tally = new AnalyticsTally(unansweredCap);
  for await (const slice of source.analyticsSlices(fromIso, toIso)) {
    tally.add(slice, slice.finished);
    for (const { agentId, lines } of slice.agentLineCounts ?? []) tally.addAgentLineCount(agentId, lines);
    if (clock.due) await clock.pause();
  }

  const considered = tally.unanswered.size;
  const grouper = new UnansweredGrouper(normalizer);
  for (let message = tally.unanswered.takeOldest(); message; message = tally.unanswered.takeOldest()) {
    grouper.add(message);
    if (clock.due) await clock.pause();
  }
  const top = new TopGroups();
  for (const group of grouper.all()) {
    top.consider(group);
    if (clock.due) await clock.pause();
  }
  return tally.result(range, top.result(), considered);
}
