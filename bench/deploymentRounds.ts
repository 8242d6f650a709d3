import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createConversations, walkScript, type Conversation, type ScriptStep } from './conversationScript.js';
import { measureCpuBreakdown, type CpuBreakdown } from './processCpu.js';
import { killProductionServers, median } from './productionServer.js';
import { runScriptedLoadSpread } from './scriptedLoad.js';
import { startBenchServer } from './serverProcess.js';

/** BENCH_ROUNDS (default 3) rounds of BENCH_SECONDS (default 8) windows, at 16 and 64 conversations. */
export const roundSettings = {
  rounds: Math.max(1, Number(process.env.BENCH_ROUNDS ?? 3)),
  seconds: Number(process.env.BENCH_SECONDS ?? 8),
  levels: [16, 64],
};

/** Stops by itself: a run stuck past `minutes` is killed with its servers. */
export function stopAfter(name: string, minutes: number): void {
  setTimeout(() => {
    console.error(`${name}: took too long, stopping`);
    killProductionServers();
    process.exit(1);
  }, minutes * 60_000).unref();
}

/**
 * The bare express route to measure against: it answers every request with the body the bot at
 * `botBaseUrl` gave halfway through the script, so both send the same bytes.
 */
export async function bareRouteLike(botBaseUrl: string, script: readonly ScriptStep[], dir: string): Promise<Deployment & { stop(): Promise<void> }> {
  const walked = await walkScript(botBaseUrl, script);
  const replyFile = path.join(dir, 'reply.json');
  writeFileSync(replyFile, walked[Math.floor(walked.length / 2)]!.responseBody);
  const bare = await startBenchServer('bare', replyFile);
  return { name: 'bare express', baseUrls: [bare.baseUrl], pids: [bare.pid], stop: () => bare.stop(), bot: false };
}

/** One way of serving the bot (or the bare route) that a benchmark puts load on. */
export interface Deployment {
  name: string;
  /** Where the load goes: one URL per instance. */
  baseUrls: string[];
  /** The processes that serve it, for where the CPU went. */
  pids: number[];
  /** The bot (answers are checked against the script); false for the bare route, which must come first. */
  bot: boolean;
}

interface Samples {
  perSecond: number[];
  p50: number[];
  p99: number[];
  ratio: number[];
  p99Ratio: number[];
  cpu: CpuBreakdown[];
}

/**
 * Runs every deployment at every level, `rounds` times, the bare route first in each level so every
 * ratio is against the bare route of the same round; prints each run as it ends, then the medians
 * and where the cores went.
 */
export async function measureDeployments({ deployments, levels, rounds, seconds, script }: { deployments: readonly Deployment[]; levels: readonly number[]; rounds: number; seconds: number; script: readonly ScriptStep[] }): Promise<void> {
  if (deployments[0]?.bot !== false) throw new Error('the bare route comes first: the ratios are against it');
  const results = new Map<string, Samples>();
  for (let round = 1; round <= rounds; round++) {
    for (const connections of levels) {
      let bareRun: { perSecond: number; p99: number } | undefined;
      for (const deployment of deployments) {
        const conversations: Conversation[] = deployment.bot
          ? await createConversations(deployment.baseUrls[0]!, connections * 2 + 4)
          : Array.from({ length: connections * 2 + 4 }, (_, index) => ({ id: `bare-${index}`, token: 'x'.repeat(40) }) as Conversation);
        const { result: run, cpu } = await measureCpuBreakdown(deployment.pids, () =>
          runScriptedLoadSpread({ baseUrls: deployment.baseUrls, connections, measureSeconds: seconds, maxRampSeconds: 45, script, conversations, checkStates: deployment.bot }),
        );
        if (run.offScript || run.errors || run.non2xx) console.log(`  ${deployment.name} at ${connections}: ${run.offScript} answers off the script, ${run.errors} errors, ${run.non2xx} non-2xx`);
        if (!deployment.bot) bareRun = { perSecond: run.perSecond, p99: run.latency.p99 };
        const key = `${connections}|${deployment.name}`;
        const entry = results.get(key) ?? { perSecond: [], p50: [], p99: [], ratio: [], p99Ratio: [], cpu: [] };
        entry.perSecond.push(run.perSecond);
        entry.p50.push(run.latency.p50);
        entry.p99.push(run.latency.p99);
        entry.ratio.push(run.perSecond / bareRun!.perSecond);
        entry.p99Ratio.push(run.latency.p99 / bareRun!.p99);
        entry.cpu.push(cpu);
        results.set(key, entry);
        console.log(`  round ${round}, ${connections} conversations, ${deployment.name}: ${run.perSecond.toFixed(0)}/s, p50 ${run.latency.p50.toFixed(1)} ms, p99 ${run.latency.p99.toFixed(1)} ms`);
      }
    }
  }
  const each = (print: (connections: number, deployment: Deployment, entry: Samples) => void) => {
    for (const connections of levels) for (const deployment of deployments) print(connections, deployment, results.get(`${connections}|${deployment.name}`)!);
  };
  console.log(`\nmedians of ${rounds} round(s), ${seconds} s windows; ratios against the bare route of the same round`);
  console.log('| conversations | deployment | msg/s | × bare | p50 ms | p99 ms | p99 × bare |');
  console.log('|---:|---|---:|---:|---:|---:|---:|');
  each((connections, deployment, entry) =>
    console.log(`| ${connections} | ${deployment.name} | ${median(entry.perSecond).toFixed(0)} | ${median(entry.ratio).toFixed(2)} | ${median(entry.p50).toFixed(1)} | ${median(entry.p99).toFixed(1)} | ${median(entry.p99Ratio).toFixed(2)} |`),
  );
  console.log(`\nwhere the ${os.cpus().length} cores went during each run, in % of one core (medians; 100 = one core busy throughout)`);
  console.log('| conversations | deployment | server processes | PostgreSQL | Redis | load generator | total |');
  console.log('|---:|---|---:|---:|---:|---:|---:|');
  each((connections, deployment, { cpu }) => {
    const part = (key: keyof CpuBreakdown) => median(cpu.map((sample) => sample[key]));
    const total = part('servers') + part('postgres') + part('redis') + part('loadGenerator');
    console.log(`| ${connections} | ${deployment.name} | ${part('servers').toFixed(0)} | ${part('postgres').toFixed(0)} | ${part('redis').toFixed(0)} | ${part('loadGenerator').toFixed(0)} | ${total.toFixed(0)} |`);
  });
}
