import type { SqliteConversationStore } from '../../src/storage/sqliteConversationStore.js';

/**
 * Writes `count` distinct messages the bot did not understand straight into the store, in one
 * transaction (minutes of HTTP turns otherwise): `perConversation` to a conversation, created at
 * `at`, each message a different string of random common characters, so none group together.
 */
export function seedUnansweredMessages(store: SqliteConversationStore, count: number, { perConversation = 4, at = new Date(), seed = 1 } = {}): void {
  // mulberry32: 32-bit integer steps, so the sequence does not collapse as a float LCG would.
  let state = seed >>> 0;
  const random = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let mixed = Math.imul(state ^ (state >>> 15), 1 | state);
    mixed = (mixed + Math.imul(mixed ^ (mixed >>> 7), 61 | mixed)) ^ mixed;
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4_294_967_296;
  };
  // Characters from the common CJK block: random 8-character strings share almost no character pairs.
  const message = () => Array.from({ length: 8 }, () => String.fromCodePoint(0x4e00 + Math.floor(random() * 3000))).join('');
  const insertConversation = store.db.prepare('INSERT INTO conversations (id, token_hash, created_at, updated_at) VALUES (?, ?, ?, ?)');
  const insertTurn = store.db.prepare(
    `INSERT INTO turns (conversation_id, at, text, from_payload, intent, confidence, event, state_before, state_after, step, said, outcomes)
     VALUES (?, ?, ?, 0, 'out_of_scope', 0.2, 'nlu.fallback', 'idle', 'idle', 0, '["fallback"]', '[]')`,
  );
  const base = at.getTime();
  store.db.transaction(() => {
    for (let index = 0; index < count; index++) {
      const conversationId = `seeded-${seed}-${Math.floor(index / perConversation)}`;
      const when = new Date(base + index).toISOString();
      if (index % perConversation === 0) insertConversation.run(conversationId, '', when, when);
      insertTurn.run(conversationId, when, message());
    }
  })();
}

/** `count` tickets of one new conversation each, ids in the order written. */
export function seedTickets(store: SqliteConversationStore, count: number, { status = 'open', at = new Date() }: { status?: 'open' | 'closed'; at?: Date } = {}): number[] {
  const insertConversation = store.db.prepare('INSERT INTO conversations (id, token_hash, created_at, updated_at) VALUES (?, ?, ?, ?)');
  const insertTicket = store.db.prepare("INSERT INTO handoff_tickets (conversation_id, reason, step, state, created_at, status) VALUES (?, 'user_request', 0, 'handedOff', ?, ?)");
  return store.db.transaction(() =>
    Array.from({ length: count }, (_, index) => {
      const conversationId = `ticketed-${at.getTime()}-${index}`;
      const when = new Date(at.getTime() + index).toISOString();
      insertConversation.run(conversationId, '', when, when);
      return Number(insertTicket.run(conversationId, when, status).lastInsertRowid);
    }),
  )();
}
