import type { StoredTextRedaction } from './reRedaction.js';
import { SqliteConversationStore } from './sqliteConversationStore.js';

/** `healthy()`: the database answers and takes a write (a full disk or read-only file is not healthy). */
export type ServerStore = SqliteConversationStore & { healthy(): boolean };

export class DatabaseUrlError extends Error {
  override name = 'DatabaseUrlError';
}

/** `sqlite:./data/chatbot.db` (the default), `sqlite::memory:` or `memory:` (the same: nothing kept on disk). */
/** `sharedWithOtherProcesses`: the workers of one server (WORKERS > 1) open the same file. */
export function openStore(databaseUrl = 'sqlite:./data/chatbot.db', options: { redaction?: StoredTextRedaction; sharedWithOtherProcesses?: boolean } = {}): ServerStore {
  const match = /^sqlite:(.+)$/.exec(databaseUrl);
  if (databaseUrl !== 'memory:' && !match) {
    throw new DatabaseUrlError(`DATABASE_URL "${databaseUrl}" is not supported: use sqlite:<file>, sqlite::memory: or memory:`);
  }
  const store = new SqliteConversationStore(databaseUrl === 'memory:' ? ':memory:' : match![1]!.replace(/^\/\/(?=\/)/, ''), options);
  // The server creates conversations through the API only: a turn for a missing one was deleted.
  store.createsConversationsImplicitly = false;
  return Object.assign(store, {
    healthy: () => {
      try {
        return store.db.prepare('UPDATE health_probe SET at = ? WHERE id = 1').run(new Date().toISOString()).changes === 1;
      } catch {
        return false;
      }
    },
  });
}
