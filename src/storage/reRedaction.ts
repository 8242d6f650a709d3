import type Database from 'better-sqlite3';

/** The redactor a store rewrites old rows with, and the version of its rules (see `redactionVersion`). */
export interface StoredTextRedaction {
  version: number;
  redact(text: string): string;
}

/** Written before the store recorded a version: everything the first redactor missed may be there. */
export const unrecordedVersion = 1;

/** The store's own migration for it, appended at the end of the list: a key-value table of facts about the file. */
export const metaTableMigration = `CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);`;

/** JSON keys whose string values are what a user or an agent wrote (webhook bodies, anywhere inside). */
const writtenKeys = new Set(['text', 'reason']);

/**
 * Redacts again what an older version stored: a plain-SQL migration cannot run the redactor, so the
 * store does it on open. Transcript lines of users and agents, turn records, ticket reasons and
 * webhook bodies whose redacted form differs are rewritten in one transaction, then the version is
 * recorded; the old bytes are then wiped from the file (secure_delete, WAL checkpoint, VACUUM).
 * Returns how many rows were rewritten.
 */
export function reRedactStoredText(db: Database.Database, redaction: StoredTextRedaction): number {
  const recorded = db.prepare<[], { value: string }>("SELECT value FROM meta WHERE key = 'redaction_version'").get();
  const version = recorded ? Number(recorded.value) : unrecordedVersion;
  if (version >= redaction.version) return 0;
  // The store opens its connection with secure_delete on: freed and overwritten pages are zeroed,
  // so an old secret is not left in free space.
  let rewritten = 0;
  db.transaction(() => {
    rewritten += rewriteColumn(db, "SELECT rowid AS id, text AS value FROM transcript WHERE role IN ('user', 'agent')", 'UPDATE transcript SET text = ? WHERE rowid = ?', redaction.redact);
    rewritten += rewriteColumn(db, 'SELECT rowid AS id, text AS value FROM turns', 'UPDATE turns SET text = ? WHERE rowid = ?', redaction.redact);
    rewritten += rewriteColumn(db, 'SELECT id, reason AS value FROM handoff_tickets', 'UPDATE handoff_tickets SET reason = ? WHERE id = ?', redaction.redact);
    rewritten += rewriteColumn(db, 'SELECT id, body AS value FROM webhook_outbox WHERE body IS NOT NULL', 'UPDATE webhook_outbox SET body = ? WHERE id = ?', (body) =>
      redactJson(body, redaction.redact),
    );
    db.prepare("INSERT INTO meta (key, value) VALUES ('redaction_version', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value").run(String(redaction.version));
  })();
  if (rewritten > 0) {
    // The WAL still holds the old pages until checkpointed; VACUUM rebuilds the file without free pages.
    db.pragma('wal_checkpoint(TRUNCATE)');
    db.exec('VACUUM');
    db.pragma('wal_checkpoint(TRUNCATE)');
  }
  return rewritten;
}

function rewriteColumn(db: Database.Database, select: string, update: string, redact: (text: string) => string): number {
  const rows = db.prepare<[], { id: number; value: string }>(select).all();
  const write = db.prepare(update);
  let count = 0;
  for (const { id, value } of rows) {
    const redacted = redact(value);
    if (redacted === value) continue;
    write.run(redacted, id);
    count++;
  }
  return count;
}

/** A JSON body with every written string in it redacted; ids, times and types are left alone (SQLite and PostgreSQL alike). */
export function redactJson(body: string, redact: (text: string) => string): string {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return redact(body);
  }
  const walk = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(walk);
    if (node === null || typeof node !== 'object') return node;
    return Object.fromEntries(
      Object.entries(node).map(([key, inner]) => [key, typeof inner === 'string' && writtenKeys.has(key) ? redact(inner) : walk(inner)]),
    );
  };
  const redacted = JSON.stringify(walk(value));
  return redacted === JSON.stringify(value) ? body : redacted;
}
