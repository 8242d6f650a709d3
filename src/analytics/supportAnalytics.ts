import { answeredTopics, verificationMethods, type Outcome, type VerificationMethod } from '../../flows/events.js';
import type { TextNormalizer } from '../nlu/index.js';

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
  unanswered: { text: string; count: number; examples: string[]; lastAt: string; guess: string }[];
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

const rate = (part: number, whole: number): Rate => (whole ? part / whole : null);
/** Below this a message counts as not really understood, even if an intent was chosen. */
export const lowConfidence = 0.5;

/** Dates are calendar days in UTC: `to` is inclusive. */
export function dayRange(from: string, to: string): { fromIso: string; toIso: string } {
  const end = new Date(`${to}T00:00:00.000Z`);
  end.setUTCDate(end.getUTCDate() + 1);
  return { fromIso: `${from}T00:00:00.000Z`, toIso: end.toISOString() };
}

/**
 * What support leads ask of a deflection bot: how many conversations ended without a ticket,
 * how many were resolved, where users dropped out of the steps, how verification went, and what
 * the bot could not answer.
 */
export function computeAnalytics(rows: AnalyticsRows, range: { from: string; to: string }, normalizer: TextNormalizer): Analytics {
  const turnsBy = groupBy(rows.turns, (turn) => turn.conversationId);
  const ticketsBy = groupBy(rows.tickets, (ticket) => ticket.conversationId);
  const ratingsBy = groupBy(rows.ratings, (rating) => rating.conversationId);

  const perConversation = rows.conversations.map(({ id, createdAt }) => {
    const turns = turnsBy.get(id) ?? [];
    const outcomes = outcomesOf(turns);
    const tickets = ticketsBy.get(id) ?? [];
    const ratings = ratingsBy.get(id) ?? [];
    const completed = outcomes.some((outcome) => outcome.kind === 'unbindCompleted');
    // The last attempt at the unbinding ended with the user stopping it.
    const lastUnbindOutcome = outcomes.filter((outcome) => outcome.kind === 'unbindStarted' || outcome.kind === 'unbindCancelled' || outcome.kind === 'unbindCompleted').at(-1);
    return {
      day: createdAt.slice(0, 10),
      engaged: turns.length > 0,
      handedOff: tickets.length > 0,
      completed,
      resolved: completed || ratings.some((rating) => rating.helpful),
      started: outcomes.some((outcome) => outcome.kind === 'unbindStarted'),
      cancelled: lastUnbindOutcome?.kind === 'unbindCancelled',
      maxStep: Math.max(0, ...turns.map((turn) => turn.step)),
      outcomes,
      tickets,
    };
  });
  const engaged = perConversation.filter((conversation) => conversation.engaged);
  const summarize = (group: typeof perConversation) => {
    const active = group.filter((conversation) => conversation.engaged);
    const handedOff = active.filter((conversation) => conversation.handedOff).length;
    const resolved = active.filter((conversation) => conversation.resolved).length;
    return {
      conversations: group.length,
      engaged: active.length,
      handedOff,
      deflectionRate: rate(active.length - handedOff, active.length),
      resolved,
      resolutionRate: rate(resolved, active.length),
    };
  };

  const userTurns = rows.turns;
  const fallbacks = userTurns.filter((turn) => !turn.fromPayload && turn.intent === 'out_of_scope').length;
  const helpful = rows.ratings.filter((rating) => rating.helpful).length;
  const notHelpful = rows.ratings.length - helpful;

  const stages = ['started', 'step1', 'step2', 'step3', 'step4', 'step5', 'step6', 'step7', 'completed'];
  const reachedStage = (stage: string) =>
    engaged.filter((conversation) =>
      stage === 'started' ? conversation.started : stage === 'completed' ? conversation.completed : conversation.maxStep >= Number(stage.slice(4)),
    ).length;
  const reached = stages.map(reachedStage);
  // Conversations that did not complete and whose last attempt ended in a cancellation, by the highest
  // step they reached (the stage index: 0 is before step 1).
  const cancelledAt = (index: number) =>
    index === stages.length - 1
      ? 0
      : engaged.filter((conversation) => conversation.started && !conversation.completed && conversation.cancelled && conversation.maxStep === index).length;
  const questions = engaged.flatMap((conversation) => conversation.outcomes);

  const days = groupBy(perConversation, (conversation) => conversation.day);
  return {
    range,
    totals: {
      ...summarize(perConversation),
      messages: userTurns.length,
      fallbacks,
      fallbackRate: rate(fallbacks, userTurns.length),
      ratings: { helpful, notHelpful, satisfaction: rate(helpful, rows.ratings.length) },
      questions: {
        answered: questions.filter((outcome) => outcome.kind === 'answered').length,
        notCovered: questions.filter((outcome) => outcome.kind === 'notCovered').length,
      },
    },
    daily: [...days].sort(([a], [b]) => a.localeCompare(b)).map(([day, group]) => ({ day, ...summarize(group) })),
    funnel: stages.map((stage, index) => ({
      stage,
      reached: reached[index]!,
      droppedHere: index + 1 < stages.length ? reached[index]! - reached[index + 1]! : 0,
      cancelledHere: cancelledAt(index),
    })),
    verification: verificationOutcomes(engaged),
    topIntents: [...groupBy(userTurns, (turn) => turn.intent)]
      .map(([intent, turns]) => ({ intent, count: turns.length }))
      .sort((a, b) => b.count - a.count || a.intent.localeCompare(b.intent))
      .slice(0, 15),
    unanswered: unansweredQuestions(userTurns.filter((turn) => !turn.fromPayload && (turn.intent === 'out_of_scope' || turn.confidence < lowConfidence)), normalizer),
    handoffs: handoffFigures(rows),
  };
}

function handoffFigures(rows: AnalyticsRows): Analytics['handoffs'] {
  const seconds = (from: string, to: string | null | undefined) => (to ? (Date.parse(to) - Date.parse(from)) / 1000 : undefined);
  const present = (values: (number | undefined)[]) => values.filter((value): value is number => value !== undefined);
  const claimedBy = groupBy(rows.tickets.filter((ticket) => ticket.assignedAgentId), (ticket) => ticket.assignedAgentId!);
  const linesBy = groupBy(rows.agentLines ?? [], (line) => line.agentId);
  return {
    requested: rows.tickets.length,
    resolvedByAgent: rows.tickets.filter((ticket) => ticket.resolution === 'resolved' && ticket.assignedAgentId).length,
    handedBack: rows.tickets.filter((ticket) => ticket.resolution === 'handed_back').length,
    userLeft: rows.tickets.filter((ticket) => ticket.resolution === 'user_left').length,
    medianWaitSeconds: median(present(rows.tickets.map((ticket) => seconds(ticket.createdAt, ticket.assignedAt)))),
    medianFirstReplySeconds: median(present(rows.tickets.map((ticket) => seconds(ticket.createdAt, ticket.firstAgentReplyAt)))),
    perAgent: (rows.agents ?? []).map(({ id, name }) => ({
      id,
      name,
      claimed: claimedBy.get(id)?.length ?? 0,
      resolved: claimedBy.get(id)?.filter((ticket) => ticket.resolution === 'resolved').length ?? 0,
      messages: linesBy.get(id)?.length ?? 0,
    })),
  };
}

function median(values: number[]): number | null {
  if (!values.length) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

function verificationOutcomes(conversations: { outcomes: Outcome[]; tickets: AnalyticsRows['tickets'] }[]) {
  const counts = new Map(verificationMethods.map((method) => [method, { method, attempted: 0, passed: 0, failed: 0, handedOff: 0 }]));
  for (const { outcomes, tickets } of conversations) {
    const attempted = new Set<VerificationMethod>();
    const passed = new Set<VerificationMethod>();
    const failed = new Set<VerificationMethod>();
    let last: VerificationMethod | undefined;
    for (const outcome of outcomes) {
      if (outcome.kind !== 'verificationAttempted' && outcome.kind !== 'verificationFailed' && outcome.kind !== 'verificationPassed') continue;
      // A pass the flow could not name a method for is the method the user was last verifying with.
      const method = outcome.method ?? last;
      if (!method) continue;
      last = method;
      attempted.add(method);
      if (outcome.kind === 'verificationFailed') failed.add(method);
      if (outcome.kind === 'verificationPassed') passed.add(method);
    }
    for (const method of attempted) counts.get(method)!.attempted++;
    for (const method of passed) counts.get(method)!.passed++;
    for (const method of failed) if (!passed.has(method)) counts.get(method)!.failed++;
    if (last && failed.has(last) && !passed.has(last) && tickets.some((ticket) => ticket.reason === 'verification_failed')) counts.get(last)!.handedOff++;
  }
  return [...counts.values()];
}

/** What happened in a conversation, in order: the turns' outcomes, or for old turns the legacy reading. */
function outcomesOf(turns: AnalyticsRows['turns']): Outcome[] {
  const legacy = newLegacyReading();
  return turns.flatMap((turn) => turn.outcomes ?? legacy.read(turn));
}

/**
 * LEGACY PATH, only for turns stored before outcomes were (schema version 4 and earlier): what
 * happened is guessed from the response ids said, as analytics did before the flows reported it.
 * It knows the ids as they were named then; renaming content does not affect new turns, which are
 * never read this way. Delete it once no such turns are left in the ranges people look at.
 */
function newLegacyReading() {
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

/** Groups what the bot did not understand by similar wording, most frequent first. */
function unansweredQuestions(turns: AnalyticsRows['turns'], normalizer: TextNormalizer): Analytics['unanswered'] {
  const groups: { key: string; bigrams: Set<string>; texts: Map<string, number>; count: number; lastAt: string; guesses: Map<string, number> }[] = [];
  for (const turn of turns) {
    const key = normalizer.normalize(turn.text).replace(/[\s\p{P}\p{S}]/gu, '');
    if (!key) continue;
    const bigrams = characterBigrams(key);
    // Same wording, or mostly the same characters in pairs: one question asked several ways.
    const group = groups.find((candidate) => candidate.key === key || jaccard(candidate.bigrams, bigrams) >= 0.5);
    if (group) {
      group.count++;
      group.texts.set(turn.text, (group.texts.get(turn.text) ?? 0) + 1);
      group.guesses.set(turn.intent, (group.guesses.get(turn.intent) ?? 0) + 1);
      if (turn.at > group.lastAt) group.lastAt = turn.at;
    } else {
      groups.push({ key, bigrams, texts: new Map([[turn.text, 1]]), count: 1, lastAt: turn.at, guesses: new Map([[turn.intent, 1]]) });
    }
  }
  const mostCommon = (counts: Map<string, number>) => [...counts].sort((a, b) => b[1] - a[1])[0]![0];
  return groups
    .sort((a, b) => b.count - a.count || b.lastAt.localeCompare(a.lastAt))
    .slice(0, 100)
    .map((group) => ({
      text: mostCommon(group.texts),
      count: group.count,
      examples: [...group.texts.keys()].slice(0, 5),
      lastAt: group.lastAt,
      guess: mostCommon(group.guesses),
    }));
}

/** The unanswered questions as JSONL lines {"text","intent"} (nlu:eval's format), one per distinct wording. */
export function unansweredJsonl(analytics: Analytics): string {
  return analytics.unanswered
    .flatMap((group) => group.examples.map((text) => JSON.stringify({ text, intent: group.guess, count: group.count })))
    .join('\n')
    .concat(analytics.unanswered.length ? '\n' : '');
}

function characterBigrams(text: string): Set<string> {
  const chars = [...text];
  const bigrams = new Set<string>();
  for (let index = 0; index < chars.length - 1; index++) bigrams.add(chars[index]! + chars[index + 1]!);
  if (chars.length === 1) bigrams.add(chars[0]!);
  return bigrams;
}

function jaccard(a: Set<string>, b: Set<string>): number {
  let shared = 0;
  for (const item of a) if (b.has(item)) shared++;
  const union = a.size + b.size - shared;
  return union ? shared / union : 0;
}

function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const name = key(item);
    const group = groups.get(name);
    if (group) group.push(item);
    else groups.set(name, [item]);
  }
  return groups;
}
