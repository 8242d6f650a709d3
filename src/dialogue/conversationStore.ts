import type { Script } from '../nlu/index.js';

export interface TranscriptEntry {
  role: 'user' | 'bot';
  /** Already redacted: a secret the user typed never reaches a store. */
  text: string;
  at: string;
  intent?: { name: string; confidence: number };
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
  /** Persists the new state and appends the turn's transcript entries, together or not at all. */
  saveTurn(conversationId: string, state: ConversationState, entries: readonly TranscriptEntry[]): Promise<void>;
  transcript(conversationId: string): Promise<TranscriptEntry[]>;
}

/** Keeps conversations in memory: for tests, the terminal chat, and one-process demos. */
export class MemoryConversationStore implements ConversationStore {
  private readonly states = new Map<string, string>();
  private readonly transcripts = new Map<string, TranscriptEntry[]>();

  async load(conversationId: string): Promise<ConversationState | undefined> {
    const json = this.states.get(conversationId);
    // Stored as JSON text, as a database would, so nothing shares object identity with a live actor.
    return json === undefined ? undefined : (JSON.parse(json) as ConversationState);
  }

  async saveTurn(conversationId: string, state: ConversationState, entries: readonly TranscriptEntry[]): Promise<void> {
    const json = JSON.stringify(state);
    this.states.set(conversationId, json);
    this.transcripts.set(conversationId, [...(this.transcripts.get(conversationId) ?? []), ...entries]);
  }

  async transcript(conversationId: string): Promise<TranscriptEntry[]> {
    return [...(this.transcripts.get(conversationId) ?? [])];
  }
}
