/**
 * Token buckets keyed by client address or conversation. A key may spend `burst` requests at
 * once and earns them back at `perMinute`; a refused request learns how long to wait.
 * Memory stays bounded: buckets that have filled up again carry no information and are swept.
 */
export interface RateLimit {
  /** Requests a minute, sustained; 0 turns the limit off. */
  perMinute: number;
  /** Requests allowed back to back before the rate applies. */
  burst: number;
}

export type RateDecision = { allowed: true } | { allowed: false; retryAfterSeconds: number };

interface Bucket {
  tokens: number;
  updatedMs: number;
}

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly refillPerMs: number;
  private lastSweepMs = 0;

  constructor(
    private readonly limit: RateLimit,
    private readonly now: () => number = Date.now,
  ) {
    this.refillPerMs = limit.perMinute / 60_000;
  }

  get enabled(): boolean {
    return this.limit.perMinute > 0;
  }

  /** Spends one request of `key`'s allowance, if it has one. */
  take(key: string): RateDecision {
    if (!this.enabled) return { allowed: true };
    const now = this.now();
    this.sweep(now);
    const bucket = this.buckets.get(key) ?? { tokens: this.limit.burst, updatedMs: now };
    bucket.tokens = Math.min(this.limit.burst, bucket.tokens + (now - bucket.updatedMs) * this.refillPerMs);
    bucket.updatedMs = now;
    this.buckets.set(key, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { allowed: true };
    }
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - bucket.tokens) / this.refillPerMs / 1000)) };
  }

  /** Keys being tracked (for tests and metrics). */
  get size(): number {
    return this.buckets.size;
  }

  private sweep(now: number): void {
    if (now - this.lastSweepMs < 10_000) return;
    this.lastSweepMs = now;
    const fullAfterMs = this.limit.burst / this.refillPerMs;
    for (const [key, bucket] of this.buckets) {
      if (now - bucket.updatedMs >= fullAfterMs) this.buckets.delete(key);
    }
  }
}

export interface RateLimitSettings {
  /** Every request from one client address (REST and websocket frames). */
  perAddress: RateLimit;
  /** Messages sent into one conversation, whichever channel they come through. */
  perConversation: RateLimit;
  /** Websockets one client address may hold open at once; 0 = no cap. */
  socketsPerAddress: number;
}

/**
 * Defaults sized for people, not scripts: an office behind one NAT address shares `perAddress`,
 * one person types or taps far fewer than 30 messages a minute. Environment variables override them;
 * 0 turns a limit off (load tests on loopback).
 */
export function rateLimitSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): RateLimitSettings {
  const number = (name: string, fallback: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < 0) throw new RangeError(`${name} must be a whole number ≥ 0, got "${raw}"`);
    return value;
  };
  const perAddress = number('RATE_LIMIT_IP_PER_MINUTE', 600);
  const perConversation = number('RATE_LIMIT_CONVERSATION_PER_MINUTE', 30);
  return {
    perAddress: { perMinute: perAddress, burst: Math.max(1, Math.ceil(perAddress / 5)) },
    perConversation: { perMinute: perConversation, burst: Math.max(1, Math.ceil(perConversation / 2)) },
    socketsPerAddress: number('MAX_SOCKETS_PER_IP', 50),
  };
}

export const noRateLimits: RateLimitSettings = {
  perAddress: { perMinute: 0, burst: 0 },
  perConversation: { perMinute: 0, burst: 0 },
  socketsPerAddress: 0,
};

/** Thrown when a key has spent its allowance; answered as 429 with Retry-After. */
export class RateLimitedError extends Error {
  override name = 'RateLimitedError';
  constructor(
    readonly retryAfterSeconds: number,
    readonly scope: 'address' | 'conversation',
  ) {
    super(scope === 'conversation' ? `too many messages in this conversation; try again in ${retryAfterSeconds} s` : `too many requests from this address; try again in ${retryAfterSeconds} s`);
  }
}

/** Spends one request of `key`'s allowance or throws RateLimitedError. */
export function spendOrThrow(limiter: RateLimiter, key: string, scope: RateLimitedError['scope']): void {
  const decision = limiter.take(key);
  if (!decision.allowed) throw new RateLimitedError(decision.retryAfterSeconds, scope);
}
