import type Database from 'better-sqlite3';
import type { WebhookEvent } from '../support/webhookEvents.js';
import type { PendingDelivery } from './serverStore.js';

/**
 * The handoff webhook's outbox: events are queued in the same transaction as what they report (a
 * ticket is never created without its delivery queued), and handoffWebhook.ts delivers them.
 */
export class SqliteWebhookOutbox {
  private readonly statements;

  /** Whether events are queued at all: only when HANDOFF_WEBHOOK_URL is set. */
  enabled = false;

  constructor(db: Database.Database) {
    this.statements = {
      insertOutbox: db.prepare('INSERT INTO webhook_outbox (ticket_id, next_attempt_at, type, body) VALUES (?, ?, ?, ?)'),
      dueDeliveries: db.prepare<[string, number], { id: number; ticket_id: number; attempts: number; body: string | null }>(
        'SELECT id, ticket_id, attempts, body FROM webhook_outbox WHERE delivered_at IS NULL AND next_attempt_at <= ? ORDER BY id LIMIT ?',
      ),
      markDelivered: db.prepare('UPDATE webhook_outbox SET delivered_at = ?, attempts = attempts + 1, last_error = NULL WHERE id = ?'),
      markFailed: db.prepare('UPDATE webhook_outbox SET attempts = attempts + 1, next_attempt_at = ?, last_error = ? WHERE id = ?'),
      undelivered: db.prepare<[], { count: number }>('SELECT COUNT(*) AS count FROM webhook_outbox WHERE delivered_at IS NULL'),
    };
  }

  /** Queues an event; the caller runs this inside the transaction that makes the event true. */
  queue(event: WebhookEvent, at: string): void {
    if (!this.enabled) return;
    const ticketId = event.type === 'message.created' ? event.ticketId : event.ticket.id;
    this.statements.insertOutbox.run(ticketId, at, event.type, JSON.stringify(event));
  }

  /** Deliveries whose next attempt is due, oldest first. */
  dueDeliveries(nowIso: string, limit = 20): PendingDelivery[] {
    return this.statements.dueDeliveries.all(nowIso, limit).map((row) => ({ id: row.id, ticketId: row.ticket_id, attempts: row.attempts, body: row.body }));
  }

  markDelivered(id: number, atIso: string): void {
    this.statements.markDelivered.run(atIso, id);
  }

  markFailed(id: number, nextAttemptIso: string, error: string): void {
    this.statements.markFailed.run(nextAttemptIso, error.slice(0, 500), id);
  }

  undeliveredCount(): number {
    return this.statements.undelivered.get()!.count;
  }
}
