import { createHash, timingSafeEqual } from 'node:crypto';

/** The token of an `Authorization: Bearer <token>` header, or undefined. */
export function bearerToken(authorization: string | undefined): string | undefined {
  return /^Bearer\s+(\S+)$/i.exec(authorization ?? '')?.[1];
}

/**
 * A constant-time test of a presented token against one secret (ADMIN_TOKEN, METRICS_TOKEN):
 * hashing both first gives equal lengths, so the comparison takes the same time whatever was sent.
 */
export function matchesSecret(secret: string): (token: string) => boolean {
  const digest = (value: string) => createHash('sha256').update(value).digest();
  const expected = digest(secret);
  return (token) => timingSafeEqual(digest(token), expected);
}
