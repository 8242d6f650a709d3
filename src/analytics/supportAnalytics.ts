import type { Outcome } from '../../flows/events.js';
import type { TextNormalizer } from '../nlu/index.js';
import { AnalyticsTally } from './analyticsTally.js';
import { groupUnanswered } from './unansweredGroups.js';

/** The rows analytics reads for a date range (see AnalyticsSource). */
export interface AnalyticsRows {
  conversations: { id: string; createdAt: string }[];
  turns: {
    conversationId: string;
    at: string;
    text: string;
    fromPayload: boolean;
    intent: string;
    confidence: number;
    stateAfter: string;
    step: number;
    said: string[];
    /**
     * What happened in the turn, as the flows said it. `null` for turns stored before outcomes were
     * (schema version 4 and earlier): for those alone, analytics falls back to reading `said`.
     */
    outcomes: Outcome[] | null;
  }[];
  tickets: {
    conversationId: string;
    reason: string;
    createdAt: string;
    /** Who claimed it and when, when it was answered first, how it ended (absent: not recorded by this source). */
    assignedAgentId?: string | null;
    assignedAt?: string | null;
    firstAgentReplyAt?: string | null;
    resolution?: 'resolved' | 'handed_back' | 'user_left' | null;
  }[];
  ratings: { conversationId: string; at: string; helpful: boolean }[];
  /** Every agent, for the per-agent counts. */
  agents?: { id: string; name: string }[];
  /** One row per agent line in these conversations. */
  agentLines?: { conversationId: string; agentId: string }[];
}

export interface AnalyticsSource {
  /** Conversations created in [from, to) with all their turns, tickets and ratings. */
  analyticsRows(fromIso: string, toIso: string): Promise<AnalyticsRows>;
}

/**
 * A bounded part of a range's rows. A conversation comes before its turns, tickets and ratings; its
 * turns come in order; `finished` lists the conversations that get no more rows after this slice.
 */
export interface AnalyticsSlice extends Partial<AnalyticsRows> {
  finished: string[];
  /** Agent lines counted per agent, for the conversations of this slice. */
  agentLineCounts?: { agentId: string; lines: number }[];
}

/**
 * Reads a range in slices, each a short query, so the caller can give the event loop back in between.
 * Embedded SQLite reads a slice at once (an iterable); a database over the network awaits each one.
 */
export interface SlicedAnalyticsSource {
  analyticsSlices(fromIso: string, toIso: string): Iterable<AnalyticsSlice> | AsyncIterable<AnalyticsSlice>;
}

type Rate = number | null;

export interface Analytics {
  range: { from: string; to: string };
  totals: {
    conversations: number;
    engaged: number;
    handedOff: number;
    deflectionRate: Rate;
    resolved: number;
    resolutionRate: Rate;
    messages: number;
    fallbacks: number;
    fallbackRate: Rate;
    ratings: { helpful: number; notHelpful: number; satisfaction: Rate };
    /** Questions answered from the article, and questions the article could not answer (`notCovered`). */
    questions: { answered: number; notCovered: number };
  };
  daily: { day: string; conversations: number; engaged: number; handedOff: number; deflectionRate: Rate; resolved: number; resolutionRate: Rate }[];
  /** `cancelledHere`: of those that dropped out here, how many stopped by cancelling the unbinding. */
  funnel: { stage: string; reached: number; droppedHere: number; cancelledHere: number }[];
  /**
   * Conversations per method: `attempted` verified with it (guided, or reported a problem with it),
   * `passed` passed with it, `failed` reported a failure with it and never passed with it, `handedOff`
   * those failed ones handed to a human because verification failed.
   */
  verification: { method: string; attempted: number; passed: number; failed: number; handedOff: number }[];
  topIntents: { intent: string; count: number }[];
  /** The most frequent groups of similar messages the bot did not understand (at most 100). */
  unanswered: { text: string; count: number; examples: string[]; lastAt: string; guess: string }[];
  /** How many such messages the range holds, and how many of them (the newest) were grouped. */
  unansweredMessages: { total: number; considered: number };
  /**
   * Live handoff: tickets requested; ended by an agent resolving (`resolvedByAgent`), handing back,
   * or the user leaving the queue; median seconds from the request to the claim and to the first
   * agent line; and per agent the tickets claimed, resolved and the lines written.
   */
  handoffs: {
    requested: number;
    resolvedByAgent: number;
    handedBack: number;
    userLeft: number;
    medianWaitSeconds: number | null;
    medianFirstReplySeconds: number | null;
    perAgent: { id: string; name: string; claimed: number; resolved: number; messages: number }[];
  };
}

/** Below this a message counts as not really understood, even if an intent was chosen. */
export const lowConfidence = 0.5;

/**
 * Unanswered messages grouped at most: the newest this many of a range. Grouping is the costly part of
 * analytics; past this the dashboard says how many it looked at.
 */
export const unansweredConsidered = 20_000;

/** Dates are calendar days in UTC: `to` is inclusive. */
export function dayRange(from: string, to: string): { fromIso: string; toIso: string } {
  const end = new Date(`${to}T00:00:00.000Z`);
  end.setUTCDate(end.getUTCDate() + 1);
  return { fromIso: `${from}T00:00:00.000Z`, toIso: end.toISOString() };
}

/**
 * What support leads ask of a deflection bot: how many conversations ended without a ticket,
 * how many were resolved, where users dropped out of the steps, how verification went, and what
 * the bot could not answer. In one go, for rows already read; the server reads and adds them up in
 * slices (`slicedAnalytics.ts`).
 */
export function computeAnalytics(rows: AnalyticsRows, range: { from: string; to: string }, normalizer: TextNormalizer, cap = unansweredConsidered): Analytics {
  const tally = new AnalyticsTally(cap);
  tally.add(rows, rows.conversations.map((conversation) => conversation.id));
  const considered = tally.unanswered.size;
  const messages = (function* () {
    for (let message = tally.unanswered.takeOldest(); message; message = tally.unanswered.takeOldest()) yield message;
  })();
  return tally.result(range, groupUnanswered(messages, normalizer), considered);
}

/** The unanswered questions as JSONL lines {"text","intent"} (nlu:eval's format), one per distinct wording. */
export function unansweredJsonl(analytics: Analytics): string {
  return analytics.unanswered
    .flatMap((group) => group.examples.map((text) => JSON.stringify({ text, intent: group.guess, count: group.count })))
    .join('\n')
    .concat(analytics.unanswered.length ? '\n' : '');
}
