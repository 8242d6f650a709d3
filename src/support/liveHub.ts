import type { ReplyScript } from '../nlu/index.js';
import type { ReplyPicture, ReplyTone } from '../content/schemas.js';

/**
 * Live delivery inside one process (and, connected to a bus, to the other workers of the server):
 * frames for a conversation's widget sockets, and events for the agents' inbox streams. Whoever
 * holds a socket or a stream subscribes; the desk publishes. Nothing is kept: a client that was away
 * reads what it missed from the transcript (`?after=<seq>`).
 */
export type WidgetFrame =
  | { type: 'agent.message'; text: string; agentName: string; at: string; seq: number }
  | { type: 'agent.typing' }
  | { type: 'handoff.status'; status: 'waiting' | 'assigned' | 'resolved'; position?: number; agentName?: string; serviceHours: string; available: boolean }
  | { type: 'message'; text: string; id: string; tone?: ReplyTone; picture?: ReplyPicture; quick_replies: { title: string; payload: string }[]; progress: null; state: string; script: ReplyScript; askRating: false }
  /**
   * What a websocket turn sends (the accepted message, typing, the bot's replies), as the channel
   * built it, for every socket of the conversation: a user's other tab may be held by another
   * worker or instance. Sockets are sent `frame` itself.
   */
  | { type: 'turn.frame'; frame: object };

export type AgentEventType = 'conversation.waiting' | 'conversation.claimed' | 'conversation.resolved' | 'message.created' | 'typing';
export type AgentStreamEvent = { type: AgentEventType; data: { conversationId: string } & Record<string, unknown> };

type Listener<T> = (value: T) => void;

/** What one worker's hub tells the others' (WORKERS > 1): the same deliveries, and its open inbox streams. */
export type HubMessage =
  | { kind: 'conversation'; conversationId: string; frame: WidgetFrame }
  | { kind: 'agents'; event: AgentStreamEvent }
  | { kind: 'queueMoved' }
  | { kind: 'agentStreams'; open: number };

/** How a hub reaches the hubs of the other workers; they hand what arrives to `deliverFromElsewhere`. */
export interface HubBus {
  publish(message: HubMessage): void;
}

export class LiveHub {
  private readonly conversations = new Map<string, Set<Listener<WidgetFrame>>>();
  private readonly agents = new Set<Listener<AgentStreamEvent>>();
  private readonly queueListeners = new Set<() => void>();
  private bus: HubBus | undefined;
  /** Inbox streams open on the other workers, as they last said. */
  private elsewhereAgentStreams = 0;

  /** Joins the hubs of the other workers of the server: what is published here reaches their sockets and streams too. */
  connect(bus: HubBus): void {
    this.bus = bus;
  }

  /** A delivery another worker published: to this worker's sockets and streams only. */
  deliverFromElsewhere(message: HubMessage | { kind: 'agentStreamsElsewhere'; open: number }): void {
    if (message.kind === 'conversation') this.deliverToConversation(message.conversationId, message.frame);
    else if (message.kind === 'agents') this.deliverToAgents(message.event);
    else if (message.kind === 'queueMoved') for (const listener of this.queueListeners) listener();
    else if (message.kind === 'agentStreamsElsewhere') this.elsewhereAgentStreams = message.open;
  }

  /** Someone left the handover queue: every worker tells its open widgets their new place. */
  queueMoved(): void {
    for (const listener of this.queueListeners) listener();
    this.bus?.publish({ kind: 'queueMoved' });
  }

  onQueueMoved(listener: () => void): void {
    this.queueListeners.add(listener);
  }

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
    this.bus?.publish({ kind: 'agentStreams', open: this.agents.size });
    return () => {
      this.agents.delete(listener);
      this.bus?.publish({ kind: 'agentStreams', open: this.agents.size });
    };
  }

  toConversation(conversationId: string, frame: WidgetFrame): void {
    this.deliverToConversation(conversationId, frame);
    this.bus?.publish({ kind: 'conversation', conversationId, frame });
  }

  toAgents(event: AgentStreamEvent): void {
    this.deliverToAgents(event);
    this.bus?.publish({ kind: 'agents', event });
  }

  private deliverToConversation(conversationId: string, frame: WidgetFrame): void {
    for (const listener of this.conversations.get(conversationId) ?? []) listener(frame);
  }

  private deliverToAgents(event: AgentStreamEvent): void {
    for (const listener of this.agents) listener(event);
  }

  /** Conversations with a widget open on this worker (to tell each its new place in the queue). */
  watchedConversations(): string[] {
    return [...this.conversations.keys()];
  }

  /** Open inbox streams, on every worker: an agent with one open is online. */
  get agentStreams(): number {
    return this.agents.size + this.elsewhereAgentStreams;
  }
}
