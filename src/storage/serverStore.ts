import type { AnalyticsSource, SlicedAnalyticsSource } from '../analytics/supportAnalytics.js';
import type { ConversationStore, HandoffTicket, PrivacyStore, SupportStore, TicketListing } from '../dialogue/conversationStore.js';
import type { IdentityStore } from './identityStore.js';

/** A webhook delivery waiting in the outbox. */
export interface PendingDelivery {
  id: number;
  ticketId: number;
  attempts: number;
  /** The event's JSON body as queued; null for tickets queued before schema version 6. */
  body: string | null;
}

/**
 * The handoff webhook's outbox: events are queued in the same transaction as what they report (a
 * ticket is never created without its delivery queued), and handoffWebhook.ts delivers them.
 */
export interface WebhookOutbox {
  /**
   * Deliveries due at `nowIso`, oldest first. A store shared by several servers leases what it
   * returns, so no two servers send the same delivery at once.
   */
  dueDeliveries(nowIso: string, limit?: number): Promise<PendingDelivery[]>;
  markDelivered(id: number, atIso: string): Promise<void>;
  markFailed(id: number, nextAttemptIso: string, error: string): Promise<void>;
  undeliveredCount(): Promise<number>;
}

/**
 * Everything the server keeps, whichever database holds it: embedded SQLite (sqlite:…, the default)
 * or PostgreSQL (postgres://…, shared by several instances). One contract suite tests both.
 */
export interface ServerStore extends ConversationStore, SupportStore, IdentityStore, AnalyticsSource, SlicedAnalyticsSource, TicketListing, PrivacyStore, WebhookOutbox {
  /** Which database this is, for the start-up log line and /healthz. */
  readonly kind: 'sqlite' | 'postgres';
  ticket(id: number): Promise<HandoffTicket | undefined>;
  /** Closes a ticket from the dashboard: it is resolved (the conversation's release is the caller's). */
  closeTicket(id: number, at: string): Promise<HandoffTicket | undefined>;
  /** Whether handoff events also go into the webhook outbox (HANDOFF_WEBHOOK_URL is set). */
  queueTicketsForWebhook: boolean;
  /** Tests and tools save turns of conversations never created through the API; the server turns this off. */
  createsConversationsImplicitly: boolean;
  /** The database answers and takes a write (a full disk, a read-only file or a lost connection is not healthy). */
  healthy(): Promise<boolean>;
  /** Commits what is waiting and lets the database go. */
  close(): Promise<void>;
}
