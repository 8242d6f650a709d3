import type { Outcome } from '../../flows/events.js';
import type { ReplyPicture, ReplyTone } from '../content/schemas.js';
import type { Script } from '../nlu/index.js';
import type { Progress } from './unbindingProgress.js';

export interface TranscriptEntry {
  role: 'user' | 'bot' | 'agent';
  /** Already redacted: a secret the user typed never reaches a store. */
  text: string;
  at: string;
  intent?: { name: string; confidence: number };
  /** On bot lines: the buttons offered, so a reloaded widget can show them again. */
  quickReplies?: { title: string; payload: string }[];
  /** On agent lines: who wrote it, as the user sees it. */
  agentName?: string;
  agentId?: string;
  /** The line's place in the conversation (1, 2, …), set by the store; `?after=<seq>` reads on from one. */
  seq?: number;
  /** On user lines: the client's own id for the message (unique in the conversation), so a resend is recognised. */
  clientMessageId?: string;
  /** On user lines: redaction changed what the user sent before it was stored. */
  redacted?: boolean;
  /** On bot lines: the response the line renders (`unbind.step2`), so a turn can be answered again as it was. */
  responseId?: string;
  /** On bot lines: the response's tone when it has one (the secret warning). */
  tone?: ReplyTone;
  /** On bot lines: the step picture shown inside it, so a reloaded widget draws it again. */
  picture?: ReplyPicture;
}

/** A message a client sent before with the same clientMessageId: its line, what the bot answered, and what the turn did. */
export interface AcceptedMessage {
  line: TranscriptEntry & { seq: number };
  /** The bot lines of that turn, in order. */
  replies: TranscriptEntry[];
  /** The turn's record; absent when the message went to an agent (no bot turn was taken). */
  record?: Pick<TurnRecord, 'event' | 'stateAfter' | 'step' | 'outcomes'>;
}

/** A conversation handed to a human: what the agent needs to pick it up. */
export interface HandoffTicketInput {
  conversationId: string;
  reason: string;
  /** The unbinding step reached (0 when the user was not in the steps). */
  step: number;
  /** Where the conversation was, e.g. "unbinding.confirmUnbind.verifying.offeringHuman". */
  state: string;
  createdAt: string;
}

/** Who holds a handed-over conversation: nobody yet, one agent, or nobody any more. */
export type HandoffStatus = 'waiting' | 'assigned' | 'resolved';
/** How a handover ended: the agent resolved it, handed it back to the bot, or the user stopped waiting. */
export type HandoffResolution = 'resolved' | 'handed_back' | 'user_left';

export interface HandoffTicket extends HandoffTicketInput {
  id: number;
  /** The dashboard's view: open until resolved (resolved ⇒ closed). */
  status: 'open' | 'closed';
  closedAt: string | null;
  handoffStatus: HandoffStatus;
  assignedAgentId: string | null;
  assignedAt: string | null;
  firstAgentReplyAt: string | null;
  resolvedAt: string | null;
  resolution: HandoffResolution | null;
}

/** A support agent; the token itself is never stored, only its scrypt hash. */
export interface Agent {
  id: string;
  name: string;
  createdAt: string;
  disabledAt: string | null;
  lastSeenAt: string | null;
}

export interface AgentRecord extends Agent {
  /** `scrypt:<salt hex>:<hash hex>` of the token's secret part. */
  tokenHash: string;
}

/** Why an agent's line was refused; the API maps each to a 409. */
export type AgentLineRefusal = 'not_assigned' | 'not_assigned_to_you';

/** One user turn as analytics sees it: what was said (redacted), understood, and what the bot did. */
export interface TurnRecord {
  at: string;
  text: string;
  fromPayload: boolean;
  intent: string;
  confidence: number;
  event: string;
  stateBefore: string;
  stateAfter: string;
  /** The unbinding step shown after the turn, 0 outside the steps. */
  step: number;
  /** Response ids the bot said, in order (e.g. "verify.guide.sms", "unbind.completed"). */
  said: string[];
  /** What happened, as the flows said it: analytics reads these, never the response ids. */
  outcomes: Outcome[];
}

/** Everything one turn writes, in one transaction. */
export interface StoredTurn {
  state: ConversationState;
  entries: readonly TranscriptEntry[];
  /** On the turn the conversation is handed to a human. */
  ticket?: HandoffTicketInput;
  /** Absent for the greeting, which is not a user turn. */
  record?: TurnRecord;
  /** The handover this turn ends (the user stopped waiting, an agent resolved or handed back). */
  resolveTicket?: { id: number; resolution: HandoffResolution; at: string };
  /** The user's line of this turn belongs to this open ticket (reported as `message.created`). */
  ticketLine?: number;
  /** `state.snapshot` as JSON, when the caller has it already: stored as it is, so it can be compared with what is read back. */
  snapshotText?: string;
  /**
   * The conversation's version the turn started from (TurnContext.version): the store saves only if
   * it is still that, else throws TurnConflictError and writes nothing. Absent: saved whatever it is.
   */
  expectedVersion?: number;
}

/** What saving a turn assigned: the seq of each entry, and the ticket it created. */
export interface SavedTurn {
  seqs: number[];
  ticket?: HandoffTicket;
}

/** What is kept of a conversation between turns. */
export interface ConversationState {
  /** Hash of the flow definitions that wrote `snapshot`; a different one means the flows changed since. */
  flowVersion: string;
  /** xstate's persisted snapshot of the conversation machine (plain JSON). */
  snapshot: unknown;
  /** The script the user last wrote in (at first: the one the locale reads), so a reply to "好" keeps it. */
  script: Script;
  /** The user's BCP 47 locale as the client sent it at the start (navigator.language), canonical: it picks the regional wording. */
  locale?: string;
  /** The buttons the last turn offered: typing a button's title does what clicking it does. */
  lastQuickReplies?: { title: string; payload: string }[];
  /** The response id of the question the last turn asked (`unbind.askBalance`), when it asked one. */
  openQuestion?: string;
  /**
   * Set by the turn that ended the unbinding (done, cancelled, handed off): where it ended and how,
   * so the conversation's view agrees with that turn until the next one.
   */
  endedProgress?: Progress;
}

/** What a turn reads before it runs: who may take it, where the conversation is, and its latest ticket. */
export interface TurnContext {
  /** The token hash and last activity, for a channel to check the sender against before anything runs. */
  access: { tokenHash: string; lastActiveAt?: string };
  state: ConversationState | undefined;
  ticket: HandoffTicket | undefined;
  /** The snapshot exactly as stored (JSON text): a kept actor is used only if it wrote this text. */
  snapshotText?: string;
  /** How many turns have been saved; a store that keeps it refuses a save over a newer one (StoredTurn.expectedVersion). */
  version?: number;
}

/** Where conversations live between turns. One turn = load, then one atomic saveTurn. */
export interface ConversationStore {
  load(conversationId: string): Promise<ConversationState | undefined>;
  /**
   * A turn's context in one read (undefined: no such conversation). Optional: without it the engine
   * reads the state and the ticket one after the other, and a turn cannot be admitted by token.
   */
  turnContext?(conversationId: string): Promise<TurnContext | undefined>;
  /**
   * Runs one attempt at a turn (read, decide, save) as the only turn of this conversation anywhere:
   * a store shared by several server instances holds a lock for it that dies with its connection.
   * Optional: a store used by one process relies on the engine's queue and the version check.
   */
  withTurnLock?<T>(conversationId: string, turn: () => Promise<T>): Promise<T>;
  /** Persists the new state, the transcript lines, the ticket and the turn record, together or not at all. */
  saveTurn(conversationId: string, turn: StoredTurn): Promise<SavedTurn>;
  /** The lines of a conversation in order; with `afterSeq`, only those after that line. */
  transcript(conversationId: string, afterSeq?: number): Promise<TranscriptEntry[]>;
  /** The user's line that carried this clientMessageId, with its turn's replies and record; undefined when none did. */
  acceptedMessage(conversationId: string, clientMessageId: string): Promise<AcceptedMessage | undefined>;
  tickets(): Promise<HandoffTicket[]>;
  /** The conversation's latest ticket (whatever its status), if it was ever handed over. */
  currentTicket(conversationId: string): Promise<HandoffTicket | undefined>;
  /** How many waiting tickets are ahead of this one (0: it is next). */
  queuePosition(ticketId: number): Promise<number>;
}

/** Agents and the life of a handover: what the agent API needs from storage. */
export interface SupportStore {
  createAgent(agent: AgentRecord): Promise<void>;
  agents(): Promise<Agent[]>;
  agentRecord(id: string): Promise<AgentRecord | undefined>;
  disableAgent(id: string, at: string): Promise<boolean>;
  touchAgent(id: string, at: string): Promise<void>;
  /** Agents not disabled whose last call was at or after `sinceIso`. */
  agentsSeenSince(sinceIso: string): Promise<number>;
  currentTicket(conversationId: string): Promise<HandoffTicket | undefined>;
  queuePosition(ticketId: number): Promise<number>;
  /** Latest ticket per conversation with this status; waiting ones oldest first, others newest first. */
  ticketsWithStatus(status: HandoffStatus): Promise<HandoffTicket[]>;
  /** One conditional update: true for exactly one of any number of concurrent claims. */
  claimTicket(ticketId: number, agentId: string, at: string): Promise<boolean>;
  /** Appends an agent's (redacted) line if the ticket is assigned to that agent, in one transaction. */
  addAgentLine(ticketId: number, agent: Pick<Agent, 'id' | 'name'>, text: string, at: string): Promise<TranscriptEntry | AgentLineRefusal>;
}

/** A page of the dashboard's ticket list: newest first, `before` the last id of the previous page. */
export interface TicketPageQuery {
  status: 'open' | 'closed' | 'all';
  before?: number;
  limit: number;
}

/** The dashboard's ticket list, read a page at a time. */
export interface TicketListing {
  ticketsPage(query: TicketPageQuery): Promise<HandoffTicket[]>;
  /** How many tickets have this status (`all`: every ticket). */
  ticketCount(status: TicketPageQuery['status']): Promise<number>;
}

/**
 * The bot lines of the turn a user line opened, from the lines after it: a turn's lines are written
 * together, with the user line's time, so they are the bot lines that follow it at that time. A
 * note the bot pushes later (an agent handed back) has a time of its own.
 */
export function turnReplies(userLine: TranscriptEntry, following: readonly TranscriptEntry[]): TranscriptEntry[] {
  const replies: TranscriptEntry[] = [];
  for (const entry of following) {
    if (entry.role !== 'bot' || entry.at !== userLine.at) break;
    replies.push({ ...entry });
  }
  return replies;
}

/** A new ticket as the store starts it: waiting, nobody assigned. */
export function newTicket(input: HandoffTicketInput, id: number): HandoffTicket {
  return {
    ...input,
    id,
    status: 'open',
    closedAt: null,
    handoffStatus: 'waiting',
    assignedAgentId: null,
    assignedAt: null,
    firstAgentReplyAt: null,
    resolvedAt: null,
    resolution: null,
  };
}

/** Ends a ticket in place (resolved ⇒ closed); false when it had already ended. */
export function endTicket(ticket: HandoffTicket, resolution: HandoffResolution, at: string): boolean {
  if (ticket.handoffStatus === 'resolved') return false;
  Object.assign(ticket, { handoffStatus: 'resolved', resolution, resolvedAt: at, status: 'closed', closedAt: ticket.closedAt ?? at });
  return true;
}

/** Keeps conversations in memory: for tests, the terminal chat, and one-process demos. */
export class MemoryConversationStore implements ConversationStore, SupportStore {
  private readonly states = new Map<string, string>();
  private readonly transcripts = new Map<string, TranscriptEntry[]>();
  private readonly allTickets: HandoffTicket[] = [];
  private readonly allAgents = new Map<string, AgentRecord>();
  readonly records: (TurnRecord & { conversationId: string; userSeq: number })[] = [];

  async load(conversationId: string): Promise<ConversationState | undefined> {
    const json = this.states.get(conversationId);
    // Stored as JSON text, as a database would, so nothing shares object identity with a live actor.
    return json === undefined ? undefined : (JSON.parse(json) as ConversationState);
  }

  async saveTurn(conversationId: string, { state, entries, ticket, record, resolveTicket }: StoredTurn): Promise<SavedTurn> {
    const json = JSON.stringify(state);
    this.states.set(conversationId, json);
    const lines = this.transcripts.get(conversationId) ?? [];
    const seqs = entries.map((entry) => {
      const seq = lines.length + 1;
      lines.push({ ...entry, seq });
      return seq;
    });
    this.transcripts.set(conversationId, lines);
    if (resolveTicket) {
      const open = this.allTickets.find((candidate) => candidate.id === resolveTicket.id);
      if (open) endTicket(open, resolveTicket.resolution, resolveTicket.at);
    }
    let created: HandoffTicket | undefined;
    if (ticket) this.allTickets.push((created = newTicket(ticket, this.allTickets.length + 1)));
    if (record) this.records.push({ ...record, conversationId, userSeq: seqs[0] ?? 0 });
    return created ? { seqs, ticket: { ...created } } : { seqs };
  }

  async acceptedMessage(conversationId: string, clientMessageId: string): Promise<AcceptedMessage | undefined> {
    const lines = this.transcripts.get(conversationId) ?? [];
    const index = lines.findIndex((entry) => entry.role === 'user' && entry.clientMessageId === clientMessageId);
    if (index < 0) return undefined;
    const line = { ...lines[index]!, seq: lines[index]!.seq ?? index + 1 };
    const replies = turnReplies(line, lines.slice(index + 1));
    const record = this.records.find((candidate) => candidate.conversationId === conversationId && candidate.userSeq === line.seq);
    return record ? { line, replies, record } : { line, replies };
  }

  async tickets(): Promise<HandoffTicket[]> {
    return this.allTickets.map((ticket) => ({ ...ticket }));
  }

  async transcript(conversationId: string, afterSeq = 0): Promise<TranscriptEntry[]> {
    return (this.transcripts.get(conversationId) ?? []).filter((entry) => (entry.seq ?? 0) > afterSeq).map((entry) => ({ ...entry }));
  }

  async currentTicket(conversationId: string): Promise<HandoffTicket | undefined> {
    const ticket = this.allTickets.filter((candidate) => candidate.conversationId === conversationId).at(-1);
    return ticket && { ...ticket };
  }

  async queuePosition(ticketId: number): Promise<number> {
    return this.allTickets.filter((ticket) => ticket.handoffStatus === 'waiting' && ticket.id < ticketId).length;
  }

  async ticketsWithStatus(status: HandoffStatus): Promise<HandoffTicket[]> {
    const latest = new Map<string, HandoffTicket>();
    for (const ticket of this.allTickets) latest.set(ticket.conversationId, ticket);
    const matching = [...latest.values()].filter((ticket) => ticket.handoffStatus === status).map((ticket) => ({ ...ticket }));
    return status === 'waiting' ? matching.sort((a, b) => a.id - b.id) : matching.sort((a, b) => b.id - a.id);
  }

  async claimTicket(ticketId: number, agentId: string, at: string): Promise<boolean> {
    const ticket = this.allTickets.find((candidate) => candidate.id === ticketId);
    if (ticket?.handoffStatus !== 'waiting') return false;
    Object.assign(ticket, { handoffStatus: 'assigned', assignedAgentId: agentId, assignedAt: at });
    return true;
  }

  async addAgentLine(ticketId: number, agent: Pick<Agent, 'id' | 'name'>, text: string, at: string): Promise<TranscriptEntry | AgentLineRefusal> {
    const ticket = this.allTickets.find((candidate) => candidate.id === ticketId);
    if (ticket?.handoffStatus !== 'assigned') return 'not_assigned';
    if (ticket.assignedAgentId !== agent.id) return 'not_assigned_to_you';
    ticket.firstAgentReplyAt ??= at;
    const lines = this.transcripts.get(ticket.conversationId) ?? [];
    const entry: TranscriptEntry = { role: 'agent', text, at, agentId: agent.id, agentName: agent.name, seq: lines.length + 1 };
    lines.push(entry);
    this.transcripts.set(ticket.conversationId, lines);
    return { ...entry };
  }

  async createAgent(agent: AgentRecord): Promise<void> {
    this.allAgents.set(agent.id, { ...agent });
  }

  async agents(): Promise<Agent[]> {
    return [...this.allAgents.values()].map(({ tokenHash: _hash, ...agent }) => agent);
  }

  async agentRecord(id: string): Promise<AgentRecord | undefined> {
    const agent = this.allAgents.get(id);
    return agent && { ...agent };
  }

  async disableAgent(id: string, at: string): Promise<boolean> {
    const agent = this.allAgents.get(id);
    if (!agent) return false;
    agent.disabledAt ??= at;
    return true;
  }

  async touchAgent(id: string, at: string): Promise<void> {
    const agent = this.allAgents.get(id);
    if (agent) agent.lastSeenAt = at;
  }

  async agentsSeenSince(sinceIso: string): Promise<number> {
    return [...this.allAgents.values()].filter((agent) => !agent.disabledAt && agent.lastSeenAt !== null && agent.lastSeenAt >= sinceIso).length;
  }
}

/** A rating is for one answer: refused when the conversation has answered nothing yet. */
export type RatingResult = { rated: true; answerSeq: number } | { rated: false };

/** What a conversation's owner and the retention setting may ask of storage. */
export interface PrivacyStore {
  /** Rates one answer (`answerSeq`, or 0 for the latest); a second rating of it replaces the first. */
  rate(conversationId: string, helpful: boolean, at: string, answerSeq?: number): Promise<RatingResult>;
  /** Deletes the conversation and everything it holds; false when there was none. */
  deleteConversation(conversationId: string): Promise<boolean>;
  /** Deletes conversations whose last activity was before `beforeIso`, at most `limit`; returns how many. */
  deleteInactiveBefore(beforeIso: string, limit: number): Promise<number>;
}

/**
 * A turn was about to be saved over a conversation that another turn changed after this one read it
 * (two processes took a message of the same conversation at once). Nothing was saved: the engine runs
 * the turn again from the newer state.
 */
export class TurnConflictError extends Error {
  override name = 'TurnConflictError';
  constructor(readonly conversationId: string) {
    super(`conversation ${conversationId} changed while a turn ran`);
  }
}

/**
 * A turn finished for a conversation that was deleted while it ran (or before, on a socket that
 * was still open): nothing is saved, so a deletion can never be undone by a late message.
 */
export class ConversationGoneError extends Error {
  override name = 'ConversationGoneError';
  constructor(readonly conversationId: string) {
    super(`conversation ${conversationId} no longer exists`);
  }
}
