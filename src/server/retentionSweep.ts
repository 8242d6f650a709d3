import type { PrivacyStore } from '../dialogue/conversationStore.js';
import type { Logger } from './logging.js';

export const dayMs = 86_400_000;

/** Conversations deleted per transaction: small enough that a turn never waits long behind one. */
const batchSize = 200;

/**
 * RETENTION_DAYS: deletes conversations idle for longer than `retentionDays`, at start and then
 * hourly, a batch per transaction with the event loop free in between, so users' turns never
 * wait behind a large sweep.
 */
export function startRetentionSweep(store: Pick<PrivacyStore, 'deleteInactiveBefore'>, retentionDays: number, now: () => Date, log: Logger): { stop(): void } {
  let stopped = false;
  let running = false;
  const sweep = async () => {
    if (running || stopped) return;
    running = true;
    try {
      const before = new Date(now().getTime() - retentionDays * dayMs).toISOString();
      let deleted = 0;
      let batch: number;
      do {
        batch = await store.deleteInactiveBefore(before, batchSize);
        deleted += batch;
        await new Promise((resolve) => setImmediate(resolve));
      } while (batch > 0 && !stopped);
      if (deleted) log.info({ deleted, before }, 'retention: deleted idle conversations');
    } catch (error) {
      log.error({ err: error }, 'retention sweep failed; it runs again in an hour');
    } finally {
      running = false;
    }
  };
  void sweep();
  const timer = setInterval(() => void sweep(), 3_600_000);
  timer.unref();
  return {
    stop() {
      stopped = true;
      clearInterval(timer);
    },
  };
}
