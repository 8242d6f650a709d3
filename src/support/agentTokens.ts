import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';

const scryptAsync = promisify(scrypt) as (secret: string, salt: Buffer, length: number) => Promise<Buffer>;
const hashLength = 32;

/**
 * An agent's bearer token: `agt_<id>_<secret>`. The id says whose hash to check, so a login costs one
 * scrypt (slow on purpose, run off the event loop) and never a search over every agent's hash.
 */
export interface AgentToken {
  id: string;
  token: string;
  /** `scrypt:<salt hex>:<hash hex>`, the only thing stored. */
  tokenHash: string;
}

export async function newAgentToken(): Promise<AgentToken> {
  const id = randomBytes(6).toString('hex');
  const secret = randomBytes(24).toString('base64url');
  return { id, token: `agt_${id}_${secret}`, tokenHash: await hashSecret(secret) };
}

async function hashSecret(secret: string): Promise<string> {
  const salt = randomBytes(16);
  return `scrypt:${salt.toString('hex')}:${(await scryptAsync(secret, salt, hashLength)).toString('hex')}`;
}

/** The id a token names, or undefined when it is not shaped like an agent token. */
export function agentIdOf(token: string): { id: string; secret: string } | undefined {
  const match = /^agt_([0-9a-f]{12})_([A-Za-z0-9_-]{20,100})$/.exec(token);
  return match ? { id: match[1]!, secret: match[2]! } : undefined;
}

/** Constant-time comparison of the secret's scrypt hash with the stored one. */
export async function secretMatches(secret: string, stored: string): Promise<boolean> {
  const [scheme, saltHex, hashHex] = stored.split(':');
  if (scheme !== 'scrypt' || !saltHex || !hashHex) return false;
  const expected = Buffer.from(hashHex, 'hex');
  const actual = await scryptAsync(secret, Buffer.from(saltHex, 'hex'), expected.length || hashLength);
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}
