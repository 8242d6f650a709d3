import type { PostgresSession } from './postgresSession.js';

/** What belongs to conversations, children first (the foreign keys' order). */
const deleteChildren = [
  'DELETE FROM webhook_outbox WHERE ticket_id IN (SELECT id FROM handoff_tickets WHERE conversation_id = ANY($1))',
  'DELETE FROM handoff_tickets WHERE conversation_id = ANY($1)',
  'DELETE FROM ratings WHERE conversation_id = ANY($1)',
  'DELETE FROM turns WHERE conversation_id = ANY($1)',
  'DELETE FROM transcript WHERE conversation_id = ANY($1)',
];

/**
 * Deleting conversations for good: their transcript, turns, ratings, tickets and the webhook
 * deliveries that carry their transcript, in one transaction. The conversation's row is locked
 * first, so a turn or an agent line arriving meanwhile on any server waits, then finds it gone.
 * Unlike SQLite's secure_delete, PostgreSQL leaves the deleted rows' bytes in the table files
 * until vacuum reuses the space: what is deleted is gone from every query at once, from the disk later.
 */
export class PostgresDeletion {
  constructor(private readonly session: PostgresSession) {}

  async deleteConversation(conversationId: string): Promise<boolean> {
    return this.session.transaction(async () => {
      const { rowCount } = await this.session.query('SELECT 1 FROM conversations WHERE id = $1 FOR UPDATE', [conversationId]);
      if (!rowCount) return false;
      await this.deleteLocked([conversationId]);
      return true;
    });
  }

  /**
   * One batch of the retention sweep: the caller repeats it until it returns 0. A conversation whose
   * turn holds its lock right now is not idle and is skipped, and two servers sweeping at once take
   * different batches.
   */
  async deleteInactiveBefore(beforeIso: string, limit: number): Promise<number> {
    return this.session.transaction(async () => {
      const { rows } = await this.session.query<{ id: string }>(
        'SELECT id FROM conversations WHERE updated_at < $1 ORDER BY updated_at LIMIT $2 FOR UPDATE SKIP LOCKED',
        [beforeIso, limit],
      );
      if (rows.length) await this.deleteLocked(rows.map((row) => row.id));
      return rows.length;
    });
  }

  private async deleteLocked(ids: string[]): Promise<void> {
    for (const sql of deleteChildren) await this.session.query(sql, [ids]);
    await this.session.query('DELETE FROM conversations WHERE id = ANY($1)', [ids]);
  }
}
