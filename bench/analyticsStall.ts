/**
 * Does the dashboard's analytics hold the server? Seeds distinct unanswered messages (100 000 by
 * default) into a temp SQLite file, starts the server in this process, and asks
 * GET /api/admin/analytics while pinging /healthz every few ms; prints how long analytics took, the
 * event-loop delay meanwhile (perf_hooks monitorEventLoopDelay) and the /healthz latencies.
 *
 *   npm run bench:analytics                  # 100 000 messages
 *   npm run bench:analytics -- --messages 4050
 */
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { loadContent } from '../src/content/loadContent.js';
import { createServer } from '../src/server/createServer.js';
import { createLogger } from '../src/server/logging.js';
import { noRateLimits } from '../src/limits/rateLimiter.js';
import { openStore } from '../src/storage/openStore.js';
import type { SqliteConversationStore } from '../src/storage/sqliteConversationStore.js';
import { seedUnansweredMessages } from '../test/support/seedAnalyticsRows.js';

const { values } = parseArgs({ options: { messages: { type: 'string', default: '100000' }, 'ping-ms': { type: 'string', default: '5' } } });
const messages = Number(values.messages);
const pingMs = Number(values['ping-ms']);
const adminToken = 'bench-admin-token-0123456789';

const dir = mkdtempSync(path.join(tmpdir(), 'analytics-stall-'));
const store = openStore(`sqlite:${path.join(dir, 'chatbot.db')}`) as SqliteConversationStore;
try {
  let started = performance.now();
  seedUnansweredMessages(store, messages);
  console.log(`seeded ${messages} distinct unanswered messages in ${Math.round(performance.now() - started)} ms`);

  const running = createServer({ content: loadContent(), store, log: createLogger({ write: () => undefined }, 'warn'), rateLimits: noRateLimits, adminToken });
  await new Promise<void>((resolve) => running.server.listen(0, '127.0.0.1', resolve));
  const baseUrl = `http://127.0.0.1:${(running.server.address() as AddressInfo).port}`;
  await fetch(`${baseUrl}/healthz`); // the first request opens the connection pool

  const latencies: number[] = [];
  let analyticsDone = false;
  const pinging = (async () => {
    while (!analyticsDone) {
      const sent = performance.now();
      await (await fetch(`${baseUrl}/healthz`)).text();
      latencies.push(performance.now() - sent);
      await new Promise((resolve) => setTimeout(resolve, pingMs));
    }
  })();
  const loopDelay = monitorEventLoopDelay({ resolution: 1 });
  loopDelay.enable();
  started = performance.now();
  const response = await fetch(`${baseUrl}/api/admin/analytics`, { headers: { authorization: `Bearer ${adminToken}` } });
  const body = (await response.json()) as { unanswered: unknown[]; unansweredMessages: { total: number; considered: number } };
  const analyticsMs = performance.now() - started;
  loopDelay.disable();
  analyticsDone = true;
  await pinging;

  const sorted = [...latencies].sort((a, b) => a - b);
  const percentile = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
  const ms = (nanoseconds: number) => (nanoseconds / 1e6).toFixed(1);
  console.log(`GET /api/admin/analytics: ${response.status} in ${Math.round(analyticsMs)} ms; ${body.unanswered.length} groups from ${body.unansweredMessages.considered} of ${body.unansweredMessages.total} messages`);
  console.log(`event-loop delay meanwhile: max ${ms(loopDelay.max)} ms, p99 ${ms(loopDelay.percentile(99))} ms, mean ${ms(loopDelay.mean)} ms`);
  console.log(`/healthz every ${pingMs} ms meanwhile: ${latencies.length} answers, max ${percentile(100).toFixed(1)} ms, p99 ${percentile(99).toFixed(1)} ms, median ${percentile(50).toFixed(1)} ms`);
  await running.close();
} finally {
  store.close();
  rmSync(dir, { recursive: true, force: true });
}
