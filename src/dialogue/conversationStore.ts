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
export interface HandoffTicket {
  conversationId: string;
  reason: string;
  /** The unbinding step reached (0 when the user was not in the steps). */
  step: number;
  /** Where the conversation was, e.g. "unbinding.confirmUnbind.verifying.offeringHuman". */
  state: string;
  createdAt: string;
}

/** What is kept of a conversation between turns. */
export interface ConversationState {
  /** Hash of the flow definitions that wrote `snapshot`; a different one means the flows changed since. */
  flowVersion: string;
  /** xstate's persisted snapshot of the conversation machine (plain JSON). */
  snapshot: unknown;
  /** The script the user last wrote in, so a reply to "好" keeps the user's script. */
  script: Script;
}

/** Where conversations live between turns. One turn = load, then one atomic saveTurn. */
export interface ConversationStore {
  load(conversationId: string): Promise<ConversationState | undefined>;
  /**
   * Persists the new state and appends the turn's transcript entries (and the ticket, on the turn
   * the conversation is handed off), together or not at all.
   */
  saveTurn(conversationId: string, state: ConversationState, entries: readonly TranscriptEntry[], ticket?: HandoffTicket): Promise<void>;
  transcript(conversationId: string): Promise<TranscriptEntry[]>;
  tickets(): Promise<HandoffTicket[]>;
}

/** Keeps conversations in memory: for tests, the terminal chat, and one-process demos. */
export class MemoryConversationStore implements ConversationStore {
  private readonly states = new Map<string, string>();
  private readonly transcripts = new Map<string, TranscriptEntry[]>();
  private readonly openTickets: HandoffTicket[] = [];

  async load(conversationId: string): Promise<ConversationState | undefined> {
    const json = this.states.get(conversationId);
    // Stored as JSON text, as a database would, so nothing shares object identity with a live actor.
    return json === undefined ? undefined : (JSON.parse(json) as ConversationState);
  }

  async saveTurn(conversationId: string, state: ConversationState, entries: readonly TranscriptEntry[], ticket?: HandoffTicket): Promise<void> {
    const json = JSON.stringify(state);
    this.states.set(conversationId, json);
    this.transcripts.set(conversationId, [...(this.transcripts.get(conversationId) ?? []), ...entries]);
    if (ticket) this.openTickets.push({ ...ticket });
  }

  async tickets(): Promise<HandoffTicket[]> {
    return this.openTickets.map((ticket) => ({ ...ticket }));
  }

  async transcript(conversationId: string): Promise<TranscriptEntry[]> {
    return [...(this.transcripts.get(conversationId) ?? [])];
  }
}
