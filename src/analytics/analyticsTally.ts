import { verificationMethods, type Outcome, type VerificationMethod } from '../../flows/events.js';
import { newLegacyReading } from './legacyOutcomes.js';
import { NewestMessages, type UnansweredGroup } from './unansweredGroups.js';
import { lowConfidence, type Analytics, type AnalyticsRows } from './supportAnalytics.js';

type Turn = AnalyticsRows['turns'][number];
type Ticket = AnalyticsRows['tickets'][number];
type Rate = number | null;

const rate = (part: number, whole: number): Rate => (whole ? part / whole : null);
const stages = ['started', 'step1', 'step2', 'step3', 'step4', 'step5', 'step6', 'step7', 'completed'] as const;

/** What analytics keeps of one conversation while its rows arrive. */
interface ConversationTally {
  day: string;
  turns: number;
  maxStep: number;
  started: boolean;
  completed: boolean;
  /** The last of unbindStarted / unbindCancelled / unbindCompleted. */
  lastUnbind: Outcome['kind'] | undefined;
  legacy: ReturnType<typeof newLegacyReading>;
  attempted: Set<VerificationMethod>;
  passed: Set<VerificationMethod>;
  failed: Set<VerificationMethod>;
  /** The method the user was last verifying with: a pass the flow could not name a method for is this one. */
  lastMethod: VerificationMethod | undefined;
  tickets: number;
  verificationFailedTicket: boolean;
  helpfulRating: boolean;
}

interface DayTally {
  conversations: number;
  engaged: number;
  handedOff: number;
  resolved: number;
}

/**
 * The dashboard's figures, added up as rows arrive in slices: conversations first, then their turns
 * (in order within a conversation), tickets and ratings, then `finish` for the conversations that will
 * get no more rows. Only unfinished conversations are kept, so memory and the work per slice do not
 * grow with the range. Unanswered messages are kept up to `unansweredCap`, the newest ones.
 */
export class AnalyticsTally {
  private readonly open = new Map<string, ConversationTally>();
  private readonly days = new Map<string, DayTally>();
  private readonly funnelReached: number[] = stages.map(() => 0);
  private readonly cancelledAt: number[] = stages.map(() => 0);
  private readonly verification = new Map(verificationMethods.map((method) => [method, { method, attempted: 0, passed: 0, failed: 0, handedOff: 0 }]));
  private readonly intents = new Map<string, number>();
  private messages = 0;
  private fallbacks = 0;
  private helpful = 0;
  private notHelpful = 0;
  private answered = 0;
  private notCovered = 0;
  private readonly handoff = { requested: 0, resolvedByAgent: 0, handedBack: 0, userLeft: 0, waits: [] as number[], firstReplies: [] as number[] };
  private readonly claimed = new Map<string, { claimed: number; resolved: number }>();
  private readonly agentLines = new Map<string, number>();
  private agents: { id: string; name: string }[] = [];
  readonly unanswered: NewestMessages;

  constructor(unansweredCap: number) {
    this.unanswered = new NewestMessages(unansweredCap);
  }

  /** One slice of rows; `finished` lists the conversations whose rows are all in. */
  add(rows: Partial<AnalyticsRows>, finished: Iterable<string>): void {
    for (const conversation of rows.conversations ?? []) this.addConversation(conversation.id, conversation.createdAt);
    for (const turn of rows.turns ?? []) this.addTurn(turn);
    for (const ticket of rows.tickets ?? []) this.addTicket(ticket);
    for (const rating of rows.ratings ?? []) this.addRating(rating.conversationId, rating.helpful);
    for (const line of rows.agentLines ?? []) this.agentLines.set(line.agentId, (this.agentLines.get(line.agentId) ?? 0) + 1);
    if (rows.agents) this.agents = rows.agents;
    for (const id of finished) this.finish(id);
  }

  /** Agent lines counted by the store rather than listed one by one. */
  addAgentLineCount(agentId: string, lines: number): void {
    this.agentLines.set(agentId, (this.agentLines.get(agentId) ?? 0) + lines);
  }

  addConversation(id: string, createdAt: string): void {
    this.open.set(id, {
      day: createdAt.slice(0, 10),
      turns: 0,
      maxStep: 0,
      started: false,
      completed: false,
      lastUnbind: undefined,
      legacy: newLegacyReading(),
      attempted: new Set(),
      passed: new Set(),
      failed: new Set(),
      lastMethod: undefined,
      tickets: 0,
      verificationFailedTicket: false,
      helpfulRating: false,
    });
  }

  addTurn(turn: Turn): void {
    this.messages++;
    this.intents.set(turn.intent, (this.intents.get(turn.intent) ?? 0) + 1);
    if (!turn.fromPayload && turn.intent === 'out_of_scope') this.fallbacks++;
    if (!turn.fromPayload && (turn.intent === 'out_of_scope' || turn.confidence < lowConfidence)) this.unanswered.offer({ text: turn.text, at: turn.at, intent: turn.intent });
    const conversation = this.open.get(turn.conversationId);
    if (!conversation) return;
    conversation.turns++;
    conversation.maxStep = Math.max(conversation.maxStep, turn.step);
    for (const outcome of turn.outcomes ?? conversation.legacy.read(turn)) this.addOutcome(conversation, outcome);
  }

  private addOutcome(conversation: ConversationTally, outcome: Outcome): void {
    switch (outcome.kind) {
      case 'unbindStarted':
        conversation.started = true;
        conversation.lastUnbind = outcome.kind;
        return;
      case 'unbindCompleted':
        conversation.completed = true;
        conversation.lastUnbind = outcome.kind;
        return;
      case 'unbindCancelled':
        conversation.lastUnbind = outcome.kind;
        return;
      case 'answered':
        this.answered++;
        return;
      case 'notCovered':
        this.notCovered++;
        return;
      case 'verificationAttempted':
      case 'verificationFailed':
      case 'verificationPassed': {
        const method = outcome.method ?? conversation.lastMethod;
        if (!method) return;
        conversation.lastMethod = method;
        conversation.attempted.add(method);
        if (outcome.kind === 'verificationFailed') conversation.failed.add(method);
        if (outcome.kind === 'verificationPassed') conversation.passed.add(method);
        return;
      }
      default:
        return;
    }
  }

  addTicket(ticket: Ticket): void {
    const conversation = this.open.get(ticket.conversationId);
    if (conversation) {
      conversation.tickets++;
      if (ticket.reason === 'verification_failed') conversation.verificationFailedTicket = true;
    }
    const seconds = (to: string | null | undefined) => (to ? (Date.parse(to) - Date.parse(ticket.createdAt)) / 1000 : undefined);
    this.handoff.requested++;
    if (ticket.resolution === 'resolved' && ticket.assignedAgentId) this.handoff.resolvedByAgent++;
    if (ticket.resolution === 'handed_back') this.handoff.handedBack++;
    if (ticket.resolution === 'user_left') this.handoff.userLeft++;
    const wait = seconds(ticket.assignedAt);
    if (wait !== undefined) this.handoff.waits.push(wait);
    const firstReply = seconds(ticket.firstAgentReplyAt);
    if (firstReply !== undefined) this.handoff.firstReplies.push(firstReply);
    if (ticket.assignedAgentId) {
      const agent = this.claimed.get(ticket.assignedAgentId) ?? { claimed: 0, resolved: 0 };
      agent.claimed++;
      if (ticket.resolution === 'resolved') agent.resolved++;
      this.claimed.set(ticket.assignedAgentId, agent);
    }
  }

  addRating(conversationId: string, helpful: boolean): void {
    if (helpful) this.helpful++;
    else this.notHelpful++;
    const conversation = this.open.get(conversationId);
    if (conversation && helpful) conversation.helpfulRating = true;
  }

  /** Adds a conversation whose rows are all in to the figures, and forgets it. */
  finish(id: string): void {
    const conversation = this.open.get(id);
    if (!conversation) return;
    this.open.delete(id);
    const day = this.days.get(conversation.day) ?? { conversations: 0, engaged: 0, handedOff: 0, resolved: 0 };
    this.days.set(conversation.day, day);
    day.conversations++;
    if (conversation.turns === 0) return;
    day.engaged++;
    if (conversation.tickets > 0) day.handedOff++;
    if (conversation.completed || conversation.helpfulRating) day.resolved++;

    const reached = (stage: (typeof stages)[number]) =>
      stage === 'started' ? conversation.started : stage === 'completed' ? conversation.completed : conversation.maxStep >= Number(stage.slice(4));
    stages.forEach((stage, index) => {
      if (reached(stage)) this.funnelReached[index]!++;
    });
    // Did not complete and the last attempt ended with the user stopping it: counted at the highest step reached.
    if (conversation.started && !conversation.completed && conversation.lastUnbind === 'unbindCancelled' && conversation.maxStep < stages.length - 1) {
      this.cancelledAt[conversation.maxStep]!++;
    }

    for (const method of conversation.attempted) this.verification.get(method)!.attempted++;
    for (const method of conversation.passed) this.verification.get(method)!.passed++;
    for (const method of conversation.failed) if (!conversation.passed.has(method)) this.verification.get(method)!.failed++;
    const last = conversation.lastMethod;
    if (last && conversation.failed.has(last) && !conversation.passed.has(last) && conversation.verificationFailedTicket) this.verification.get(last)!.handedOff++;
  }

  /** The figures, once every conversation is finished; `unanswered` is grouped by the caller. */
  result(range: { from: string; to: string }, unanswered: UnansweredGroup[], considered: number): Analytics {
    for (const id of [...this.open.keys()]) this.finish(id);
    const summary = (day: DayTally) => ({
      conversations: day.conversations,
      engaged: day.engaged,
      handedOff: day.handedOff,
      deflectionRate: rate(day.engaged - day.handedOff, day.engaged),
      resolved: day.resolved,
      resolutionRate: rate(day.resolved, day.engaged),
    });
    const all: DayTally = { conversations: 0, engaged: 0, handedOff: 0, resolved: 0 };
    for (const day of this.days.values()) {
      all.conversations += day.conversations;
      all.engaged += day.engaged;
      all.handedOff += day.handedOff;
      all.resolved += day.resolved;
    }
    return {
      range,
      totals: {
        ...summary(all),
        messages: this.messages,
        fallbacks: this.fallbacks,
        fallbackRate: rate(this.fallbacks, this.messages),
        ratings: { helpful: this.helpful, notHelpful: this.notHelpful, satisfaction: rate(this.helpful, this.helpful + this.notHelpful) },
        questions: { answered: this.answered, notCovered: this.notCovered },
      },
      daily: [...this.days].sort(([a], [b]) => a.localeCompare(b)).map(([day, tally]) => ({ day, ...summary(tally) })),
      funnel: stages.map((stage, index) => ({
        stage,
        reached: this.funnelReached[index]!,
        droppedHere: index + 1 < stages.length ? this.funnelReached[index]! - this.funnelReached[index + 1]! : 0,
        cancelledHere: this.cancelledAt[index]!,
      })),
      verification: [...this.verification.values()],
      topIntents: [...this.intents]
        .map(([intent, count]) => ({ intent, count }))
        .sort((a, b) => b.count - a.count || a.intent.localeCompare(b.intent))
        .slice(0, 15),
      unanswered,
      unansweredMessages: { total: this.unanswered.total, considered },
      handoffs: {
        requested: this.handoff.requested,
        resolvedByAgent: this.handoff.resolvedByAgent,
        handedBack: this.handoff.handedBack,
        userLeft: this.handoff.userLeft,
        medianWaitSeconds: median(this.handoff.waits),
        medianFirstReplySeconds: median(this.handoff.firstReplies),
        perAgent: this.agents.map(({ id, name }) => ({
          id,
          name,
          claimed: this.claimed.get(id)?.claimed ?? 0,
          resolved: this.claimed.get(id)?.resolved ?? 0,
          messages: this.agentLines.get(id) ?? 0,
        })),
      },
    };
  }
}

function median(values: number[]): number | null {
  if (!values.length) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}
