import type { ServerOptions } from '../server/createServer.js';
import type { Logger } from '../server/logging.js';
import { LiveHub } from '../support/liveHub.js';
import { RedisConnection } from './redisConnection.js';
import { RedisHubBus } from './redisHubBus.js';
import { RedisLimits } from './redisLimiter.js';

type Coordination = NonNullable<ServerOptions['coordination']>;

export interface RedisCoordination {
  /** What createServer shares through Redis; with WORKERS > 1, the cluster still adds up /metrics and picks the worker that runs the jobs. */
  coordination(workers?: Coordination): Coordination;
  close(): Promise<void>;
}

/**
 * REDIS_URL: what the instances behind a load balancer must share. Rate-limit buckets (one
 * allowance per address or conversation, however requests are spread) and live delivery (a frame
 * for a widget socket or an inbox stream held by another instance). Turn order is not here: it is
 * the database's row lock (PostgreSQL) and version check.
 *
 * Every instance runs the server's jobs: the webhook outbox is leased row by row in the database
 * and the retention sweep deletes what is due whoever runs it, so no leader needs electing.
 */
export async function sharedThroughRedis(url: string, log: Logger): Promise<RedisCoordination> {
  let lastComplaint = 0;
  // A restart of Redis makes both connections complain on every retry: say it at most every 10 s.
  const complain = (error: Error) => {
    if (Date.now() - lastComplaint < 10_000) return;
    lastComplaint = Date.now();
    log.warn({ error: error.message }, 'Redis unavailable: limits refuse requests and live delivery to other instances pauses until it is back');
  };
  const connection = await RedisConnection.open(url, complain);
  const hub = new LiveHub();
  const bus = await RedisHubBus.join(connection, hub, { onError: complain });
  const limits = new RedisLimits(connection);
  connection.commands.on('ready', () => log.info('Redis connected'));
  return {
    coordination(workers) {
      // The cluster's metrics and job role stay; the limits and the hub are Redis's.
      return { ...workers, limiter: (name, limit) => limits.limiter(name, limit), hub, runsServerJobs: workers?.runsServerJobs ?? true };
    },
    async close() {
      await bus.leave();
      await connection.close();
    },
  };
}
