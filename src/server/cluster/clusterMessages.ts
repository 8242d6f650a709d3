import type { HubMessage } from '../../support/liveHub.js';
import type { LimitName, RateDecision, RateLimit } from '../../limits/rateLimiter.js';

/**
 * What the workers of one server (WORKERS > 1) and their primary process say to each other over
 * node's cluster IPC. Every message carries `channel` so nothing else that uses IPC is mistaken for one.
 */
export const channel = 'chatbot-cluster';

export type LimitOperation = 'take' | 'canTake' | 'giveBack';

export type WorkerToPrimary =
  | { channel: typeof channel; type: 'limit'; id: number; name: LimitName; limit: RateLimit; operation: LimitOperation; key: string }
  | { channel: typeof channel; type: 'hub'; message: HubMessage }
  | { channel: typeof channel; type: 'listening' }
  /** A scrape of /metrics reached this worker: the primary gathers every worker's metrics. */
  | { channel: typeof channel; type: 'metrics'; id: number }
  | { channel: typeof channel; type: 'metricsOfWorker'; gather: number; metrics: unknown[] };

export type PrimaryToWorker =
  | { channel: typeof channel; type: 'limitAnswer'; id: number; decision: RateDecision }
  | { channel: typeof channel; type: 'metricsWanted'; gather: number }
  | { channel: typeof channel; type: 'metricsAnswer'; id: number; text: string }
  /** The workers' metrics could not be added up: the scrape gets an error, not an empty page. */
  | { channel: typeof channel; type: 'metricsAnswer'; id: number; error: string }
  | { channel: typeof channel; type: 'hub'; message: HubMessage | { kind: 'agentStreamsElsewhere'; open: number } };

export function isClusterMessage<T extends { channel: string }>(message: unknown): message is T {
  return typeof message === 'object' && message !== null && (message as { channel?: unknown }).channel === channel;
}

/** Set by the primary on the worker that delivers the webhook outbox and sweeps old conversations. */
export const serverJobsVariable = 'CHATBOT_RUNS_SERVER_JOBS';
