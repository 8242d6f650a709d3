import type Database from 'better-sqlite3';

/**
 * Deleting a conversation for good: its transcript, turns, ratings, tickets and the webhook
 * deliveries that carry its transcript, in one transaction. The rows are overwritten in the file
 * (secure_delete, set on the connection) and the write-ahead log is emptied after each deletion,
 * so the words are gone from the disk, not only from queries.
 */
export class SqliteDeletion {
  private readonly deleteOne: (conversationId: string) => boolean;
  private readonly inactiveBefore: Database.Statement<[string, number], { id: string }>;

  constructor(private readonly db: Database.Database) {
    const statements = [
      'DELETE FROM webhook_outbox WHERE ticket_id IN (SELECT id FROM handoff_tickets WHERE conversation_id = ?)',
      'DELETE FROM handoff_tickets WHERE conversation_id = ?',
      'DELETE FROM ratings WHERE conversation_id = ?',
      'DELETE FROM turns WHERE conversation_id = ?',
      'DELETE FROM transcript WHERE conversation_id = ?',
    ].map((sql) => db.prepare(sql));
    const conversation = db.prepare('DELETE FROM conversations WHERE id = ?');
    this.deleteOne = (conversationId) => {
      for (const statement of statements) statement.run(conversationId);
      return conversation.run(conversationId).changes > 0;
    };
    this.inactiveBefore = db.prepare('SELECT id FROM conversations WHERE updated_at < ? ORDER BY updated_at LIMIT ?');
  }

  deleteConversation(conversationId: string): boolean {
    const deleted = this.db.transaction(this.deleteOne)(conversationId);
    if (deleted) this.truncateLog();
    return deleted;
  }

  /** One batch of the retention sweep: the caller repeats it, yielding in between, until it returns 0. */
  deleteInactiveBefore(beforeIso: string, limit: number): number {
    const deleted = this.db.transaction(() => {
      const ids = this.inactiveBefore.all(beforeIso, limit).map((row) => row.id);
      for (const id of ids) this.deleteOne(id);
      return ids.length;
    })();
    if (deleted) this.truncateLog();
    return deleted;
  }

  /** The log still holds the pages as they were before the deletion: fold it in and empty it. */
  private truncateLog(): void {
    if (this.db.memory) return;
    this.db.pragma('wal_checkpoint(TRUNCATE)');
  }
}
