import { describe, expect, it } from 'vitest';
import { RateLimiter, rateLimitSettingsFromEnv } from '../../src/limits/rateLimiter.js';

function clock(start = 1_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

describe('RateLimiter', () => {
  it('allows a burst, then refuses with the seconds until the next request is earned', () => {
    const time = clock();
    const limiter = new RateLimiter({ perMinute: 6, burst: 3 }, time.now);
    expect([1, 2, 3].map(() => limiter.take('a').allowed)).toEqual([true, true, true]);
    // 6 a minute = one every 10 s.
    expect(limiter.take('a')).toEqual({ allowed: false, retryAfterSeconds: 10 });
    time.advance(4_000);
    expect(limiter.take('a')).toEqual({ allowed: false, retryAfterSeconds: 6 });
    time.advance(6_000);
    expect(limiter.take('a').allowed).toBe(true);
    expect(limiter.take('a').allowed).toBe(false);
  });

  it('takes back a request given back (a message answered as a duplicate), never above the burst', () => {
    const limiter = new RateLimiter({ perMinute: 6, burst: 2 }, clock().now);
    limiter.take('a');
    limiter.take('a');
    expect(limiter.canTake('a')).toBe(false);
    limiter.giveBack('a');
    expect(limiter.take('a').allowed).toBe(true);
    expect(limiter.take('a').allowed).toBe(false);
    for (let i = 0; i < 5; i++) limiter.giveBack('a');
    expect([1, 2, 3].map(() => limiter.take('a').allowed)).toEqual([true, true, false]);
  });

  it('keeps each key apart', () => {
    const limiter = new RateLimiter({ perMinute: 60, burst: 1 }, clock().now);
    expect(limiter.take('a').allowed).toBe(true);
    expect(limiter.take('a').allowed).toBe(false);
    expect(limiter.take('b').allowed).toBe(true);
  });

  it('forgets keys whose allowance has filled up again, so a scan of many addresses cannot grow memory', () => {
    const time = clock();
    const limiter = new RateLimiter({ perMinute: 60, burst: 5 }, time.now);
    for (let i = 0; i < 10_000; i++) limiter.take(`10.0.${i >> 8}.${i & 255}`);
    expect(limiter.size).toBe(10_000);
    time.advance(60_000);
    limiter.take('one more');
    expect(limiter.size).toBe(1);
  });

  it('is off at 0 a minute', () => {
    const limiter = new RateLimiter({ perMinute: 0, burst: 0 });
    expect(Array.from({ length: 1000 }, () => limiter.take('a').allowed).every(Boolean)).toBe(true);
  });
});

describe('rateLimitSettingsFromEnv', () => {
  it('reads the limits and refuses values that are not whole numbers', () => {
    const settings = rateLimitSettingsFromEnv({ RATE_LIMIT_IP_PER_MINUTE: '100', RATE_LIMIT_CONVERSATION_PER_MINUTE: '0', MAX_SOCKETS_PER_IP: '3' });
    expect(settings.perAddress).toEqual({ perMinute: 100, burst: 20 });
    expect(settings.perConversation.perMinute).toBe(0);
    expect(settings.socketsPerAddress).toBe(3);
    expect(() => rateLimitSettingsFromEnv({ RATE_LIMIT_IP_PER_MINUTE: 'lots' })).toThrow(/RATE_LIMIT_IP_PER_MINUTE must be a whole number/);
  });
});
