/** What a client is told when the database refused its turn, on REST and the websocket alike. */
export const storageUnavailable = {
  code: 'storage_unavailable',
  message: 'your message could not be saved just now; please send it again in a moment',
} as const;

/**
 * SQLite refusing to write (disk full, read-only, I/O error, locked too long, damaged file): the
 * database's fault, not the client's, and usually passing. `cause` is followed for wrapped errors.
 */
export function isStorageFailure(error: unknown): boolean {
  for (let current = error, depth = 0; current instanceof Error && depth < 5; current = current.cause, depth++) {
    const code = (current as { code?: unknown }).code;
    if (current.name === 'SqliteError' && typeof code === 'string' && /^SQLITE_(FULL|READONLY|IOERR|BUSY|LOCKED|CORRUPT|NOTADB|CANTOPEN|PERM)/.test(code)) return true;
  }
  return false;
}
