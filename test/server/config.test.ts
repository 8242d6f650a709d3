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
