import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export interface ConversationIdentity {
  id: string;
  /** sha256 of the bearer token; the token itself is never stored. */
  tokenHash: string;
  createdAt: string;
}

/** Which conversations exist and which token each is bound to. */
export interface IdentityStore {
  createConversation(identity: ConversationIdentity): Promise<void>;
  tokenHash(conversationId: string): Promise<string | undefined>;
}

const hash = (token: string) => createHash('sha256').update(token).digest('hex');

/** A new conversation: an unguessable id (128 random bits) and a bearer token (256 bits). */
export function newConversationIdentity(now: Date): { identity: ConversationIdentity; token: string } {
  const token = randomBytes(32).toString('base64url');
  return { identity: { id: randomBytes(16).toString('base64url'), tokenHash: hash(token), createdAt: now.toISOString() }, token };
}

export type AccessResult = 'ok' | 'unknown_conversation' | 'missing_token' | 'wrong_token';

/** Checks a presented token against the stored hash in constant time. */
export async function checkAccess(store: IdentityStore, conversationId: string, token: string | undefined): Promise<AccessResult> {
  const stored = await store.tokenHash(conversationId);
  if (stored === undefined) return 'unknown_conversation';
  if (!token) return 'missing_token';
  const presented = Buffer.from(hash(token), 'hex');
  const expected = Buffer.from(stored, 'hex');
  return presented.length === expected.length && timingSafeEqual(presented, expected) ? 'ok' : 'wrong_token';
}

/** An in-memory identity store, for tests and the DATABASE_URL=memory: mode. */
export class MemoryIdentityStore implements IdentityStore {
  private readonly hashes = new Map<string, string>();
  async createConversation(identity: ConversationIdentity): Promise<void> {
    this.hashes.set(identity.id, identity.tokenHash);
  }
  async tokenHash(conversationId: string): Promise<string | undefined> {
    return this.hashes.get(conversationId);
  }
}
