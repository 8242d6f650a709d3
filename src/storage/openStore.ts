import { isPostgresUrl } from '../settings/connectionUrls.js';
import type { StoredTextRedaction } from './reRedaction.js';
import type { ServerStore } from './serverStore.js';
import { SqliteConversationStore } from './sqliteConversationStore.js';

export type { ServerStore } from './serverStore.js';

/**
 * The server's store for a DATABASE_URL: PostgreSQL (postgres://…, shared by several instances,
 * loaded only when used) or SQLite as below. Rejects when PostgreSQL cannot be reached or migrated.
 */
export async function openServerStore(databaseUrl: string, options: { redaction?: StoredTextRedaction; sharedWithOtherProcesses?: boolean; poolSize?: number } = {}): Promise<ServerStore> {
  const { poolSize, ...sqliteOptions } = options;
  if (!isPostgresUrl(databaseUrl)) return openStore(databaseUrl, sqliteOptions);
  const { openPostgresStore } = await import('./postgres/postgresConversationStore.js');
  const store = await openPostgresStore(databaseUrl, { ...(options.redaction ? { redaction: options.redaction } : {}), ...(poolSize ? { poolSize } : {}) });
  // As with SQLite: the server creates conversations through the API only.
  store.createsConversationsImplicitly = false;
  return store;
}

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
  return store;
}
