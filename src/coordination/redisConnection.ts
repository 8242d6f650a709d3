import { createClient, type RedisClientType } from 'redis';
import { redactedUrl } from '../settings/connectionUrls.js';

export class RedisUnavailableError extends Error {
  override name = 'RedisUnavailableError';
}

/**
 * The connections one instance keeps to Redis (REDIS_URL): one for commands, one for subscriptions
 * (a subscribed connection can run nothing else). Both reconnect by themselves, backing off to 2 s;
 * while Redis is away, a command fails after its caller's timeout instead of waiting for it.
 */
export class RedisConnection {
  readonly commands: RedisClientType;
  readonly subscriber: RedisClientType;

  private constructor(url: string, onError: (error: Error) => void) {
    this.commands = createClient({ url, socket: { reconnectStrategy: (retries) => Math.min(100 * 2 ** retries, 2_000), connectTimeout: 5_000 } });
    this.subscriber = this.commands.duplicate();
    // Without a listener node-redis would throw the error and stop the process on a restart of Redis.
    this.commands.on('error', onError);
    this.subscriber.on('error', onError);
  }

  /** Connects both; refuses (RedisUnavailableError) when Redis cannot be reached at start. */
  static async open(url: string, onError: (error: Error) => void): Promise<RedisConnection> {
    const connection = new RedisConnection(url, onError);
    try {
      await withDeadline(Promise.all([connection.commands.connect(), connection.subscriber.connect()]), 5_000, `Redis at ${redactedUrl(url)} did not answer within 5 s`);
    } catch (error) {
      await connection.close();
      throw new RedisUnavailableError((error as Error).message);
    }
    return connection;
  }

  /** Runs one command, or fails after `timeoutMs` (Redis away: node-redis would queue it until it returns). */
  withTimeout<T>(command: (client: RedisClientType) => Promise<T>, timeoutMs: number): Promise<T> {
    if (!this.commands.isReady) return Promise.reject(new RedisUnavailableError('Redis is not connected'));
    return withDeadline(command(this.commands), timeoutMs, `Redis did not answer within ${timeoutMs} ms`);
  }

  async close(): Promise<void> {
    await Promise.all([this.commands, this.subscriber].map((client) => (client.isOpen ? client.close().catch(() => undefined) : undefined)));
  }
}

function withDeadline<T>(work: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new RedisUnavailableError(message)), ms);
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}
