/**
 * npm run bench:workers — the production server (`node dist/server/main.js`) with WORKERS=1 and
 * WORKERS=2 on one SQLite file, next to a bare express route, in one run on 127.0.0.1. Each round
 * runs bare, one worker and two workers back to back at 16 and 64 conversations walking the whole
 * unbinding (bench/unbindingWithDigressions.yml); medians over BENCH_ROUNDS rounds (default 3), each
 * window BENCH_SECONDS long (default 8). Rate limits are off (load from one address is the point).
 * The load generator runs on this machine too: on 2 cores it takes a share of what the workers could use.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createConversations, loadConversationScript, walkScript, type Conversation } from './conversationScript.js';
import { runScriptedLoad } from './scriptedLoad.js';
import { projectRoot, startBenchServer, type BenchServer } from './serverProcess.js';
import { killProductionServers, median, startProduction } from './productionServer.js';

const rounds = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 3));
const seconds = Number(process.env.BENCH_SECONDS ?? 8);
const levels = [16, 64];

// Stops by itself: a stuck run is killed with its servers.
setTimeout(() => {
  console.error('bench:workers: took too long, stopping');
  killProductionServers();
  process.exit(1);
}, (3 + rounds * 4) * 60_000).unref();

/** WORKERS=n on one SQLite file. */
const startWorkers = (workers: number, databaseFile: string) => startProduction(`WORKERS=${workers}`, { WORKERS: String(workers), DATABASE_URL: `sqlite:${databaseFile}` });

async function main(): Promise<void> {
  console.log(`bench:workers — ${os.cpus().length} cores, Node ${process.version}, load average ${os.loadavg().map((value) => value.toFixed(2)).join(' ')}`);
  const built = spawnSync(process.execPath, ['scripts/build.mjs'], { cwd: projectRoot, stdio: 'inherit' });
  if (built.status !== 0) throw new Error('npm run build failed');
  const script = loadConversationScript();
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'workers-bench-'));
  const servers: { name: string; baseUrl: string; stop(): Promise<void>; bot: boolean }[] = [];
  try {
    const one = await startWorkers(1, path.join(tmp, 'one.db'));
    servers.push({ name: 'WORKERS=1', ...one, bot: true });
    const walked = await walkScript(one.baseUrl, script);
    const replyFile = path.join(tmp, 'reply.json');
    writeFileSync(replyFile, walked[Math.floor(walked.length / 2)]!.responseBody);
    const bare: BenchServer = await startBenchServer('bare', replyFile);
    servers.unshift({ name: 'bare express', baseUrl: bare.baseUrl, stop: () => bare.stop(), bot: false });
    const two = await startWorkers(2, path.join(tmp, 'two.db'));
    servers.push({ name: 'WORKERS=2', ...two, bot: true });

    const results = new Map<string, { perSecond: number[]; p50: number[]; p99: number[]; ratio: number[]; p99Ratio: number[] }>();
    for (let round = 1; round <= rounds; round++) {
      for (const connections of levels) {
        let bareRun: { perSecond: number; p99: number } | undefined;
        for (const server of servers) {
          const conversations: Conversation[] = server.bot
            ? await createConversations(server.baseUrl, connections * 2 + 4)
            : Array.from({ length: connections * 2 + 4 }, (_, index) => ({ id: `bare-${index}`, token: 'x'.repeat(40) }) as Conversation);
          const run = await runScriptedLoad({ baseUrl: server.baseUrl, connections, measureSeconds: seconds, maxRampSeconds: 45, script, conversations, checkStates: server.bot });
          if (run.offScript || run.errors) console.log(`  ${server.name} at ${connections}: ${run.offScript} answers off the script, ${run.errors} errors`);
          if (!server.bot) bareRun = { perSecond: run.perSecond, p99: run.latency.p99 };
          const key = `${connections}|${server.name}`;
          const entry = results.get(key) ?? { perSecond: [], p50: [], p99: [], ratio: [], p99Ratio: [] };
          entry.perSecond.push(run.perSecond);
          entry.p50.push(run.latency.p50);
          entry.p99.push(run.latency.p99);
          entry.ratio.push(run.perSecond / bareRun!.perSecond);
          entry.p99Ratio.push(run.latency.p99 / bareRun!.p99);
          results.set(key, entry);
          console.log(`  round ${round}, ${connections} conversations, ${server.name}: ${run.perSecond.toFixed(0)}/s, p50 ${run.latency.p50.toFixed(1)} ms, p99 ${run.latency.p99.toFixed(1)} ms`);
        }
      }
    }
    console.log(`\nmedians of ${rounds} round(s), ${seconds} s windows; ratios against the bare route of the same round`);
    console.log('| conversations | server | msg/s | × bare | p50 ms | p99 ms | p99 × bare |');
    console.log('|---:|---|---:|---:|---:|---:|---:|');
    for (const connections of levels) {
      for (const server of servers) {
        const entry = results.get(`${connections}|${server.name}`)!;
        console.log(`| ${connections} | ${server.name} | ${median(entry.perSecond).toFixed(0)} | ${median(entry.ratio).toFixed(2)} | ${median(entry.p50).toFixed(1)} | ${median(entry.p99).toFixed(1)} | ${median(entry.p99Ratio).toFixed(2)} |`);
      }
    }
  } finally {
    for (const server of servers) await server.stop().catch(() => undefined);
    rmSync(tmp, { recursive: true, force: true });
  }
}

main().then(() => process.exit(0), (error: unknown) => {
  console.error(error);
  process.exit(1);
});
