import { MemoryConversationStore, type ConversationStore } from '../dialogue/conversationStore.js';
import { MemoryIdentityStore, type IdentityStore } from './identityStore.js';
import { SqliteConversationStore } from './sqliteConversationStore.js';

export type ServerStore = ConversationStore & IdentityStore & { close(): void; healthy(): boolean };

export class DatabaseUrlError extends Error {
  override name = 'DatabaseUrlError';
}

/** `sqlite:./data/chatbot.db` (the default), `sqlite::memory:` or `memory:`. */
export function openStore(databaseUrl = 'sqlite:./data/chatbot.db'): ServerStore {
  if (databaseUrl === 'memory:') {
    const conversations = new MemoryConversationStore();
    const identities = new MemoryIdentityStore();
    return Object.assign(conversations, {
      createConversation: identities.createConversation.bind(identities),
      tokenHash: identities.tokenHash.bind(identities),
      close: () => undefined,
      healthy: () => true,
    });
  }
  const match = /^sqlite:(.+)$/.exec(databaseUrl);
  if (!match) throw new DatabaseUrlError(`DATABASE_URL "${databaseUrl}" is not supported: use sqlite:<file>, sqlite::memory: or memory:`);
  const store = new SqliteConversationStore(match[1]!.replace(/^\/\/(?=\/)/, ''));
  return Object.assign(store, {
    healthy: () => {
      try {
        return store.db.prepare('SELECT 1 AS ok').get() !== undefined;
      } catch {
        return false;
      }
    },
  });
}
