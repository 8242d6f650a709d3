import { wholeNumberSetting } from '../settings/wholeNumberSetting.js';

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

/**
 * What the server asks of a limit. A RateLimiter answers at once; a limit shared by the workers of
 * a server (WORKERS > 1, see cluster/) answers after asking the process that holds the buckets.
 */
export interface Limiter {
  readonly enabled: boolean;
  take(key: string): RateDecision | Promise<RateDecision>;
  giveBack(key: string): void;
  canTake(key: string): boolean | Promise<boolean>;
}

export class RateLimiter implements Limiter {
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
    bucket.tokens = this.tokensAt(bucket, now);
    bucket.updatedMs = now;
    this.buckets.set(key, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { allowed: true };
    }
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - bucket.tokens) / this.refillPerMs / 1000)) };
  }

  /** Returns one request `key` spent on what turned out to cost nothing (a message sent twice at once, answered from the first). */
  giveBack(key: string): void {
    const bucket = this.buckets.get(key);
    if (!this.enabled || !bucket) return;
    const now = this.now();
    bucket.tokens = Math.min(this.limit.burst, this.tokensAt(bucket, now) + 1);
    bucket.updatedMs = now;
  }

  /** Whether `key` could spend one request now, without spending it. */
  canTake(key: string): boolean {
    if (!this.enabled) return true;
    const bucket = this.buckets.get(key);
    return !bucket || this.tokensAt(bucket, this.now()) >= 1;
  }

  /** What a bucket holds at `now`: what it had, plus what it earned since, up to the burst. */
  private tokensAt(bucket: Bucket, now: number): number {
    return Math.min(this.limit.burst, bucket.tokens + (now - bucket.updatedMs) * this.refillPerMs);
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
  // The limits below are off when left out (tests that set only the ones they are about).
  /** New conversations (POST /api/conversations) from one address, and from everyone together. */
  newConversationsPerAddress?: RateLimit;
  newConversationsTotal?: RateLimit;
  /** Handover tickets opened from one address, and from everyone together: each one reaches a person. */
  ticketsPerAddress?: RateLimit;
  ticketsTotal?: RateLimit;
}

/**
 * Defaults sized for people, not scripts: an office behind one NAT address shares `perAddress`,
 * one person types or taps far fewer than 30 messages a minute. Environment variables override them;
 * 0 turns a limit off (load tests on loopback).
 */
export function rateLimitSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): RateLimitSettings {
  const number = (name: string, fallback: number) => wholeNumberSetting(env, name, fallback);
  const perAddress = number('RATE_LIMIT_IP_PER_MINUTE', 600);
  const perConversation = number('RATE_LIMIT_CONVERSATION_PER_MINUTE', 30);
  const perMinute = (value: number, burstShare: number): RateLimit => ({ perMinute: value, burst: Math.max(1, Math.ceil(value / burstShare)) });
  const perHour = (value: number, burstShare: number): RateLimit => ({ perMinute: value / 60, burst: Math.max(1, Math.ceil(value / burstShare)) });
  return {
    perAddress: perMinute(perAddress, 5),
    perConversation: perMinute(perConversation, 2),
    socketsPerAddress: number('MAX_SOCKETS_PER_IP', 50),
    newConversationsPerAddress: perMinute(number('RATE_LIMIT_NEW_CONVERSATIONS_PER_IP_PER_MINUTE', 20), 2),
    newConversationsTotal: perMinute(number('RATE_LIMIT_NEW_CONVERSATIONS_PER_MINUTE', 1200), 5),
    ticketsPerAddress: perHour(number('RATE_LIMIT_TICKETS_PER_IP_PER_HOUR', 20), 4),
    ticketsTotal: perHour(number('RATE_LIMIT_TICKETS_PER_HOUR', 600), 10),
  };
}

export const off: RateLimit = { perMinute: 0, burst: 0 };
export const noRateLimits: RateLimitSettings = {
  perAddress: off,
  perConversation: off,
  socketsPerAddress: 0,
  newConversationsPerAddress: off,
  newConversationsTotal: off,
  ticketsPerAddress: off,
  ticketsTotal: off,
};

/** Thrown when a key has spent its allowance; answered as 429 with Retry-After. */
export class RateLimitedError extends Error {
  override name = 'RateLimitedError';
  constructor(
    readonly retryAfterSeconds: number,
    readonly scope: 'address' | 'conversation' | 'new_conversations',
  ) {
    super(
      scope === 'conversation'
        ? `too many messages in this conversation; try again in ${retryAfterSeconds} s`
        : scope === 'new_conversations'
          ? `too many new conversations; try again in ${retryAfterSeconds} s`
          : `too many requests from this address; try again in ${retryAfterSeconds} s`,
    );
  }
}

/**
 * Spends one request of `key`'s allowance or throws RateLimitedError; a shared limit answers later,
 * so callers await it (a local one still decides at once, without a promise).
 */
export function spendOrThrow(limiter: Limiter, key: string, scope: RateLimitedError['scope']): void | Promise<void> {
  const decision = limiter.take(key);
  if (decision instanceof Promise) return decision.then((settled) => refuseUnlessAllowed(settled, scope));
  refuseUnlessAllowed(decision, scope);
}

function refuseUnlessAllowed(decision: RateDecision, scope: RateLimitedError['scope']): void {
  if (!decision.allowed) throw new RateLimitedError(decision.retryAfterSeconds, scope);
}

/** Which limit a bucket belongs to: the workers of a server ask for buckets by these names. */
export type LimitName = 'perAddress' | 'perConversation' | 'agentMessages' | 'newConversationsPerAddress' | 'newConversationsTotal' | 'ticketsPerAddress' | 'ticketsTotal';

/** The limit each name stands for, from the settings (agents' messages get a conversation's allowance). */
export function limitNamed(settings: RateLimitSettings, name: LimitName): RateLimit {
  if (name === 'agentMessages') return settings.perConversation;
  return settings[name] ?? off;
}
