/**
 * Profiles the server's hot path:
 *
 *   npx tsx bench/profileServer.ts [--connections 16] [--seconds 10]
 *
 * Runs the real server (bench/benchServer.ts: createServer over a temporary SQLite file) under
 * `node --cpu-prof`, warms it up, puts the benchmark's scripted REST load on it (every connection
 * walking bench/unbindingWithDigressions.yml), stops it so that it writes its profile, copies the
 * profile to bench/out/server-hot-path.cpuprofile and summarises the samples taken under load.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createConversations, loadConversationScript, walkScript } from './conversationScript.js';
import { ms } from './latencyStats.js';
import { runScriptedLoad } from './scriptedLoad.js';
import { killTrackedChildren, startBenchServer } from './serverProcess.js';
import { findCpuProfile, formatSummary, summarizeCpuProfile, type CpuProfile } from './summarizeCpuProfile.js';

const argv = process.argv.slice(2);
const option = (name: string, fallback: number) => {
  const index = argv.indexOf(name);
  return index >= 0 ? Number(argv[index + 1]) : fallback;
};
const connections = option('--connections', 16);
const seconds = option('--seconds', 10);
const outFile = fileURLToPath(new URL('./out/server-hot-path.cpuprofile', import.meta.url));

async function main(): Promise<void> {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'bot-profile-'));
  const profileDir = path.join(tmp, 'prof');
  try {
    const script = loadConversationScript();
    const nodeArgs = ['--cpu-prof', `--cpu-prof-dir=${profileDir}`];
    const bot = await startBenchServer('bot', path.join(tmp, 'bot.db'), nodeArgs);
    console.log(`server: node ${nodeArgs.join(' ')} --expose-gc --import tsx bench/benchServer.ts bot <temp sqlite> (pid ${bot.pid})`);
    await walkScript(bot.baseUrl, script);
    // Warm-up, outside the window summarised below.
    await runScriptedLoad({ baseUrl: bot.baseUrl, connections, measureSeconds: 3, maxRampSeconds: 30, script, conversations: await createConversations(bot.baseUrl, connections * 2 + 4), checkStates: true });
    const conversations = await createConversations(bot.baseUrl, connections * 2 + 4);
    const from = (await bot.usage()).uptimeMs;
    const load = await runScriptedLoad({ baseUrl: bot.baseUrl, connections, measureSeconds: seconds, maxRampSeconds: 30, script, conversations, checkStates: true });
    const to = (await bot.usage()).uptimeMs;
    await bot.stop();
    console.log(
      `load: ${connections} conversations walking the script for ${seconds} s: ${load.perSecond.toFixed(0)} msg/s, p50 ${ms(load.latency.p50)} ms, p99 ${ms(load.latency.p99)} ms, errors ${load.errors}, off-script ${load.offScript}`,
    );

    const profile = findCpuProfile(profileDir);
    mkdirSync(path.dirname(outFile), { recursive: true });
    copyFileSync(profile, outFile);
    console.log(`profile: ${path.relative(process.cwd(), outFile)}; samples from ${(from / 1000).toFixed(1)} s to ${(to / 1000).toFixed(1)} s after the server started (the load)`);
    console.log(`re-run the summary: npx tsx bench/summarizeCpuProfile.ts ${path.relative(process.cwd(), outFile)} --from-ms ${from.toFixed(0)} --to-ms ${to.toFixed(0)}`);
    console.log('');
    console.log(formatSummary(summarizeCpuProfile(JSON.parse(readFileSync(outFile, 'utf8')) as CpuProfile, { top: 15, fromMs: from, toMs: to })));
  } finally {
    killTrackedChildren();
    rmSync(tmp, { recursive: true, force: true });
  }
}

const watchdog = setTimeout(() => {
  console.error('profileServer: still running after 3 minutes; giving up');
  killTrackedChildren();
  process.exit(1);
}, 180_000);
watchdog.unref();

main().catch((error: unknown) => {
  console.error(error);
  killTrackedChildren();
  process.exitCode = 1;
});
