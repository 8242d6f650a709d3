/** What a client is told when the database refused its turn, on REST and the websocket alike. */
export const storageUnavailable = {
  code: 'storage_unavailable',
  message: 'your message could not be saved just now; please send it again in a moment',
} as const;

/**
 * PostgreSQL's SQLSTATE classes and codes that mean the database, not the request, is at fault:
 * 08 connection lost, 53 out of resources (disk full, too many connections), 57P01–57P03 shutting
 * down or starting, 58 system I/O errors, 25006 a read-only (standby) server, 40001/40P01 a
 * serialization failure or deadlock the client may simply retry.
 */
const postgresUnavailable = /^(08|53|58)...$|^57P0[123]$|^25006$|^40001$|^40P01$/;
/** The network below the pg driver: the server went away, or never answered. */
const connectionLost = /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|EHOSTUNREACH|ENETUNREACH|ENOTFOUND|EAI_AGAIN)$/;

/**
 * The database refusing to write or not answering: SQLite's disk full, read-only, I/O error, locked
 * too long or damaged file; PostgreSQL gone, full or shutting down. The database's fault, not the
 * client's, and usually passing. `cause` is followed for wrapped errors.
 */
export function isStorageFailure(error: unknown): boolean {
  for (let current = error, depth = 0; current instanceof Error && depth < 5; current = current.cause, depth++) {
    const code = (current as { code?: unknown }).code;
    if (current.name === 'SqliteError' && typeof code === 'string' && /^SQLITE_(FULL|READONLY|IOERR|BUSY|LOCKED|CORRUPT|NOTADB|CANTOPEN|PERM)/.test(code)) return true;
    if (typeof code === 'string' && (postgresUnavailable.test(code) || connectionLost.test(code))) return true;
    // pg's own words when a connection ends under a query or the pool cannot get one in time.
    if (/^(Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error)/.test(current.message)) return true;
  }
  return false;
}
