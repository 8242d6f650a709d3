import cluster, { type Worker } from 'node:cluster';
import { RateLimiter, type LimitName } from '../../limits/rateLimiter.js';
import type { Logger } from '../logging.js';
import { channel, isClusterMessage, serverJobsVariable, type PrimaryToWorker, type WorkerToPrimary } from './clusterMessages.js';

/** A worker that dies this soon after it started is not restarted again and again: the server stops. */
const crashLoopMs = 10_000;
const restartDelayMs = 1_000;
/** How long workers get to finish their requests and turns on SIGTERM before they are killed. */
const stopTimeoutMs = 12_000;

/**
 * The primary of WORKERS > 1: it serves no request itself. It starts the first worker, then the
 * others once that one serves (node's cluster module hands each new connection to the next worker), holds the rate-limit buckets all workers
 * spend from, relays live deliveries between their hubs, and restarts a worker that dies. Exactly one
 * worker at a time runs the once-per-server jobs (webhook outbox, retention sweep).
 */
export function runClusterPrimary({ workers: count, log, cannotStart }: { workers: number; log: Logger; cannotStart: (message: string) => never }): void {
  const limiters = new Map<LimitName, RateLimiter>();
  const agentStreams = new Map<number, number>();
  const roles = new Map<number, { runsServerJobs: boolean; startedAt: number; listening: boolean }>();
  let stopping = false;
  let othersStarted = false;
  let gathers = 0;
  const gathering = new Map<number, { metrics: unknown[][]; expected: number; done: () => void }>();

  /** Asks every worker for its metrics and answers `asker` with their sum (a worker that does not answer in 2 s is left out). */
  const gatherMetrics = (asker: Worker, id: number) => {
    const gather = ++gathers;
    const workers = Object.values(cluster.workers ?? {}).filter((worker): worker is Worker => worker !== undefined && worker.isConnected());
    const collected: unknown[][] = [];
    const done = () => {
      if (!gathering.delete(gather)) return;
      clearTimeout(timer);
      // prom-client only when a scrape asks: the primary's start-up stays light. Its exports are
      // read from `default`: node gives a CommonJS package's exports there (and as named ones), the
      // build's bundle there only.
      void import('prom-client')
        .then((module) => (module as unknown as { default: typeof module }).default.AggregatorRegistry.aggregate(collected as object[]).metrics())
        .then(
          (text) => sendTo(asker, { channel, type: 'metricsAnswer', id, text }),
          (error: unknown) => sendTo(asker, { channel, type: 'metricsAnswer', id, error: error instanceof Error ? error.message : String(error) }),
        );
    };
    const timer = setTimeout(done, 2_000);
    gathering.set(gather, { metrics: collected, expected: workers.length, done });
    for (const worker of workers) sendTo(worker, { channel, type: 'metricsWanted', gather });
  };

  const sendTo = (worker: Worker, message: PrimaryToWorker) => {
    if (worker.isConnected()) worker.send(message);
  };
  const others = (id: number) => Object.values(cluster.workers ?? {}).filter((worker): worker is Worker => worker !== undefined && worker.id !== id);
  const tellAgentStreams = () => {
    for (const worker of Object.values(cluster.workers ?? {})) {
      if (!worker) continue;
      let elsewhere = 0;
      for (const [id, open] of agentStreams) if (id !== worker.id) elsewhere += open;
      sendTo(worker, { channel, type: 'hub', message: { kind: 'agentStreamsElsewhere', open: elsewhere } });
    }
  };

  const start = (runsServerJobs: boolean) => {
    const worker = cluster.fork({ [serverJobsVariable]: runsServerJobs ? '1' : '0' });
    roles.set(worker.id, { runsServerJobs, startedAt: Date.now(), listening: false });
    worker.on('message', (message: unknown) => {
      if (!isClusterMessage<WorkerToPrimary>(message)) return;
      if (message.type === 'listening') {
        roles.get(worker.id)!.listening = true;
        tellAgentStreams();
        // The first worker has migrated the database and serves: now the others, which would only
        // have slowed it down on a machine with as many cores as workers.
        if (!othersStarted) {
          othersStarted = true;
          for (let index = 1; index < count; index++) start(false);
        }
      } else if (message.type === 'hub') {
        if (message.message.kind === 'agentStreams') {
          agentStreams.set(worker.id, message.message.open);
          tellAgentStreams();
        } else for (const other of others(worker.id)) sendTo(other, { channel, type: 'hub', message: message.message });
      } else if (message.type === 'metrics') {
        gatherMetrics(worker, message.id);
      } else if (message.type === 'metricsOfWorker') {
        const pending = gathering.get(message.gather);
        if (!pending) return;
        pending.metrics.push(message.metrics);
        if (pending.metrics.length === pending.expected) pending.done();
      } else if (message.type === 'limit') {
        let limiter = limiters.get(message.name);
        if (!limiter) limiters.set(message.name, (limiter = new RateLimiter(message.limit)));
        if (message.operation === 'giveBack') return limiter.giveBack(message.key);
        const decision = message.operation === 'take' ? limiter.take(message.key) : limiter.canTake(message.key) ? { allowed: true as const } : { allowed: false as const, retryAfterSeconds: 1 };
        sendTo(worker, { channel, type: 'limitAnswer', id: message.id, decision });
      }
    });
  };

  cluster.on('exit', (worker, code, signal) => {
    const role = roles.get(worker.id);
    roles.delete(worker.id);
    if (agentStreams.delete(worker.id)) tellAgentStreams();
    if (stopping) {
      if (Object.keys(cluster.workers ?? {}).length === 0) {
        log.info('stopped cleanly');
        log.flush();
        process.exit(0);
      }
      return;
    }
    // A worker that could not start (its own `cannot start: …` is above) stops the whole server.
    if (code === 2) {
      stopAll();
      cannotStart('a worker could not start (see its message above)');
    }
    if (role && !role.listening && Date.now() - role.startedAt < crashLoopMs) {
      stopAll();
      cannotStart(`a worker died during start-up (${signal ?? `exit code ${code}`})`);
    }
    log.error({ workerPid: worker.process.pid, code, signal }, 'worker died: starting another');
    // Kept referenced: when every worker died at once, this timer is all that keeps the primary, and
    // with it the server, alive (unreferenced, the primary exited without a word).
    setTimeout(() => {
      if (!stopping) start(role?.runsServerJobs ?? false);
    }, restartDelayMs);
  });

  const stopAll = () => {
    stopping = true;
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGTERM');
  };
  const stop = (signal: string) => {
    if (stopping) return;
    log.info({ signal, workers: Object.keys(cluster.workers ?? {}).length }, 'shutting down: each worker finishes its requests');
    stopAll();
    // Between a worker's death and its restart there may be none left to wait for.
    if (Object.keys(cluster.workers ?? {}).length === 0) {
      log.info('stopped cleanly');
      log.flush();
      process.exit(0);
    }
    setTimeout(() => {
      for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGKILL');
      process.exit(1);
    }, stopTimeoutMs).unref();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));

  start(true);
}
