import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/server/config.js';

const longToken = 'x'.repeat(32);

describe('settings are checked before anything starts', () => {
  it('with nothing set, the documented defaults', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      port: 3000,
      databaseUrl: 'sqlite:./data/chatbot.db',
      allowedOrigins: ['*'],
      adminToken: undefined,
      metricsToken: undefined,
      trustProxy: false,
      retention: { retentionDays: 90, tokenIdleDays: 30 },
      // One worker per core when serving.
      workers: availableParallelism(),
    });
    expect(config.rateLimits.newConversationsPerAddress).toEqual({ perMinute: 20, burst: 10 });
  });

  it.each([
    [{ PORT: 'abc' }, /PORT must be a whole number from 0 to 65535/],
    [{ PORT: '70000' }, /PORT must be a whole number/],
    [{ DATABASE_URL: 'mysql://db/chat' }, /DATABASE_URL must be sqlite:<file>/],
    [{ DATABASE_URL: 'postgres://' }, /DATABASE_URL must be .*postgres:\/\/user@host:port\/database/],
    [{ REDIS_URL: 'localhost:6379' }, /REDIS_URL must be redis:\/\//],
    [{ REDIS_URL: 'http://cache:6379' }, /REDIS_URL must be redis:\/\//],
    [{ ADMIN_TOKEN: 'a' }, /ADMIN_TOKEN must be at least 32 characters/],
    [{ ADMIN_TOKEN: 'x'.repeat(31) }, /ADMIN_TOKEN must be at least 32 characters/],
    [{ METRICS_TOKEN: 'short' }, /METRICS_TOKEN must be at least 32 characters/],
    [{ HANDOFF_WEBHOOK_SECRET: 'short' }, /HANDOFF_WEBHOOK_SECRET must be at least 16 characters/],
    [{ HANDOFF_WEBHOOK_URL: 'ftp://example.com' }, /HANDOFF_WEBHOOK_URL must be an http\(s\) URL/],
    [{ TRUST_PROXY: 'true' }, /TRUST_PROXY=true would let any client pick its address/],
    [{ TRUST_PROXY: 'everyone' }, /TRUST_PROXY "everyone" is neither a hop count nor a list/],
    [{ RETENTION_DAYS: '-1' }, /RETENTION_DAYS must be a whole number/],
    [{ TOKEN_IDLE_DAYS: '1.5' }, /TOKEN_IDLE_DAYS must be a whole number/],
    [{ SERVICE_HOURS: '9-5' }, /SERVICE_HOURS/],
    [{ RATE_LIMIT_TICKETS_PER_HOUR: 'many' }, /RATE_LIMIT_TICKETS_PER_HOUR must be a whole number/],
    [{ WORKERS: '0' }, /WORKERS must be a whole number from 1 to 64/],
    [{ WORKERS: 'two' }, /WORKERS must be a whole number from 1 to 64/],
  ])('%o is refused, naming the setting', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });

  it('PostgreSQL and Redis are named by URL; without REDIS_URL nothing is shared', () => {
    expect(loadConfig({ DATABASE_URL: 'postgres://bot@db.internal:5432/chatbot', REDIS_URL: 'redis://cache:6379/2' })).toMatchObject({ databaseUrl: 'postgres://bot@db.internal:5432/chatbot', redisUrl: 'redis://cache:6379/2' });
    expect(loadConfig({ DATABASE_URL: 'postgresql://db/chatbot' }).databaseUrl).toBe('postgresql://db/chatbot');
    expect(loadConfig({}).redisUrl).toBeUndefined();
  });

  it('a hop count or the proxies\' addresses are what TRUST_PROXY takes', () => {
    expect(loadConfig({ TRUST_PROXY: '1' }).trustProxy).toBe(1);
    expect(loadConfig({ TRUST_PROXY: 'loopback, 10.0.0.0/8' }).trustProxy).toBe('loopback,10.0.0.0/8');
    expect(loadConfig({ TRUST_PROXY: 'false' }).trustProxy).toBe(false);
  });

  it('tokens of 32 characters or more are taken; an empty value means unset', () => {
    expect(loadConfig({ ADMIN_TOKEN: longToken, METRICS_TOKEN: longToken })).toMatchObject({ adminToken: longToken, metricsToken: longToken });
    expect(loadConfig({ ADMIN_TOKEN: '' }).adminToken).toBeUndefined();
  });
});
