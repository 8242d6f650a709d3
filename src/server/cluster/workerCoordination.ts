import { LiveHub } from '../../support/liveHub.js';
import type { Limiter, LimitName, RateDecision, RateLimit } from '../../limits/rateLimiter.js';
import { channel, isClusterMessage, serverJobsVariable, type LimitOperation, type PrimaryToWorker, type WorkerToPrimary } from './clusterMessages.js';

/** How long a worker waits for the primary to answer a limit before refusing the request (fail closed). */
const limitAnswerTimeoutMs = 5_000;

/**
 * A worker's side of the coordination (WORKERS > 1): limits whose buckets the primary holds for
 * every worker, so an address or a conversation has one allowance however its requests are spread,
 * and a hub joined to the other workers' hubs, so an agent's message reaches a widget socket held by
 * another worker. Turn order needs nothing here: saves are version-checked in the database.
 */
export function workerCoordination() {
  const send = (message: WorkerToPrimary) => process.send?.(message);
  const waiting = new Map<number, { resolve: (decision: RateDecision) => void; timer: NodeJS.Timeout }>();
  let nextId = 0;
  const hub = new LiveHub();
  let ownMetrics: () => Promise<unknown[]> = async () => [];
  const metricsWaiting = new Map<number, (answer: { text: string } | { error: string }) => void>();
  hub.connect({ publish: (message) => send({ channel, type: 'hub', message }) });
  process.on('message', (message: unknown) => {
    if (!isClusterMessage<PrimaryToWorker>(message)) return;
    if (message.type === 'hub') hub.deliverFromElsewhere(message.message);
    else if (message.type === 'metricsWanted') void ownMetrics().then((metrics) => send({ channel, type: 'metricsOfWorker', gather: message.gather, metrics }), () => send({ channel, type: 'metricsOfWorker', gather: message.gather, metrics: [] }));
    else if (message.type === 'metricsAnswer') {
      metricsWaiting.get(message.id)?.(message);
      metricsWaiting.delete(message.id);
    }
    else if (message.type === 'limitAnswer') {
      const answer = waiting.get(message.id);
      if (!answer) return;
      waiting.delete(message.id);
      clearTimeout(answer.timer);
      answer.resolve(message.decision);
    }
  });

  const ask = (name: LimitName, limit: RateLimit, operation: LimitOperation, key: string): Promise<RateDecision> =>
    new Promise((resolve) => {
      const id = ++nextId;
      // A primary that does not answer is a server in trouble: refuse rather than let traffic through unlimited.
      const timer = setTimeout(() => {
        waiting.delete(id);
        resolve({ allowed: false, retryAfterSeconds: 5 });
      }, limitAnswerTimeoutMs);
      waiting.set(id, { resolve, timer });
      send({ channel, type: 'limit', id, name, limit, operation, key });
    });

  const limiter = (name: LimitName, limit: RateLimit): Limiter => {
    const enabled = limit.perMinute > 0;
    return {
      enabled,
      // A limit that is off costs no round trip.
      take: (key) => (enabled ? ask(name, limit, 'take', key) : { allowed: true }),
      canTake: (key) => (enabled ? ask(name, limit, 'canTake', key).then((decision) => decision.allowed) : true),
      giveBack: (key) => {
        if (enabled) send({ channel, type: 'limit', id: 0, name, limit, operation: 'giveBack', key });
      },
    };
  };

  return {
    limiter,
    hub,
    runsServerJobs: process.env[serverJobsVariable] === '1',
    /** How this worker's metrics are read (the registry's JSON), for a scrape that reached any worker. */
    shareMetrics(read: () => Promise<unknown[]>) {
      ownMetrics = read;
    },
    /** Every worker's metrics added up, as Prometheus text: what /metrics answers with WORKERS > 1. */
    allWorkersMetrics(): Promise<string> {
      return new Promise((resolve, reject) => {
        const id = ++nextId;
        const timer = setTimeout(() => {
          metricsWaiting.delete(id);
          reject(new Error('the primary did not gather the workers\' metrics within 5 s'));
        }, limitAnswerTimeoutMs);
        metricsWaiting.set(id, (answer) => {
          clearTimeout(timer);
          if ('error' in answer) reject(new Error(`the primary could not add up the workers' metrics: ${answer.error}`));
          else resolve(answer.text);
        });
        send({ channel, type: 'metrics', id });
      });
    },
    /** Tells the primary this worker is serving (start-up succeeded). */
    listening: () => send({ channel, type: 'listening' }),
  };
}
