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
  }[];
  tickets: { conversationId: string; reason: string; createdAt: string }[];
  ratings: { conversationId: string; at: string; helpful: boolean }[];
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
  };
  daily: { day: string; conversations: number; engaged: number; handedOff: number; deflectionRate: Rate; resolved: number; resolutionRate: Rate }[];
  funnel: { stage: string; reached: number; droppedHere: number }[];
  verification: { method: string; attempted: number; passed: number; failed: number; handedOff: number }[];
  topIntents: { intent: string; count: number }[];
  unanswered: { text: string; count: number; examples: string[]; lastAt: string; guess: string }[];
}

const rate = (part: number, whole: number): Rate => (whole ? part / whole : null);
const methods = ['sms', 'biometric', 'securityQuestion'] as const;
/** Which method a troubleshooting tip belongs to, for users who reported a problem straight away. */
const tipMethod: Record<string, (typeof methods)[number]> = {
  'verify.tip.signal': 'sms',
  'verify.tip.phoneNumber': 'sms',
  'verify.tip.restart': 'biometric',
  'verify.tip.checkAnswer': 'securityQuestion',
};
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
    const said = turns.flatMap((turn) => turn.said);
    const tickets = ticketsBy.get(id) ?? [];
    const ratings = ratingsBy.get(id) ?? [];
    return {
      day: createdAt.slice(0, 10),
      engaged: turns.length > 0,
      handedOff: tickets.length > 0,
      completed: said.includes('unbind.completed'),
      resolved: said.includes('unbind.completed') || ratings.some((rating) => rating.helpful),
      started: turns.some((turn) => turn.stateAfter.startsWith('unbinding')),
      maxStep: Math.max(0, ...turns.map((turn) => turn.step)),
      turns,
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

  const days = groupBy(perConversation, (conversation) => conversation.day);
  return {
    range,
    totals: {
      ...summarize(perConversation),
      messages: userTurns.length,
      fallbacks,
      fallbackRate: rate(fallbacks, userTurns.length),
      ratings: { helpful, notHelpful, satisfaction: rate(helpful, rows.ratings.length) },
    },
    daily: [...days].sort(([a], [b]) => a.localeCompare(b)).map(([day, group]) => ({ day, ...summarize(group) })),
    funnel: stages.map((stage, index) => ({ stage, reached: reached[index]!, droppedHere: index + 1 < stages.length ? reached[index]! - reached[index + 1]! : 0 })),
    verification: verificationOutcomes(engaged),
    topIntents: [...groupBy(userTurns, (turn) => turn.intent)]
      .map(([intent, turns]) => ({ intent, count: turns.length }))
      .sort((a, b) => b.count - a.count || a.intent.localeCompare(b.intent))
      .slice(0, 15),
    unanswered: unansweredQuestions(userTurns.filter((turn) => !turn.fromPayload && (turn.intent === 'out_of_scope' || turn.confidence < lowConfidence)), normalizer),
  };
}

function verificationOutcomes(conversations: { turns: AnalyticsRows['turns']; tickets: AnalyticsRows['tickets'] }[]) {
  const counts = new Map(methods.map((method) => [method, { method, attempted: 0, passed: 0, failed: 0, handedOff: 0 }]));
  for (const { turns, tickets } of conversations) {
    let current: (typeof methods)[number] | undefined;
    const attempted = new Set<string>();
    const failedWith = new Set<string>();
    for (const key of turns.flatMap((turn) => turn.said)) {
      const guided = /^verify\.guide\.(\w+)$/.exec(key)?.[1] as (typeof methods)[number] | undefined;
      const method = guided ?? tipMethod[key];
      if (method && counts.has(method)) {
        current = method;
        if (!attempted.has(method)) counts.get(method)!.attempted++;
        attempted.add(method);
      }
      if (!current) continue;
      if (key === 'verify.passed') counts.get(current)!.passed++;
      if (key === 'verify.offerHuman' && !failedWith.has(current)) {
        counts.get(current)!.failed++;
        failedWith.add(current);
      }
    }
    if (current && tickets.some((ticket) => ticket.reason === 'verification_failed')) counts.get(current)!.handedOff++;
  }
  return [...counts.values()];
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
