import type { Limiter, LimitName, RateDecision, RateLimit } from '../limits/rateLimiter.js';
import type { RedisConnection } from './redisConnection.js';

/**
 * The token bucket of rateLimiter.ts, kept in Redis so that every instance spends from one
 * allowance per address or conversation however a load balancer spreads the requests. One script
 * reads, refills and spends atomically, on Redis's own clock (TIME): instances whose clocks differ
 * still agree. A bucket expires once it would have filled up again, so idle keys cost nothing.
 *
 * Returns: take → 0 when allowed, else the milliseconds until one request is earned;
 * canTake → 1 or 0; giveBack → 0.
 */
const bucketScript = `
local key = KEYS[1]
local burst = tonumber(ARGV[1])
local refillPerMs = tonumber(ARGV[2])
local operation = ARGV[3]
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local stored = redis.call('HMGET', key, 'tokens', 'at')
local tokens = tonumber(stored[1])
local at = tonumber(stored[2])
if tokens == nil or at == nil then
  if operation == 'canTake' then return 1 end
  if operation == 'giveBack' then return 0 end
  tokens = burst
  at = now
end
tokens = math.min(burst, tokens + math.max(0, now - at) * refillPerMs)
if operation == 'canTake' then
  if tokens >= 1 then return 1 else return 0 end
end
local result = 0
if operation == 'take' then
  if tokens >= 1 then tokens = tokens - 1 else result = math.ceil((1 - tokens) / refillPerMs) end
else
  tokens = math.min(burst, tokens + 1)
end
redis.call('HSET', key, 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', key, math.ceil(burst / refillPerMs) + 1000)
return result
`;

type Operation = 'take' | 'canTake' | 'giveBack';

/**
 * Limits shared through Redis (REDIS_URL). When Redis does not answer within `answerTimeoutMs` (it
 * restarts, the network splits) a limit refuses: it fails closed, as the cluster's primary-held
 * limits do. The limits guard the people on the support desk (tickets per hour) and the service
 * itself; an outage of the store that enforces them must not become a window without them.
 */
export class RedisLimits {
  constructor(
    private readonly connection: RedisConnection,
    private readonly answerTimeoutMs = 2_000,
    private readonly keyPrefix = 'chatbot:limit',
  ) {}

  limiter(name: LimitName, limit: RateLimit): Limiter {
    const enabled = limit.perMinute > 0;
    const run = (operation: Operation, key: string) => this.run(name, limit, operation, key);
    return {
      enabled,
      // A limit that is off costs no round trip.
      take: (key) => (enabled ? run('take', key).then(decisionOf, refusedWhileUnreachable) : { allowed: true }),
      canTake: (key) => (enabled ? run('canTake', key).then((answer) => answer === 1, () => false) : true),
      giveBack: (key) => {
        // Best effort: a request given back is one the user may spend again; losing it only costs them one.
        if (enabled) run('giveBack', key).catch(() => undefined);
      },
    };
  }

  private run(name: LimitName, limit: RateLimit, operation: Operation, key: string): Promise<number> {
    const refillPerMs = limit.perMinute / 60_000;
    return this.connection.withTimeout(
      (client) => client.eval(bucketScript, { keys: [`${this.keyPrefix}:${name}:${key}`], arguments: [String(limit.burst), String(refillPerMs), operation] }) as Promise<number>,
      this.answerTimeoutMs,
    );
  }
}

function decisionOf(waitMs: number): RateDecision {
  return waitMs === 0 ? { allowed: true } : { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)) };
}

/** Redis did not answer: refuse, and ask the client to come back after Redis has had time to return. */
function refusedWhileUnreachable(): RateDecision {
  return { allowed: false, retryAfterSeconds: 5 };
}
