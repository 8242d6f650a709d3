/** More ranges than this waiting to be computed: refuse, rather than let the queue grow without end. */
const defaultMaxWaiting = 8;

export class AnalyticsBusyError extends Error {
  override name = 'AnalyticsBusyError';
}

export const isAnalyticsBusyError = (error: unknown): error is AnalyticsBusyError => error instanceof AnalyticsBusyError;

/**
 * Runs analytics computations one at a time: a request for a range already being computed (or
 * waiting) shares that computation, so many dashboards open at once cost one run per range, and the
 * work never piles up beyond `maxWaiting` ranges.
 */
export class AnalyticsJobs<T> {
  private readonly pending = new Map<string, Promise<T>>();
  private tail: Promise<unknown> = Promise.resolve();

  constructor(private readonly maxWaiting = defaultMaxWaiting) {}

  run(key: string, compute: () => Promise<T>): Promise<T> {
    const shared = this.pending.get(key);
    if (shared) return shared;
    if (this.pending.size > this.maxWaiting) {
      return Promise.reject(new AnalyticsBusyError(`analytics is computing ${this.pending.size} ranges already; ask again in a moment`));
    }
    const job = this.tail.then(compute).finally(() => this.pending.delete(key));
    this.pending.set(key, job);
    this.tail = job.catch(() => undefined);
    return job;
  }
}
