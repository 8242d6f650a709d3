import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisConnection } from '../../src/coordination/redisConnection.js';
import { RedisLimits } from '../../src/coordination/redisLimiter.js';
import { startPrivateRedis, type PrivateRedis } from '../support/privateRedis.js';

let redis: PrivateRedis;
const connections: RedisConnection[] = [];
const complaints: string[] = [];
const connect = async () => {
  const connection = await RedisConnection.open(redis.url, (error) => complaints.push(error.message));
  connections.push(connection);
  return connection;
};

beforeAll(async () => {
  redis = await startPrivateRedis();
}, 30_000);
afterAll(async () => {
  await Promise.all(connections.map((connection) => connection.close()));
  await redis.stop();
});

describe('rate limits kept in Redis', () => {
  it('gives a key one allowance however many instances spend from it', async () => {
    // Two instances, each with its own connection: a burst of 3 is 3 in all, not 3 each.
    const [first, second] = [new RedisLimits(await connect()), new RedisLimits(await connect())];
    const limit = { perMinute: 60, burst: 3 };
    const spenders = [first.limiter('perConversation', limit), second.limiter('perConversation', limit)];
    const decisions = [];
    for (let index = 0; index < 6; index++) decisions.push(await spenders[index % 2]!.take('conversation-a'));
    expect(decisions.filter((decision) => decision.allowed)).toHaveLength(3);
    const refused = decisions.at(-1)!;
    expect(refused).toEqual({ allowed: false, retryAfterSeconds: 1 });
    expect(await spenders[0]!.canTake('conversation-a')).toBe(false);
    // Another key has its own allowance.
    expect(await spenders[1]!.take('conversation-b')).toEqual({ allowed: true });
  });

  it('earns requests back at the rate, and a request given back can be spent again', async () => {
    const limits = new RedisLimits(await connect());
    const limiter = limits.limiter('perAddress', { perMinute: 600, burst: 1 });
    expect(await limiter.take('address-1')).toEqual({ allowed: true });
    expect((await limiter.take('address-1')).allowed).toBe(false);
    limiter.giveBack('address-1');
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await limiter.take('address-1')).toEqual({ allowed: true });
    // 600 a minute: one every 100 ms.
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(await limiter.take('address-1')).toEqual({ allowed: true });
  });

  it('costs no round trip when a limit is off', async () => {
    const limiter = new RedisLimits(await connect()).limiter('perAddress', { perMinute: 0, burst: 0 });
    expect(limiter.enabled).toBe(false);
    expect(limiter.take('anyone')).toEqual({ allowed: true });
    expect(limiter.canTake('anyone')).toBe(true);
  });

  it('refuses while Redis is away and answers again once it is back', async () => {
    const limiter = new RedisLimits(await connect(), 300).limiter('perConversation', { perMinute: 60, burst: 10 });
    expect(await limiter.take('conversation-c')).toEqual({ allowed: true });
    await redis.stop();
    expect(await limiter.take('conversation-c')).toEqual({ allowed: false, retryAfterSeconds: 5 });
    expect(await limiter.canTake('conversation-c')).toBe(false);
    await redis.start();
    const deadline = Date.now() + 15_000;
    let decision = await limiter.take('conversation-c');
    while (!decision.allowed && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      decision = await limiter.take('conversation-c');
    }
    expect(decision).toEqual({ allowed: true });
    expect(complaints.length).toBeGreaterThan(0);
  }, 30_000);
});
