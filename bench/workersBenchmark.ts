/**
 * npm run bench:workers — the production server (`node dist/server/main.js`) with WORKERS=1 and
 * WORKERS=2 on one SQLite file, next to a bare express route, in one run on 127.0.0.1. Each round
 * runs bare, one worker and two workers back to back at 16 and 64 conversations walking the whole
 * unbinding (bench/unbindingWithDigressions.yml); medians over BENCH_ROUNDS rounds (default 3), each
 * window BENCH_SECONDS long (default 8). Rate limits are off (load from one address is the point).
 * The load generator runs on this machine too: on 2 cores it takes a share of what the workers could use.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConversationScript } from './conversationScript.js';
import { bareRouteLike, measureDeployments, roundSettings, stopAfter, type Deployment } from './deploymentRounds.js';
import { buildProduction, startProduction } from './productionServer.js';

const { rounds } = roundSettings;
stopAfter('bench:workers', 3 + rounds * 4);

/** WORKERS=n on one SQLite file. */
const startWorkers = (workers: number, databaseFile: string) => startProduction(`WORKERS=${workers}`, { WORKERS: String(workers), DATABASE_URL: `sqlite:${databaseFile}` });

async function main(): Promise<void> {
  console.log(`bench:workers — ${os.cpus().length} cores, Node ${process.version}, load average ${os.loadavg().map((value) => value.toFixed(2)).join(' ')}`);
  buildProduction();
  const script = loadConversationScript();
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'workers-bench-'));
  const servers: (Deployment & { stop(): Promise<void> })[] = [];
  try {
    const one = await startWorkers(1, path.join(tmp, 'one.db'));
    servers.push({ name: 'WORKERS=1', baseUrls: [one.baseUrl], pids: [one.pid], stop: () => one.stop(), bot: true });
    servers.unshift(await bareRouteLike(one.baseUrl, script, tmp));
    const two = await startWorkers(2, path.join(tmp, 'two.db'));
    // The primary's pid: its workers are its children, counted with the server processes below.
    servers.push({ name: 'WORKERS=2', baseUrls: [two.baseUrl], pids: [two.pid], stop: () => two.stop(), bot: true });
    await measureDeployments({ deployments: servers, ...roundSettings, script });
  } finally {
    for (const server of servers) await server.stop().catch(() => undefined);
    rmSync(tmp, { recursive: true, force: true });
  }
}

main().then(() => process.exit(0), (error: unknown) => {
  console.error(error);
  process.exit(1);
});
