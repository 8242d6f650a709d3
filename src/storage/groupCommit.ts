import type Database from 'better-sqlite3';

interface PendingWrite {
  write: () => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

/**
 * Writes that arrive in the same turn of the event loop commit together, in one transaction: a
 * commit costs about as much as all of a turn's statements, so concurrent conversations share it.
 *
 * The promise a write returns settles only after its transaction committed (or failed), so nothing
 * is acknowledged before it is stored. Writes run in the order they were submitted, each in a
 * savepoint of its own: one that throws is undone and rejected alone, the others go on. If the batch
 * cannot commit as a whole (the disk is full, a deferred constraint), nothing of it was stored, and
 * each write is run again alone, in order, in a transaction of its own: each gets exactly the
 * outcome it would have had without batching.
 */
export class GroupCommit {
  private pending: PendingWrite[] = [];
  private scheduled = false;

  constructor(private readonly db: Database.Database) {}

  submit<T>(write: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ write, resolve: resolve as (value: unknown) => void, reject });
      if (this.scheduled) return;
      this.scheduled = true;
      // After the I/O callbacks of this loop turn: every request read in it has reached its write by then.
      setImmediate(() => this.flush());
    });
  }

  /** Commits what is waiting now (before the database is closed). */
  flush(): void {
    this.scheduled = false;
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0) return;
    if (batch.length === 1) {
      this.writeAlone(batch[0]!);
      return;
    }
    const outcomes: Outcome[] = [];
    try {
      this.db.transaction(() => {
        for (const item of batch) {
          try {
            // Nested: a savepoint, undone alone when this write throws.
            outcomes.push({ ok: true, value: this.db.transaction(item.write)() });
          } catch (error) {
            // SQLite rolled the whole transaction back (disk full, I/O error): the batch is lost.
            if (!this.db.inTransaction) throw error;
            outcomes.push({ ok: false, error });
          }
        }
      })();
    } catch {
      for (const item of batch) this.writeAlone(item);
      return;
    }
    batch.forEach((item, index) => {
      const outcome = outcomes[index]!;
      if (outcome.ok) item.resolve(outcome.value);
      else item.reject(outcome.error);
    });
  }

  private writeAlone(item: PendingWrite): void {
    let value: unknown;
    try {
      value = this.db.transaction(item.write)();
    } catch (error) {
      item.reject(error);
      return;
    }
    item.resolve(value);
  }
}
