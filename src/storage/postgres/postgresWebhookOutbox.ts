import type { WebhookEvent } from '../../support/webhookEvents.js';
import type { PendingDelivery, WebhookOutbox } from '../serverStore.js';
import type { PostgresSession } from './postgresSession.js';

/**
 * How long a delivery handed to one server is kept from the others: long enough for its attempt
 * (the webhook's timeout), short enough that a server that died mid-attempt delays it only this much.
 */
const leaseMs = 60_000;

/**
 * The handoff webhook's outbox in PostgreSQL: events are queued in the transaction that makes
 * them true, and every server polls it, so what one server takes is leased from the others.
 */
export class PostgresWebhookOutbox implements WebhookOutbox {
  /** Whether events are queued at all: only when HANDOFF_WEBHOOK_URL is set. */
  enabled = false;

  constructor(private readonly session: PostgresSession) {}

  /** Queues an event; the caller runs this inside the transaction that makes the event true. */
  async queue(event: WebhookEvent, at: string): Promise<void> {
    if (!this.enabled) return;
    const ticketId = event.type === 'message.created' ? event.ticketId : event.ticket.id;
    await this.session.query('INSERT INTO webhook_outbox (ticket_id, next_attempt_at, type, body) VALUES ($1, $2, $3, $4)', [ticketId, at, event.type, JSON.stringify(event)]);
  }

  /**
   * Deliveries whose next attempt is due, oldest first, leased in the same statement: their next
   * attempt moves a minute on, and rows another server is leasing right now are skipped, so two
   * servers polling at once never get the same delivery. markDelivered or markFailed ends the lease.
   */
  async dueDeliveries(nowIso: string, limit = 20): Promise<PendingDelivery[]> {
    const leasedUntil = new Date(Date.parse(nowIso) + leaseMs).toISOString();
    const { rows } = await this.session.query<{ id: number; ticket_id: number; attempts: number; body: string | null }>(
      `UPDATE webhook_outbox SET next_attempt_at = $1
        WHERE id IN (SELECT id FROM webhook_outbox WHERE delivered_at IS NULL AND next_attempt_at <= $2 ORDER BY id LIMIT $3 FOR UPDATE SKIP LOCKED)
        RETURNING id, ticket_id, attempts, body`,
      [leasedUntil, nowIso, limit],
    );
    // RETURNING comes in no particular order.
    return rows.sort((a, b) => a.id - b.id).map((row) => ({ id: row.id, ticketId: row.ticket_id, attempts: row.attempts, body: row.body }));
  }

  async markDelivered(id: number, atIso: string): Promise<void> {
    await this.session.query('UPDATE webhook_outbox SET delivered_at = $1, attempts = attempts + 1, last_error = NULL WHERE id = $2', [atIso, id]);
  }

  async markFailed(id: number, nextAttemptIso: string, error: string): Promise<void> {
    await this.session.query('UPDATE webhook_outbox SET attempts = attempts + 1, next_attempt_at = $1, last_error = $2 WHERE id = $3', [nextAttemptIso, error.slice(0, 500), id]);
  }

  async undeliveredCount(): Promise<number> {
    const { rows } = await this.session.query<{ count: number }>('SELECT COUNT(*) AS count FROM webhook_outbox WHERE delivered_at IS NULL');
    return rows[0]!.count;
  }
}
