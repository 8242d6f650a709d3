/**
 * npm run bench:server — how the real server holds up under many concurrent conversations.
 *
 * Everything runs on this machine over 127.0.0.1: the server (createServer over a temporary SQLite
 * file) in a child process, autocannon and the websocket clients in this one. In one run:
 *   1. REST load: 1, 16, 64 and 256 conversations at once, each walking the whole unbinding with
 *      digressions (bench/unbindingWithDigressions.yml), against the bot and against a bare
 *      express route answering a fixed JSON body of the same size, with the same settings;
 *   2. the websocket channel: 16 and 64 widget-like clients;
 *   3. cold start of the production build (`node dist/server/main.js`, one worker) to its first answer;
 *   4. 100,000 stored conversations: database size, memory, and whether a turn gets slower;
 * then writes bench/latency-vs-concurrency.svg and bench/out/server.json, and ends with
 *   5. the production build with WORKERS=1 and WORKERS=2 next to the bare route at 16 and 64
 *      conversations (bench/workersBenchmark.ts, also `npm run bench:workers` alone);
 *   6. 1, 2 and 3 instances on PostgreSQL and Redis next to one on SQLite and the bare route, at 16
 *      and 64 conversations (bench/instancesBenchmark.ts, also `npm run bench:instances` alone).
 * BENCH_QUICK=1 runs every part briefly (a smoke test of the benchmark itself). BENCH_ROUNDS=n repeats
 * the REST levels n times (default 3; bot and bare alternate within each) and reports each ratio's
 * median; BENCH_ONLY=rest stops after them (for comparing a change quickly), BENCH_SECONDS=s sets
 * each level's window.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { measureColdStart, type ColdStartResult } from './coldStart.js';
import { createConversation, createConversations, loadConversationScript, sendTurn, sequentialTurns, walkScript, type Conversation, type ScriptStep, type WalkedStep } from './conversationScript.js';
import { busyWithoutUs, cpuText, measureCpu, type CpuShare } from './cpuShare.js';
import { renderLatencyChart } from './latencyChart.js';
import { ms, summarize, type LatencySummary } from './latencyStats.js';
import { buildProduction } from './productionServer.js';
import { runScriptedLoad, type ScriptedLoadResult } from './scriptedLoad.js';
import { killTrackedChildren, projectRoot, startBenchServer, trackedChildCount, type BenchServer } from './serverProcess.js';
import { fileSizeMb, readConversationTemplate, seedStoredConversations } from './storedConversations.js';
import { runWebsocketLoad, type WebsocketLoadResult } from './websocketLoad.js';

const quick = process.env.BENCH_QUICK === '1';
const onlyRest = process.env.BENCH_ONLY === 'rest';
const settings = {
  restConcurrency: onlyRest ? [1, 16, 64] : [1, 16, 64, 256],
  /** The REST levels are run this many times: one round on a shared machine can be off by 20%. */
  restRounds: Math.max(1, Number(process.env.BENCH_ROUNDS ?? (quick ? 1 : 3))),
  restSeconds: Number(process.env.BENCH_SECONDS ?? (quick ? 2 : 10)),
  /** How long a level may take to get every connection served before its window starts anyway. */
  maxRampSeconds: quick ? 15 : 45,
  warmupSeconds: quick ? 1 : 3,
  websocketClients: [16, 64],
  websocketSeconds: quick ? 2 : 8,
  sequentialTurns: quick ? 100 : 500,
  storedConversations: quick ? 10_000 : 100_000,
  /** The stored copies are of a real conversation after this many messages of the script. */
  templateSteps: 3,
  scaleConnections: 16,
  /** The stored and the fresh database are measured in this many alternating rounds each. */
  scaleRounds: 2,
};
/** The whole run must end by itself: past this, kill the servers and exit with an error. */
// The workers part (step 5) adds about a minute and a half a round, and a build; the instances
// part (step 6) about two and a half minutes a round, and a build.
const watchdogMs = (9 + 3 * (settings.restRounds - 1) + 2 + 2 * settings.restRounds + 2 + 3 * settings.restRounds) * 60 * 1000;

const benchDir = fileURLToPath(new URL('.', import.meta.url));
const chartFile = path.join(benchDir, 'latency-vs-concurrency.svg');
const outDir = path.join(benchDir, 'out');
const jsonFile = path.join(outDir, 'server.json');

const runStarted = performance.now();
const elapsed = () => `${((performance.now() - runStarted) / 1000).toFixed(0)} s`;
const log = (line: string) => console.log(line);
const progress = (line: string) => console.log(`  [${elapsed()}] ${line}`);

/** Set once the temporary folder exists: the ways out below remove it too. */
let removeTemporaryFiles: (() => void) | undefined;
function abandon(exitCode: number): never {
  killTrackedChildren();
  removeTemporaryFiles?.();
  process.exit(exitCode);
}
const watchdog = setTimeout(() => {
  console.error(`bench:server: still running after ${watchdogMs / 60_000} minutes; stopping the servers and giving up`);
  abandon(1);
}, watchdogMs);
watchdog.unref();
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => abandon(130));

function machine() {
  const cpus = os.cpus();
  const autocannonVersion = (createRequire(import.meta.url)('autocannon/package.json') as { version: string }).version;
  return {
    cores: cpus.length,
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    memoryGb: Number((os.totalmem() / 1024 ** 3).toFixed(1)),
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    node: process.version,
    autocannon: autocannonVersion,
  };
}

/** A text table, numbers right-aligned. */
function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((header, column) => Math.max(header.length, ...rows.map((row) => row[column]!.length)));
  const line = (cells: string[]) => cells.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join('  ');
  return [line(headers), widths.map((width) => '-'.repeat(width)).join('  '), ...rows.map(line)].map((text) => `  ${text}`).join('\n');
}

const int = (value: number) => Math.round(value).toLocaleString('en-US');
const mb = (value: number) => value.toFixed(0);
const ratio = (value: number) => (value >= 10 ? value.toFixed(0) : value >= 1 ? value.toFixed(1) : value.toFixed(3));

const fakeConversations = (count: number): Conversation[] =>
  Array.from({ length: count }, () => ({ id: randomBytes(16).toString('base64url'), token: randomBytes(32).toString('base64url') }));

type MeasuredLoad = ScriptedLoadResult & { cpu: CpuShare; rssMb: number; heapAfterGcMb: number };

/**
 * One run of the script at `connections` conversations. The bot gets new conversations (two per
 * connection, so a round always finds a free one; creating them is not measured); the bare route
 * gets the same requests (same paths, tokens and bodies) for made-up conversations.
 */
async function scriptedRun(server: BenchServer, script: readonly ScriptStep[], connections: number, seconds: number, collect?: number[]): Promise<MeasuredLoad> {
  const count = connections * 2 + 4;
  const conversations = server.kind === 'bot' ? await createConversations(server.baseUrl, count) : fakeConversations(count);
  const { result, cpu, usage } = await measureCpu(server, () =>
    runScriptedLoad({
      baseUrl: server.baseUrl,
      connections,
      measureSeconds: seconds,
      maxRampSeconds: settings.maxRampSeconds,
      script,
      conversations,
      checkStates: server.kind === 'bot',
      ...(collect ? { collect } : {}),
    }),
  );
  return { ...result, cpu, rssMb: usage.rssMb, heapAfterGcMb: usage.heapAfterGcMb };
}

function startupText(server: BenchServer): string {
  const phases = server.startupPhases;
  if (!phases) return '';
  return `node + tsx ${phases.beforeImportsMs.toFixed(0)} ms, importing the modules ${phases.importsMs.toFixed(0)} ms, content files ${phases.contentMs.toFixed(0)} ms, createServer (NLU training) ${phases.createServerMs.toFixed(0)} ms`;
}

/** The reply of the step whose size is closest to the mean, for the bare route to return. */
function representativeReply(walked: readonly WalkedStep[]): { body: string; meanBytes: number } {
  const meanBytes = walked.reduce((total, step) => total + step.responseBytes, 0) / walked.length;
  const closest = [...walked].sort((a, b) => Math.abs(a.responseBytes - meanBytes) - Math.abs(b.responseBytes - meanBytes))[0]!;
  return { body: closest.responseBody, meanBytes };
}

interface RestLevel {
  connections: number;
  bot: MeasuredLoad;
  bare: MeasuredLoad;
  throughputRatio: number;
  p50Ratio: number;
  p99Ratio: number;
  round: number;
}

/** One database's side of the interleaved comparison. */
interface ScaleSide {
  rssAtStartMb: number;
  rssAfterLoadMb: number;
  heapAfterGcMb: number;
  startupMs: number;
  sequential: LatencySummary & { failures: number };
  /** The autocannon rounds pooled: 2xx per second over all windows, latency over all samples. */
  load: { perSecond: number; latency: LatencySummary; errors: number; non2xx: number; offScript: number; rounds: MeasuredLoad[] };
}

interface ScaleReport {
  storedConversations: number;
  transcriptRows: number;
  turnRows: number;
  snapshotBytes: number;
  seedSeconds: number;
  databaseMb: number;
  databaseMbAfterLoad: number;
  fresh: ScaleSide;
  stored: ScaleSide;
  resumeStored: LatencySummary & { failures: number };
}

const median = (values: readonly number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

/**
 * The goal's numbers: bot msg/s over bare req/s and bot p99 over bare p99, each round measured
 * back to back on the same machine, and the median of the rounds.
 */
function printRestRatios(runs: readonly RestLevel[]): void {
  const levels = [...new Set(runs.map((run) => run.connections))];
  const rounds = Math.max(...runs.map((run) => run.round));
  log(`REST ratios, bot / bare, ${rounds} round(s) (bot and bare alternate within a round); goal: msg/s ≥ 0.5 at 16, p99 ≤ 2× at 64`);
  log(
    table(
      ['conversations', 'msg/s ratio per round', 'median', 'p99 ratio per round', 'median', 'bot msg/s median', 'bare req/s median'],
      levels.map((connections) => {
        const of = runs.filter((run) => run.connections === connections);
        return [
          String(connections),
          of.map((run) => ratio(run.throughputRatio)).join(' / '),
          ratio(median(of.map((run) => run.throughputRatio))),
          of.map((run) => `${ratio(run.p99Ratio)}×`).join(' / '),
          `${ratio(median(of.map((run) => run.p99Ratio)))}×`,
          int(median(of.map((run) => run.bot.perSecond))),
          int(median(of.map((run) => run.bare.perSecond))),
        ];
      }),
    ),
  );
}

async function main(): Promise<void> {
  const box = machine();
  log('bench:server — the chatbot server under load (everything on 127.0.0.1)');
  log(`machine: ${box.cores} cores, ${box.cpuModel}, ${box.memoryGb} GB RAM, ${box.platform}, Node ${box.node}, autocannon ${box.autocannon}`);
  if (quick) log('BENCH_QUICK=1: short runs, not for comparing numbers');

  const othersBefore = await busyWithoutUs();
  log(
    `other processes on the machine used ${othersBefore.toFixed(0)}% of one core in the 2 s before the run (load average ${os
      .loadavg()
      .map((value) => value.toFixed(2))
      .join(' ')})${othersBefore > 15 ? ' — NOT idle: the numbers below are pessimistic' : ''}`,
  );

  const script = loadConversationScript();
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'bot-bench-'));
  removeTemporaryFiles = () => rmSync(tmp, { recursive: true, force: true });
  const servers: BenchServer[] = [];
  try {
    // ---- servers, script check, warm-up -------------------------------------------------------
    const bot = await startBenchServer('bot', path.join(tmp, 'bot.db'));
    servers.push(bot);
    const walked = await walkScript(bot.baseUrl, script);
    const reply = representativeReply(walked);
    const replyFile = path.join(tmp, 'bare-reply.json');
    writeFileSync(replyFile, reply.body);
    const bare = await startBenchServer('bare', replyFile);
    servers.push(bare);
    const botStartMemory = await bot.usage();
    log(`script: ${script.length} messages per round (bench/unbindingWithDigressions.yml): the whole unbinding with an FAQ digression at step 2,`);
    log(`        step help at step 4 and SMS verification; walked twice over REST before measuring, every state as expected`);
    log(`        ${walked.reduce((total, step) => total + step.replies, 0)} replies per round, answer bodies ${Math.min(...walked.map((step) => step.responseBytes))}–${Math.max(...walked.map((step) => step.responseBytes))} B (mean ${reply.meanBytes.toFixed(0)} B); the bare route answers a fixed ${Buffer.byteLength(reply.body)} B body`);
    log(`servers: bot pid ${bot.pid}, RSS ${mb(botStartMemory.rssMb)} MB; bare express pid ${bare.pid}, RSS ${mb((await bare.usage()).rssMb)} MB`);
    log(`        bot listening ${bot.startupMs.toFixed(0)} ms after its process started: ${startupText(bot)}`);
    log('');
    progress(`warm-up: ${settings.warmupSeconds} s at 16 connections on each server (not counted)`);
    await scriptedRun(bot, script, 16, settings.warmupSeconds);
    await scriptedRun(bare, script, 16, settings.warmupSeconds);

    const baseline = await sequentialTurns(bot.baseUrl, script, settings.sequentialTurns);
    const baselineSequential = { ...summarize(baseline.samples), failures: baseline.failures };
    progress(`${settings.sequentialTurns} sequential REST turns (empty database): p50 ${ms(baselineSequential.p50)} ms, p99 ${ms(baselineSequential.p99)} ms`);

    // ---- REST levels ----------------------------------------------------------------------------
    const restLevels: RestLevel[] = [];
    const allRestRuns: RestLevel[] = [];
    for (let round = 1; round <= settings.restRounds; round++) {
      for (const connections of settings.restConcurrency) {
        const botResult = await scriptedRun(bot, script, connections, settings.restSeconds);
        progress(`round ${round} bot  ${String(connections).padStart(3)} conversations: ramp ${botResult.rampSeconds?.toFixed(1) ?? '-'} s, ${int(botResult.perSecond)} msg/s, p50 ${ms(botResult.latency.p50)} ms, p99 ${ms(botResult.latency.p99)} ms, RSS ${mb(botResult.rssMb)} MB, heap ${mb(botResult.heapAfterGcMb)} MB, CPU server/client/other ${cpuText(botResult.cpu)}%`);
        const bareResult = await scriptedRun(bare, script, connections, settings.restSeconds);
        progress(`round ${round} bare ${String(connections).padStart(3)} connections:   ${int(bareResult.perSecond)} req/s, p50 ${ms(bareResult.latency.p50)} ms, p99 ${ms(bareResult.latency.p99)} ms`);
        const level = {
          connections,
          bot: botResult,
          bare: bareResult,
          throughputRatio: botResult.perSecond / bareResult.perSecond,
          p50Ratio: botResult.latency.p50 / bareResult.latency.p50,
          p99Ratio: botResult.latency.p99 / bareResult.latency.p99,
          round,
        };
        allRestRuns.push(level);
        // The tables below show the last round; the ratios table shows every round and the medians.
        if (round === settings.restRounds) restLevels.push(level);
      }
    }
    if (onlyRest) {
      await bot.stop();
      await bare.stop();
      log('');
      printRestRatios(allRestRuns);
      return;
    }

    // ---- websocket ------------------------------------------------------------------------------
    const websocketLevels: (WebsocketLoadResult & { rssMb: number; heapAfterGcMb: number; cpu: CpuShare })[] = [];
    for (const clients of settings.websocketClients) {
      const { result, cpu, usage } = await measureCpu(bot, () =>
        runWebsocketLoad({ baseUrl: bot.baseUrl, wsUrl: bot.wsUrl, clients, durationSeconds: settings.websocketSeconds, script: walked }),
      );
      websocketLevels.push({ ...result, rssMb: usage.rssMb, heapAfterGcMb: usage.heapAfterGcMb, cpu });
      progress(`websocket ${clients} clients: ${int(result.turnsPerSecond)} turns/s, p50 ${ms(result.turnLatency.p50)} ms, p99 ${ms(result.turnLatency.p99)} ms`);
    }

    // A real conversation, a few messages in, as the model for the stored ones.
    const model = await createConversation(bot.baseUrl);
    for (const step of script.slice(0, settings.templateSteps)) await sendTurn(bot.baseUrl, model, step.body);
    const botFinalMemory = await bot.usage();
    await bot.stop();
    await bare.stop();
    // Read once the server has closed the file: it holds it with an exclusive lock while it runs.
    const template = readConversationTemplate(path.join(tmp, 'bot.db'), model.id);
    const botDatabaseMb = fileSizeMb(path.join(tmp, 'bot.db'));

    // ---- cold start -----------------------------------------------------------------------------
    // What a deployment starts: the build, run by plain node (built first, so it is this code's).
    buildProduction({ quiet: true });
    const coldStart: ColdStartResult = await measureColdStart(path.join(tmp, 'cold', 'chatbot.db'), script[0]!, { launch: { executable: process.execPath, args: ['dist/server/main.js'] } });
    progress(`cold start: first answer ${coldStart.toFirstAnswerMs.toFixed(0)} ms after spawn`);

    // ---- 100,000 stored conversations -----------------------------------------------------------
    const storedFile = path.join(tmp, 'stored.db');
    const seeded = seedStoredConversations(storedFile, template, settings.storedConversations, settings.sequentialTurns);
    progress(`seeded ${int(seeded.conversations)} conversations in ${seeded.seconds.toFixed(1)} s (${mb(seeded.fileMb)} MB)`);
    // Served side by side with a fresh empty database and measured in turns (A/B/A/B), so that a
    // drift in the machine's speed (a shared VM) hits both alike.
    const fresh = await startBenchServer('bot', path.join(tmp, 'fresh.db'));
    servers.push(fresh);
    const stored = await startBenchServer('bot', storedFile);
    servers.push(stored);
    const sides = [
      { name: 'fresh' as const, server: fresh, start: await fresh.usage(), sequential: [] as number[], sequentialFailures: 0, samples: [] as number[], rounds: [] as MeasuredLoad[] },
      { name: 'stored' as const, server: stored, start: await stored.usage(), sequential: [] as number[], sequentialFailures: 0, samples: [] as number[], rounds: [] as MeasuredLoad[] },
    ];
    // The same warm-up as the first server had, so all compare warm.
    for (const side of sides) await scriptedRun(side.server, script, 16, settings.warmupSeconds);
    for (let round = 0; round < settings.scaleRounds; round++) {
      for (const side of sides) {
        const turns = await sequentialTurns(side.server.baseUrl, script, settings.sequentialTurns / settings.scaleRounds);
        side.sequential.push(...turns.samples);
        side.sequentialFailures += turns.failures;
      }
    }
    const resumeStep = script[settings.templateSteps]!;
    const resumeSamples: number[] = [];
    let resumeFailures = 0;
    for (const conversation of seeded.sample) {
      const answer = await sendTurn(stored.baseUrl, conversation, resumeStep.body);
      if (answer.status !== 200 || (JSON.parse(answer.body) as { state?: string }).state !== resumeStep.state) resumeFailures++;
      resumeSamples.push(answer.ms);
    }
    for (let round = 0; round < settings.scaleRounds; round++) {
      for (const side of sides) side.rounds.push(await scriptedRun(side.server, script, settings.scaleConnections, settings.restSeconds / settings.scaleRounds, side.samples));
    }
    await fresh.stop();
    await stored.stop();
    const summarizeSide = (side: (typeof sides)[number]): ScaleSide => {
      const last = side.rounds.at(-1)!;
      const sum = (pick: (run: MeasuredLoad) => number) => side.rounds.reduce((total, run) => total + pick(run), 0);
      return {
        rssAtStartMb: side.start.rssMb,
        rssAfterLoadMb: last.rssMb,
        heapAfterGcMb: last.heapAfterGcMb,
        startupMs: side.server.startupMs,
        sequential: { ...summarize(side.sequential), failures: side.sequentialFailures },
        load: {
          perSecond: sum((run) => run.ok) / sum((run) => run.windowSeconds),
          latency: summarize(side.samples),
          errors: sum((run) => run.errors),
          non2xx: sum((run) => run.non2xx),
          offScript: sum((run) => run.offScript),
          rounds: side.rounds,
        },
      };
    };
    const scale: ScaleReport = {
      storedConversations: seeded.conversations,
      transcriptRows: seeded.transcriptRows,
      turnRows: seeded.turnRows,
      snapshotBytes: template.snapshotBytes,
      seedSeconds: seeded.seconds,
      databaseMb: seeded.fileMb,
      databaseMbAfterLoad: fileSizeMb(storedFile),
      fresh: summarizeSide(sides[0]!),
      stored: summarizeSide(sides[1]!),
      resumeStored: { ...summarize(resumeSamples), failures: resumeFailures },
    };
    progress(
      `${int(seeded.conversations)} stored vs empty, ${settings.scaleConnections} connections: ${int(scale.stored.load.perSecond)} vs ${int(scale.fresh.load.perSecond)} msg/s, p50 ${ms(scale.stored.load.latency.p50)} vs ${ms(scale.fresh.load.latency.p50)} ms`,
    );

    // ---- report ---------------------------------------------------------------------------------
    log('');
    log(`REST: one autocannon connection per conversation; bot = POST /api/conversations/{id}/messages walking the script. Each level`);
    log(`measures ${settings.restSeconds} s once every connection has had its first answer; "ramp s" is how long that took (a saturated Node`);
    log('server accepts one new connection per event-loop turn). Latency in ms, of 2xx answers in the window; off-script = 2xx answers');
    log('whose state is not the one the script expects; CPU s/c/o = % of one core used by the server / the load generator (autocannon,');
    log('this process) / everything else on the machine, during the run.');
    const rampText = (result: ScriptedLoadResult) => (result.rampSeconds === null ? `>${settings.maxRampSeconds} (${result.servedAtWindowStart} served)` : result.rampSeconds.toFixed(1));
    // The columns both REST tables share: ramp, rate, and latency percentiles.
    const loadCells = (run: ScriptedLoadResult) => [rampText(run), int(run.perSecond), ms(run.latency.p50), ms(run.latency.p90), ms(run.latency.p99)];
    log(
      table(
        ['conversations', 'ramp s', 'msg/s', 'p50', 'p90', 'p99', 'errors', 'non-2xx', 'off-script', 'RSS MB', 'heap MB', 'CPU s/c/o %'],
        restLevels.map(({ connections, bot: run }) => [
          String(connections),
          ...loadCells(run),
          String(run.errors),
          String(run.non2xx),
          String(run.offScript),
          mb(run.rssMb),
          mb(run.heapAfterGcMb),
          cpuText(run.cpu),
        ]),
      ),
    );
    log('');
    log('bare express, the same requests (paths, tokens, bodies) and settings; ratios are bot / bare:');
    log(
      table(
        ['connections', 'ramp s', 'req/s', 'p50', 'p90', 'p99', 'errors+non-2xx', 'RSS MB', 'CPU s/c/o %', 'msg/s ratio', 'p50 ratio'],
        restLevels.map(({ connections, bare: run, throughputRatio, p50Ratio }) => [
          String(connections),
          ...loadCells(run),
          String(run.errors + run.non2xx),
          mb(run.rssMb),
          cpuText(run.cpu),
          ratio(throughputRatio),
          `${ratio(p50Ratio)}×`,
        ]),
      ),
    );
    log('');
    printRestRatios(allRestRuns);
    log(`  heap MB = heap in use after a full GC. Bot at start: RSS ${mb(botStartMemory.rssMb)} MB, heap ${mb(botStartMemory.heapAfterGcMb)} MB; server warnings ${botFinalMemory.warnings}, errors ${botFinalMemory.errors}${botFinalMemory.firstProblem ? ` (first: ${botFinalMemory.firstProblem})` : ''}; database after all levels ${mb(botDatabaseMb)} MB`);
    log('');
    log(`websocket (/ws, Botkit channel): each client says hello, then sends the script's messages one at a time, the next once the turn's last reply frame is in; ${settings.websocketSeconds} s per level`);
    log(
      table(
        ['clients', 'turns/s', 'frames/s', 'turn p50', 'p90', 'p99', 'typing p50', 'errors', 'off-script', 'RSS MB', 'heap MB', 'CPU s/c/o %'],
        websocketLevels.map((level) => [
          String(level.clients),
          int(level.turnsPerSecond),
          int(level.framesPerSecond),
          ms(level.turnLatency.p50),
          ms(level.turnLatency.p90),
          ms(level.turnLatency.p99),
          ms(level.typingLatency.p50),
          String(level.errors),
          String(level.offScript),
          mb(level.rssMb),
          mb(level.heapAfterGcMb),
          cpuText(level.cpu),
        ]),
      ),
    );
    log('');
    log(`cold start: \`${coldStart.command}\` with PORT and a new DATABASE_URL`);
    log(
      `  spawn → "listening" logged ${coldStart.toListeningLogMs.toFixed(0)} ms; → first conversation ${coldStart.toFirstConversationMs.toFixed(0)} ms; → first answer ${coldStart.toFirstAnswerMs.toFixed(0)} ms`,
    );
    log(`  (the sources under tsx in the benchmark's own server process: ${startupText(bot)})`);
    log(
      `  SIGTERM to the process group → nothing running after ${coldStart.stopMs.toFixed(0)} ms (the process ${coldStart.exitSignal ? `ended by ${coldStart.exitSignal}` : `exit code ${coldStart.exitCode}`}; the server ${coldStart.gracefulStop ? 'logged its graceful stop' : 'did NOT log a graceful stop'}; processes left: ${coldStart.leftBehind})`,
    );
    log('');
    log(
      `${int(scale.storedConversations)} stored conversations: each a copy of a real one after ${settings.templateSteps} messages (snapshot ${scale.snapshotBytes} B, ${scale.transcriptRows / scale.storedConversations} transcript rows, ${scale.turnRows / scale.storedConversations} turns rows),`,
    );
    log(`  inserted in ${scale.seedSeconds.toFixed(1)} s; database ${mb(scale.databaseMb)} MB (${mb(scale.databaseMbAfterLoad)} MB after the load below); server ready in ${scale.stored.startupMs.toFixed(0)} ms.`);
    log(`  Served side by side with a fresh empty database and measured in turns (${settings.scaleRounds} rounds each, alternating), next to step 3's numbers:`);
    const emptyLevel = restLevels.find((level) => level.connections === settings.scaleConnections)!;
    const perRound = (side: ScaleSide) => side.load.rounds.map((run) => int(run.perSecond)).join(' / ');
    const loadErrors = (load: { errors: number; non2xx: number; offScript: number }) => `${load.errors} / ${load.non2xx} / ${load.offScript}`;
    const roundSeconds = settings.restSeconds / settings.scaleRounds;
    log(
      table(
        ['', 'step 3 (empty)', 'fresh empty', `${int(scale.storedConversations)} stored`],
        [
          ['server RSS at start, MB', mb(botStartMemory.rssMb), mb(scale.fresh.rssAtStartMb), mb(scale.stored.rssAtStartMb)],
          ['server RSS after load, MB', mb(emptyLevel.bot.rssMb), mb(scale.fresh.rssAfterLoadMb), mb(scale.stored.rssAfterLoadMb)],
          ['server heap after GC, after load, MB', mb(emptyLevel.bot.heapAfterGcMb), mb(scale.fresh.heapAfterGcMb), mb(scale.stored.heapAfterGcMb)],
          [`${settings.sequentialTurns} sequential turns, new conversations: p50 ms`, ms(baselineSequential.p50), ms(scale.fresh.sequential.p50), ms(scale.stored.sequential.p50)],
          ['                                        p99 ms', ms(baselineSequential.p99), ms(scale.fresh.sequential.p99), ms(scale.stored.sequential.p99)],
          [`one turn on each of ${seeded.sample.length} stored conversations: p50 ms`, '-', '-', ms(scale.resumeStored.p50)],
          ['                                        p99 ms', '-', '-', ms(scale.resumeStored.p99)],
          [`autocannon ${settings.scaleConnections} conversations: msg/s`, int(emptyLevel.bot.perSecond), int(scale.fresh.load.perSecond), int(scale.stored.load.perSecond)],
          [`                  (per ${roundSeconds} s round)`, `(one ${settings.restSeconds} s run)`, perRound(scale.fresh), perRound(scale.stored)],
          ['                                        p50 ms', ms(emptyLevel.bot.latency.p50), ms(scale.fresh.load.latency.p50), ms(scale.stored.load.latency.p50)],
          ['                                        p99 ms', ms(emptyLevel.bot.latency.p99), ms(scale.fresh.load.latency.p99), ms(scale.stored.load.latency.p99)],
          ['errors / non-2xx / off-script', loadErrors(emptyLevel.bot), loadErrors(scale.fresh.load), loadErrors(scale.stored.load)],
          ['sequential / stored-turn failures', String(baselineSequential.failures), String(scale.fresh.sequential.failures), `${scale.stored.sequential.failures} / ${scale.resumeStored.failures}`],
        ],
      ),
    );
    log('  RSS is read under load, before a GC: it follows V8 growing its heap between collections and moves by up to ~100 MB from');
    log('  run to run; the heap after a full GC is what the server keeps.');

    // ---- files ----------------------------------------------------------------------------------
    const subtitle = `${box.cores} cores ${box.cpuModel}, Node ${box.node}; ${settings.restSeconds} s per point after the ramp; script of ${script.length} messages`;
    writeFileSync(
      chartFile,
      renderLatencyChart(
        restLevels.map((level) => ({
          concurrency: level.connections,
          bot: { p50: level.bot.latency.p50, p99: level.bot.latency.p99 },
          bare: { p50: level.bare.latency.p50, p99: level.bare.latency.p99 },
        })),
        subtitle,
      ),
    );
    mkdirSync(outDir, { recursive: true });
    writeFileSync(
      jsonFile,
      `${JSON.stringify(
        {
          at: new Date().toISOString(),
          machine: { ...box, otherProcessesCpuPercentBeforeRun: othersBefore },
          settings: { ...settings, quick },
          script: walked.map(({ text, displayText, state, replies, responseBytes }) => ({ text, displayText, state, replies, responseBytes })),
          servers: { botStartupMs: bot.startupMs, botStartupPhases: bot.startupPhases, botStartMemory, botFinalMemory, botDatabaseMb, bareReplyBytes: Buffer.byteLength(reply.body) },
          sequentialEmptyDatabase: baselineSequential,
          rest: restLevels,
          restRounds: allRestRuns,
          websocket: websocketLevels,
          coldStart,
          scale,
          totalSeconds: (performance.now() - runStarted) / 1000,
        },
        null,
        2,
      )}\n`,
    );
    log('');
    log(`wrote ${path.relative(process.cwd(), chartFile)} and ${path.relative(process.cwd(), jsonFile)}; ${elapsed()} so far`);

    // ---- both cores, and several instances -----------------------------------------------------
    // The production build against the bare route, each benchmark in rounds of its own.
    for (const [file, title] of [
      ['bench/workersBenchmark.ts', 'WORKERS=1 and WORKERS=2 (the production build) next to the bare route:'],
      ['bench/instancesBenchmark.ts', '1, 2 and 3 instances on PostgreSQL and Redis (the production build) next to SQLite and the bare route:'],
    ] as const) {
      log('');
      log(title);
      const part = spawnSync(process.execPath, ['--import', 'tsx', file], {
        cwd: projectRoot,
        stdio: 'inherit',
        env: { ...process.env, BENCH_ROUNDS: String(settings.restRounds), BENCH_SECONDS: String(quick ? 2 : 8) },
      });
      if (part.status !== 0) throw new Error(`${file} failed (exit ${part.status})`);
    }
    log(`total ${elapsed()}`);
  } finally {
    for (const server of servers) await server.stop().catch(() => undefined);
    const killed = killTrackedChildren();
    if (killed) console.error(`bench:server: ${killed} process(es) had to be killed`);
    removeTemporaryFiles();
  }
}

main().then(
  () => {
    if (trackedChildCount() > 0) process.exitCode = 1;
  },
  (error: unknown) => {
    console.error(error);
    killTrackedChildren();
    process.exitCode = 1;
  },
);
