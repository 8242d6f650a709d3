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
  /** What a token is checked against, read in one go: its hash, and when the conversation last had a turn (or was created). */
  accessRecord(conversationId: string): Promise<AccessRecord | undefined>;
}

export interface AccessRecord {
  tokenHash: string;
  /** Absent where the store does not track activity: such a token never expires. */
  lastActiveAt?: string;
}

/** How long a token lives without use (TOKEN_IDLE_DAYS); 0 or absent: for ever. */
export interface AccessPolicy {
  idleMs?: number;
  now?: () => number;
}

const hash = (token: string) => createHash('sha256').update(token).digest('hex');

/** A new conversation: an unguessable id (128 random bits) and a bearer token (256 bits). */
export function newConversationIdentity(now: Date): { identity: ConversationIdentity; token: string } {
  const token = randomBytes(32).toString('base64url');
  return { identity: { id: randomBytes(16).toString('base64url'), tokenHash: hash(token), createdAt: now.toISOString() }, token };
}

export type AccessResult = 'ok' | 'unknown_conversation' | 'missing_token' | 'wrong_token' | 'token_expired';

/** Thrown by a channel's turn gate when the sender may not write to the conversation. */
export class AccessRefusedError extends Error {
  override name = 'AccessRefusedError';
  constructor(readonly access: Exclude<AccessResult, 'ok'>) {
    super(`access refused: ${access}`);
  }
}

/**
 * Checks a presented token against the stored hash in constant time. A right token that has not
 * been used for longer than the policy allows has expired: a leaked token stops being useful.
 */
export async function checkAccess(store: IdentityStore, conversationId: string, token: string | undefined, policy: AccessPolicy = {}): Promise<AccessResult> {
  return accessOf(await store.accessRecord(conversationId), token, policy);
}

/** checkAccess on a record already read (a turn reads it with the conversation's state). */
export function accessOf(stored: AccessRecord | undefined, token: string | undefined, policy: AccessPolicy = {}): AccessResult {
  if (stored === undefined) return 'unknown_conversation';
  if (!token) return 'missing_token';
  const presented = Buffer.from(hash(token), 'hex');
  const expected = Buffer.from(stored.tokenHash, 'hex');
  if (presented.length !== expected.length || !timingSafeEqual(presented, expected)) return 'wrong_token';
  const now = policy.now?.() ?? Date.now();
  if (policy.idleMs && stored.lastActiveAt !== undefined && now - Date.parse(stored.lastActiveAt) > policy.idleMs) return 'token_expired';
  return 'ok';
}

/** An in-memory identity store, for tests and the DATABASE_URL=memory: mode. */
export class MemoryIdentityStore implements IdentityStore {
  private readonly hashes = new Map<string, string>();
  async createConversation(identity: ConversationIdentity): Promise<void> {
    this.hashes.set(identity.id, identity.tokenHash);
  }
  async accessRecord(conversationId: string): Promise<AccessRecord | undefined> {
    const tokenHash = this.hashes.get(conversationId);
    return tokenHash === undefined ? undefined : { tokenHash };
  }
}
