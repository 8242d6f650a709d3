/**
 * Every setting the server reads from the environment, validated in one place before anything
 * starts: a bad value stops start-up with `cannot start: NAME: …` instead of a stack trace or a
 * server that runs with something other than what the operator meant.
 */
import { availableParallelism } from 'node:os';
import { z } from 'zod';
import { socketTimeoutsFromEnv, type SocketTimeouts } from '../channels/socketLifetime.js';
import { parseAllowedOrigins } from './corsForEmbedding.js';
import { rateLimitSettingsFromEnv, type RateLimitSettings } from '../limits/rateLimiter.js';
import { parseServiceHours, type ServiceHours } from '../support/serviceHours.js';
import { isPostgresUrl, isRedisUrl } from '../settings/connectionUrls.js';

export interface ServerConfig {
  port: number;
  databaseUrl: string;
  /** PostgreSQL connections this process keeps (DATABASE_URL=postgres://…). */
  databasePoolSize: number;
  /** Set: limits and live delivery are shared with the other instances through Redis. */
  redisUrl: string | undefined;
  contentDir: string | undefined;
  allowedOrigins: string[];
  adminToken: string | undefined;
  metricsToken: string | undefined;
  handoffWebhookUrl: string | undefined;
  handoffWebhookSecret: string | undefined;
  serviceHours: ServiceHours;
  rateLimits: RateLimitSettings;
  socketTimeouts: SocketTimeouts;
  trustProxy: number | string | false;
  retention: RetentionSettings;
  /** Processes serving requests (WORKERS); 1 serves in this process, more start a cluster (cluster/). */
  workers: number;
}

export interface RetentionSettings {
  /** Conversations with no activity for this many days are deleted with everything they hold; 0 keeps them. */
  retentionDays: number;
  /** A conversation's token stops working after this many days without a message; 0 never. */
  tokenIdleDays: number;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Bearer secrets (admin, metrics) must be long enough that guessing is hopeless even unthrottled. */
const minimumTokenLength = 32;

const optional = (value: string | undefined) => (value === undefined || value === '' ? undefined : value);

const secret = (name: string, minimum: number) =>
  z
    .string()
    .optional()
    .transform(optional)
    .refine((value) => value === undefined || value.length >= minimum, `${name} must be at least ${minimum} characters (e.g. \`openssl rand -hex 24\`)`);

const wholeNumber = (name: string, fallback: number, max = Number.MAX_SAFE_INTEGER, message = `${name} must be a whole number from 0 to ${max}`) =>
  z
    .string()
    .optional()
    .transform(optional)
    .refine((value) => value === undefined || (/^\d+$/.test(value) && Number(value) <= max), message)
    .transform((value) => (value === undefined ? fallback : Number(value)));

const environment = z.object({
  PORT: wholeNumber('PORT', 3000, 65_535),
  DATABASE_URL: z
    .string()
    .optional()
    .transform((value) => optional(value) ?? 'sqlite:./data/chatbot.db')
    .refine((value) => value === 'memory:' || /^sqlite:.+$/.test(value) || isPostgresUrl(value), 'DATABASE_URL must be sqlite:<file>, sqlite::memory:, memory: or postgres://user@host:port/database'),
  // A turn holds one connection for its transaction (the conversation's row lock).
  DATABASE_POOL_SIZE: wholeNumber('DATABASE_POOL_SIZE', 10, 500, 'DATABASE_POOL_SIZE must be a whole number from 1 to 500').refine((value) => value >= 1, 'DATABASE_POOL_SIZE must be a whole number from 1 to 500'),
  // Shared by every instance: rate-limit buckets and live delivery between them (coordination/).
  REDIS_URL: z
    .string()
    .optional()
    .transform(optional)
    .refine((value) => value === undefined || isRedisUrl(value), 'REDIS_URL must be redis://[user:password@]host[:port][/db] or rediss://…'),
  CONTENT_DIR: z.string().optional().transform(optional),
  ALLOWED_ORIGINS: z.string().optional().transform((value) => parseAllowedOrigins(optional(value))),
  ADMIN_TOKEN: secret('ADMIN_TOKEN', minimumTokenLength),
  METRICS_TOKEN: secret('METRICS_TOKEN', minimumTokenLength),
  HANDOFF_WEBHOOK_URL: z
    .string()
    .optional()
    .transform(optional)
    .refine((value) => value === undefined || /^https?:\/\/[^\s/]+/.test(value), 'HANDOFF_WEBHOOK_URL must be an http(s) URL'),
  // A short shared secret can be guessed from one signed delivery.
  HANDOFF_WEBHOOK_SECRET: secret('HANDOFF_WEBHOOK_SECRET', 16),
  TRUST_PROXY: z.string().optional().transform(optional),
  RETENTION_DAYS: wholeNumber('RETENTION_DAYS', 90, 36_500),
  TOKEN_IDLE_DAYS: wholeNumber('TOKEN_IDLE_DAYS', 30, 36_500),
  // One worker per core by default; the tests run one (vitest.config.ts sets WORKERS=1).
  WORKERS: wholeNumber('WORKERS', availableParallelism(), 64, 'WORKERS must be a whole number from 1 to 64').refine((value) => value >= 1, 'WORKERS must be a whole number from 1 to 64'),
});

/** Reads and checks every setting; throws ConfigError naming the first bad one. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): ServerConfig {
  const parsed = environment.safeParse(env);
  if (!parsed.success) throw new ConfigError(parsed.error.issues[0]!.message);
  const settings = parsed.data;
  let serviceHours: ServiceHours;
  let rateLimits: RateLimitSettings;
  let socketTimeouts: SocketTimeouts;
  try {
    serviceHours = parseServiceHours(optional(env.SERVICE_HOURS), optional(env.SERVICE_TIMEZONE));
    rateLimits = rateLimitSettingsFromEnv(env);
    socketTimeouts = socketTimeoutsFromEnv(env);
  } catch (error) {
    throw new ConfigError((error as Error).message);
  }
  return {
    port: settings.PORT,
    databaseUrl: settings.DATABASE_URL,
    databasePoolSize: settings.DATABASE_POOL_SIZE,
    redisUrl: settings.REDIS_URL,
    contentDir: settings.CONTENT_DIR,
    allowedOrigins: settings.ALLOWED_ORIGINS,
    adminToken: settings.ADMIN_TOKEN,
    metricsToken: settings.METRICS_TOKEN,
    handoffWebhookUrl: settings.HANDOFF_WEBHOOK_URL,
    handoffWebhookSecret: settings.HANDOFF_WEBHOOK_SECRET,
    serviceHours,
    rateLimits,
    socketTimeouts,
    trustProxy: parseTrustProxy(settings.TRUST_PROXY),
    retention: { retentionDays: settings.RETENTION_DAYS, tokenIdleDays: settings.TOKEN_IDLE_DAYS },
    workers: settings.WORKERS,
  };
}

/**
 * TRUST_PROXY as a hop count ("1": one proxy in front) or the proxies' addresses and subnets
 * ("loopback", "10.0.0.0/8, 192.168.1.7"). `true` is refused: it trusts every X-Forwarded-For
 * hop, so any client could name any address and step around every per-address limit.
 */
export function parseTrustProxy(value: string | undefined): number | string | false {
  if (value === undefined || value === 'false' || value === '0') return false;
  if (value === 'true') {
    throw new ConfigError('TRUST_PROXY=true would let any client pick its address with X-Forwarded-For: set the number of proxies in front (e.g. 1) or their addresses (e.g. loopback, 10.0.0.0/8)');
  }
  if (/^\d+$/.test(value)) return Number(value);
  const entries = value.split(',').map((entry) => entry.trim()).filter(Boolean);
  const named = new Set(['loopback', 'linklocal', 'uniquelocal']);
  const address = /^(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9a-f:]+)(?:\/\d{1,3})?$/i;
  const bad = entries.find((entry) => !named.has(entry) && !address.test(entry));
  if (bad !== undefined || entries.length === 0) throw new ConfigError(`TRUST_PROXY "${value}" is neither a hop count nor a list of addresses/subnets (e.g. loopback, 10.0.0.0/8)`);
  return entries.join(',');
}
