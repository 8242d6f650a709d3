import type { Outcome } from '../../flows/events.js';
import type { Script } from '../nlu/index.js';

export interface TranscriptEntry {
  role: 'user' | 'bot';
  /** Already redacted: a secret the user typed never reaches a store. */
  text: string;
  at: string;
  intent?: { name: string; confidence: number };
  /** On bot lines: the buttons offered, so a reloaded widget can show them again. */
  quickReplies?: { title: string; payload: string }[];
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

export interface HandoffTicket extends HandoffTicketInput {
  id: number;
  status: 'open' | 'closed';
  closedAt: string | null;
}

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
}

/** What is kept of a conversation between turns. */
export interface ConversationState {
  /** Hash of the flow definitions that wrote `snapshot`; a different one means the flows changed since. */
  flowVersion: string;
  /** xstate's persisted snapshot of the conversation machine (plain JSON). */
  snapshot: unknown;
  /** The script the user last wrote in, so a reply to "好" keeps the user's script. */
  script: Script;
  /** The buttons the last turn offered: typing a button's title does what clicking it does. */
  lastQuickReplies?: { title: string; payload: string }[];
  /** The response id of the question the last turn asked (`unbind.askBalance`), when it asked one. */
  openQuestion?: string;
}

/** Where conversations live between turns. One turn = load, then one atomic saveTurn. */
export interface ConversationStore {
  load(conversationId: string): Promise<ConversationState | undefined>;
  /** Persists the new state, the transcript lines, the ticket and the turn record, together or not at all. */
  saveTurn(conversationId: string, turn: StoredTurn): Promise<void>;
  transcript(conversationId: string): Promise<TranscriptEntry[]>;
  tickets(): Promise<HandoffTicket[]>;
}

/** Keeps conversations in memory: for tests, the terminal chat, and one-process demos. */
export class MemoryConversationStore implements ConversationStore {
  private readonly states = new Map<string, string>();
  private readonly transcripts = new Map<string, TranscriptEntry[]>();
  private readonly allTickets: HandoffTicket[] = [];
  readonly records: (TurnRecord & { conversationId: string })[] = [];

  async load(conversationId: string): Promise<ConversationState | undefined> {
    const json = this.states.get(conversationId);
    // Stored as JSON text, as a database would, so nothing shares object identity with a live actor.
    return json === undefined ? undefined : (JSON.parse(json) as ConversationState);
  }

  async saveTurn(conversationId: string, { state, entries, ticket, record }: StoredTurn): Promise<void> {
    const json = JSON.stringify(state);
    this.states.set(conversationId, json);
    this.transcripts.set(conversationId, [...(this.transcripts.get(conversationId) ?? []), ...entries]);
    if (ticket) this.allTickets.push({ ...ticket, id: this.allTickets.length + 1, status: 'open', closedAt: null });
    if (record) this.records.push({ ...record, conversationId });
  }

  async tickets(): Promise<HandoffTicket[]> {
    return this.allTickets.map((ticket) => ({ ...ticket }));
  }

  async transcript(conversationId: string): Promise<TranscriptEntry[]> {
    return [...(this.transcripts.get(conversationId) ?? [])];
  }
}
