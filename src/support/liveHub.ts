import type { ReplyScript } from '../nlu/index.js';
import type { ReplyPicture, ReplyTone } from '../content/schemas.js';

/**
 * Live delivery inside one process: frames for a conversation's widget sockets, and events for the
 * agents' inbox streams. Whoever holds a socket or a stream subscribes; the desk publishes. Nothing
 * is kept: a client that was away reads what it missed from the transcript (`?after=<seq>`).
 */
export type WidgetFrame =
  | { type: 'agent.message'; text: string; agentName: string; at: string; seq: number }
  | { type: 'agent.typing' }
  | { type: 'handoff.status'; status: 'waiting' | 'assigned' | 'resolved'; position?: number; agentName?: string; serviceHours: string; available: boolean }
  | { type: 'message'; text: string; id: string; tone?: ReplyTone; picture?: ReplyPicture; quick_replies: { title: string; payload: string }[]; progress: null; state: string; script: ReplyScript; askRating: false };

export type AgentEventType = 'conversation.waiting' | 'conversation.claimed' | 'conversation.resolved' | 'message.created' | 'typing';
export type AgentStreamEvent = { type: AgentEventType; data: { conversationId: string } & Record<string, unknown> };

type Listener<T> = (value: T) => void;

export class LiveHub {
  private readonly conversations = new Map<string, Set<Listener<WidgetFrame>>>();
  private readonly agents = new Set<Listener<AgentStreamEvent>>();

  /** A widget socket of the conversation; returns the unsubscribe. */
  subscribeConversation(conversationId: string, listener: Listener<WidgetFrame>): () => void {
    let listeners = this.conversations.get(conversationId);
    if (!listeners) this.conversations.set(conversationId, (listeners = new Set()));
    listeners.add(listener);
    return () => {
      listeners.delete(listener);
      if (listeners.size === 0 && this.conversations.get(conversationId) === listeners) this.conversations.delete(conversationId);
    };
  }

  /** An agent's inbox stream; returns the unsubscribe. */
  subscribeAgents(listener: Listener<AgentStreamEvent>): () => void {
    this.agents.add(listener);
    return () => this.agents.delete(listener);
  }

  toConversation(conversationId: string, frame: WidgetFrame): void {
    for (const listener of this.conversations.get(conversationId) ?? []) listener(frame);
  }

  toAgents(event: AgentStreamEvent): void {
    for (const listener of this.agents) listener(event);
  }

  /** Conversations with a widget open now (to tell each its new place in the queue). */
  watchedConversations(): string[] {
    return [...this.conversations.keys()];
  }

  /** Open inbox streams: an agent with one open is online. */
  get agentStreams(): number {
    return this.agents.size;
  }
}
