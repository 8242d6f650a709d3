import { redactJson, unrecordedVersion, type StoredTextRedaction } from '../reRedaction.js';
import { schemaLockKey } from './postgresMigrations.js';
import type { PostgresSession } from './postgresSession.js';

/**
 * reRedaction.ts for PostgreSQL: rows an older redactor wrote are redacted again on open (plain SQL
 * cannot run the redactor), in one transaction under the schema lock, so servers started at once
 * rewrite them once. Returns how many rows were rewritten. The old bytes stay in the table files
 * until vacuum reuses their space: PostgreSQL has no secure_delete.
 */
export async function reRedactPostgres(session: PostgresSession, redaction: StoredTextRedaction): Promise<number> {
  return session.transaction(async () => {
    await session.query('SELECT pg_advisory_xact_lock($1)', [schemaLockKey]);
    const { rows } = await session.query<{ value: string }>("SELECT value FROM meta WHERE key = 'redaction_version'");
    const version = rows[0] ? Number(rows[0].value) : unrecordedVersion;
    if (version >= redaction.version) return 0;
    const redact = redaction.redact;
    let rewritten = 0;
    rewritten += await rewrite(session, "SELECT conversation_id AS key, seq AS part, text AS value FROM transcript WHERE role IN ('user', 'agent')", 'UPDATE transcript SET text = $1 WHERE conversation_id = $2 AND seq = $3', redact);
    rewritten += await rewrite(session, 'SELECT id AS key, text AS value FROM turns', 'UPDATE turns SET text = $1 WHERE id = $2', redact);
    rewritten += await rewrite(session, 'SELECT id AS key, reason AS value FROM handoff_tickets', 'UPDATE handoff_tickets SET reason = $1 WHERE id = $2', redact);
    rewritten += await rewrite(session, 'SELECT id AS key, body AS value FROM webhook_outbox WHERE body IS NOT NULL', 'UPDATE webhook_outbox SET body = $1 WHERE id = $2', (body) => redactJson(body, redact));
    await session.query("INSERT INTO meta (key, value) VALUES ('redaction_version', $1) ON CONFLICT (key) DO UPDATE SET value = excluded.value", [String(redaction.version)]);
    return rewritten;
  });
}

/** Rewrites the rows whose redacted value differs; `key` (and `part`, for a two-column key) name the row. */
async function rewrite(session: PostgresSession, select: string, update: string, redact: (text: string) => string): Promise<number> {
  const { rows } = await session.query<{ key: string | number; part?: number; value: string }>(select);
  let count = 0;
  for (const { key, part, value } of rows) {
    const redacted = redact(value);
    if (redacted === value) continue;
    await session.query(update, part === undefined ? [redacted, key] : [redacted, key, part]);
    count++;
  }
  return count;
}
