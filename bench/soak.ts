/**
 * npm run soak — thousands of conversations for a few minutes against the real server on
 * 127.0.0.1, checking that nothing is lost and nothing grows. Stops by itself.
 *
 * The server (createServer over a temporary SQLite file, rate limits off: one loopback address is
 * the whole load) runs in a child process. Visitors, side by side, each start a new conversation
 * again and again:
 *   - REST walkers: the whole unbinding with digressions (bench/unbindingWithDigressions.yml),
 *     every state checked;
 *   - websocket walkers: the same script over a new socket per conversation (hello, frames, close);
 *   - messy visitors: bench/soakMessages.yml (typos, traditional, emoji, secrets, handoff).
 * After each conversation the visitor reads its transcript back: every acknowledged message must be
 * there (lost = acknowledged but missing). Every SAMPLE_SECONDS the server reports its heap after a
 * full GC, RSS and open handles. SOAK_SECONDS (default 180) sets the length.
 * Exit code 1 when a 5xx, a lost message, an error or an open-handle leak was seen.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { parse } from 'yaml';
import { z } from 'zod';
import { createConversation, loadConversationScript, sendTurn, type Conversation, type ScriptStep } from './conversationScript.js';
import { killTrackedChildren, startBenchServer, type ServerUsage } from './serverProcess.js';

const settings = {
  seconds: Number(process.env.SOAK_SECONDS ?? 180),
  restWalkers: 12,
  websocketWalkers: 6,
  messyVisitors: 6,
  sampleSeconds: 10,
  /** Samples before this are the warm-up (JIT, caches, SQLite page cache) and not compared. */
  warmupSeconds: 30,
};
const watchdogMs = (settings.seconds + 120) * 1000;
const turnTimeoutMs = 10_000;

const outDir = fileURLToPath(new URL('./out', import.meta.url));
const messyMessages = z
  .object({ messages: z.array(z.string().min(1)).min(1) })
  .strict()
  .parse(parse(readFileSync(new URL('./soakMessages.yml', import.meta.url), 'utf8'))).messages;

interface Tally {
  conversations: number;
  turns: number;
  /** Answers other than 200/201 (status → count), network failures as "network". */
  failures: Record<string, number>;
  fiveHundreds: number;
  /** Acknowledged messages missing from the transcript read back. */
  lost: number;
  /** Turns that ended in another state than the script says. */
  offScript: number;
  /** Websocket error frames and timeouts. */
  socketErrors: number;
  firstProblem: string | undefined;
}

const tally: Tally = { conversations: 0, turns: 0, failures: {}, fiveHundreds: 0, lost: 0, offScript: 0, socketErrors: 0, firstProblem: undefined };
const problem = (what: string) => {
  tally.firstProblem ??= what;
};
const fail = (status: number | 'network', what: string) => {
  tally.failures[status] = (tally.failures[status] ?? 0) + 1;
  if (typeof status === 'number' && status >= 500) tally.fiveHundreds++;
  problem(what);
};

async function userLinesOf(baseUrl: string, conversation: Conversation): Promise<number | undefined> {
  const response = await fetch(`${baseUrl}/api/conversations/${conversation.id}`, {
    headers: { authorization: `Bearer ${conversation.token}` },
    signal: AbortSignal.timeout(turnTimeoutMs),
  });
  if (response.status !== 200) {
    fail(response.status, `GET transcript answered ${response.status}`);
    return undefined;
  }
  const { transcript } = (await response.json()) as { transcript: { role: string }[] };
  return transcript.filter((entry) => entry.role === 'user').length;
}

async function checkNothingLost(baseUrl: string, conversation: Conversation, acknowledged: number): Promise<void> {
  const kept = await userLinesOf(baseUrl, conversation);
  if (kept !== undefined && kept < acknowledged) {
    tally.lost += acknowledged - kept;
    problem(`conversation ${conversation.id}: ${acknowledged} acknowledged, ${kept} in the transcript`);
  }
}

async function restWalk(baseUrl: string, script: readonly ScriptStep[]): Promise<void> {
  const conversation = await createConversation(baseUrl);
  let acknowledged = 0;
  for (const step of script) {
    const answer = await sendTurn(baseUrl, conversation, step.body);
    tally.turns++;
    if (answer.status !== 200) return fail(answer.status, `REST turn answered ${answer.status}: ${answer.body.slice(0, 200)}`);
    acknowledged++;
    if ((JSON.parse(answer.body) as { state: string }).state !== step.state) {
      tally.offScript++;
      problem(`REST "${step.text}": expected ${step.state}`);
    }
  }
  await checkNothingLost(baseUrl, conversation, acknowledged);
  tally.conversations++;
}

async function messyVisit(baseUrl: string): Promise<void> {
  const conversation = await createConversation(baseUrl);
  let acknowledged = 0;
  for (const text of messyMessages) {
    const answer = await sendTurn(baseUrl, conversation, JSON.stringify({ text }));
    tally.turns++;
    if (answer.status !== 200) return fail(answer.status, `messy turn answered ${answer.status}: ${answer.body.slice(0, 200)}`);
    acknowledged++;
    if ((JSON.parse(answer.body) as { replies: unknown[] }).replies.length === 0) problem(`no reply to "${text}"`);
  }
  await checkNothingLost(baseUrl, conversation, acknowledged);
  tally.conversations++;
}

/** One conversation over its own socket: hello, each step as a frame, wait for its last reply frame. */
async function websocketWalk(baseUrl: string, wsUrl: string, script: readonly ScriptStep[]): Promise<void> {
  const conversation = await createConversation(baseUrl);
  const ws = new WebSocket(wsUrl);
  const frames: { type?: string; state?: string; code?: string }[] = [];
  let wake: (() => void) | undefined;
  ws.on('message', (data) => {
    frames.push(JSON.parse(data.toString()) as (typeof frames)[number]);
    wake?.();
  });
  const nextFrame = async (): Promise<(typeof frames)[number]> => {
    const deadline = Date.now() + turnTimeoutMs;
    while (frames.length === 0) {
      if (Date.now() > deadline || ws.readyState !== WebSocket.OPEN) throw new Error('no frame within the timeout or socket closed');
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, 200);
      });
    }
    return frames.shift()!;
  };
  let acknowledged = 0;
  try {
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    ws.send(JSON.stringify({ type: 'hello', conversation: conversation.id, token: conversation.token }));
    if ((await nextFrame()).type !== 'ready') throw new Error('no ready frame');
    for (const step of script) {
      ws.send(JSON.stringify({ type: 'message', text: step.text, ...(step.displayText ? { displayText: step.displayText } : {}) }));
      tally.turns++;
      // typing, then the replies; the turn is over when a reply carries the expected state.
      for (;;) {
        const frame = await nextFrame();
        if (frame.type === 'error') throw new Error(`error frame ${frame.code}`);
        if (frame.type === 'message' && frame.state !== undefined) {
          if (frame.state === step.state) break;
        }
      }
      acknowledged++;
    }
  } catch (error) {
    tally.socketErrors++;
    problem(`websocket: ${(error as Error).message}`);
  } finally {
    ws.close();
  }
  await checkNothingLost(baseUrl, conversation, acknowledged);
  tally.conversations++;
}

async function visitor(until: number, visit: () => Promise<void>): Promise<void> {
  while (Date.now() < until) {
    try {
      await visit();
    } catch (error) {
      fail('network', `visitor: ${(error as Error).message}`);
    }
  }
}

interface Sample extends ServerUsage {
  atSeconds: number;
  conversations: number;
  turns: number;
}

const handles = (usage: ServerUsage) => Object.values(usage.activeResources).reduce((sum, count) => sum + count, 0);
const fixed = (value: number, digits = 1) => value.toFixed(digits);

async function main(): Promise<number> {
  const watchdog = setTimeout(() => {
    console.error(`soak: still running after ${watchdogMs / 1000} s; killing the server and giving up`);
    killTrackedChildren();
    process.exit(1);
  }, watchdogMs);
  watchdog.unref();

  const dir = mkdtempSync(path.join(os.tmpdir(), 'soak-'));
  const server = await startBenchServer('bot', path.join(dir, 'soak.db'));
  try {
    const script = loadConversationScript();
    const before = await server.usage();
    console.log(`soak: ${settings.seconds} s, ${settings.restWalkers} REST + ${settings.websocketWalkers} websocket walkers + ${settings.messyVisitors} messy visitors on ${server.baseUrl}`);

    const started = Date.now();
    const until = started + settings.seconds * 1000;
    const samples: Sample[] = [];
    const sampling = (async () => {
      while (Date.now() < until) {
        await new Promise((resolve) => setTimeout(resolve, settings.sampleSeconds * 1000));
        const usage = await server.usage();
        const sample = { ...usage, atSeconds: Math.round((Date.now() - started) / 1000), conversations: tally.conversations, turns: tally.turns };
        samples.push(sample);
        console.log(
          `  ${String(sample.atSeconds).padStart(4)} s  ${String(sample.conversations).padStart(6)} conversations  ${String(sample.turns).padStart(7)} turns  heap after GC ${fixed(sample.heapAfterGcMb)} MB  RSS ${fixed(sample.rssMb)} MB  handles ${handles(sample)}`,
        );
      }
    })();
    await Promise.all([
      ...Array.from({ length: settings.restWalkers }, () => visitor(until, () => restWalk(server.baseUrl, script))),
      ...Array.from({ length: settings.websocketWalkers }, () => visitor(until, () => websocketWalk(server.baseUrl, server.wsUrl, script))),
      ...Array.from({ length: settings.messyVisitors }, () => visitor(until, () => messyVisit(server.baseUrl))),
      sampling,
    ]);
    const seconds = (Date.now() - started) / 1000;
    // Let closed sockets finish closing before counting what is still open.
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const after = await server.usage();

    const measured = samples.filter((sample) => sample.atSeconds >= settings.warmupSeconds);
    const first = measured[0] ?? samples[0]!;
    const last = measured.at(-1) ?? samples.at(-1)!;
    const minutes = (last.atSeconds - first.atSeconds) / 60;
    const heapGrowthMbPerMinute = minutes > 0 ? (last.heapAfterGcMb - first.heapAfterGcMb) / minutes : 0;
    const handleLeak = handles(after) - handles(before);
    const result = {
      seconds: Number(fixed(seconds)),
      conversations: tally.conversations,
      turns: tally.turns,
      turnsPerSecond: Number(fixed(tally.turns / seconds)),
      failures: tally.failures,
      fiveHundreds: tally.fiveHundreds,
      lostMessages: tally.lost,
      offScript: tally.offScript,
      socketErrors: tally.socketErrors,
      serverWarnings: after.warnings,
      serverErrors: after.errors,
      heapAfterGcMb: { before: Number(fixed(before.heapAfterGcMb)), afterWarmup: Number(fixed(first.heapAfterGcMb)), end: Number(fixed(last.heapAfterGcMb)), growthMbPerMinute: Number(fixed(heapGrowthMbPerMinute, 2)) },
      rssMb: { afterWarmup: Number(fixed(first.rssMb)), end: Number(fixed(last.rssMb)), peak: Number(fixed(Math.max(...samples.map((sample) => sample.rssMb)))) },
      openHandles: { before: before.activeResources, after: after.activeResources, leaked: handleLeak },
      firstProblem: tally.firstProblem ?? after.firstProblem ?? null,
      samples: samples.map(({ atSeconds, conversations, turns, heapAfterGcMb, rssMb, activeResources }) => ({
        atSeconds,
        conversations,
        turns,
        heapAfterGcMb: Number(fixed(heapAfterGcMb)),
        rssMb: Number(fixed(rssMb)),
        handles: Object.values(activeResources).reduce((sum, count) => sum + count, 0),
      })),
      machine: `${os.cpus().length} cores, Node ${process.version}`,
    };
    mkdirSync(outDir, { recursive: true });
    writeFileSync(path.join(outDir, 'soak.json'), `${JSON.stringify(result, null, 2)}\n`);

    console.log('');
    console.log('| measure | value |');
    console.log('|---|---|');
    console.log(`| duration | ${result.seconds} s |`);
    console.log(`| conversations completed | ${result.conversations} |`);
    console.log(`| turns | ${result.turns} (${result.turnsPerSecond}/s) |`);
    console.log(`| 5xx answers | ${result.fiveHundreds} |`);
    console.log(`| other failed requests | ${Object.entries(result.failures).filter(([status]) => !status.startsWith('5')).map(([status, count]) => `${status}: ${count}`).join(', ') || 0} |`);
    console.log(`| lost messages (acknowledged, not in transcript) | ${result.lostMessages} |`);
    console.log(`| turns off script / websocket errors | ${result.offScript} / ${result.socketErrors} |`);
    console.log(`| server warnings / errors logged | ${result.serverWarnings} / ${result.serverErrors} |`);
    console.log(`| heap after GC: start → after ${settings.warmupSeconds} s warm-up → end | ${result.heapAfterGcMb.before} → ${result.heapAfterGcMb.afterWarmup} → ${result.heapAfterGcMb.end} MB (${result.heapAfterGcMb.growthMbPerMinute} MB/min) |`);
    console.log(`| RSS after warm-up → end (peak) | ${result.rssMb.afterWarmup} → ${result.rssMb.end} MB (${result.rssMb.peak}) |`);
    console.log(`| open handles before → after | ${handles(before)} → ${handles(after)} (${JSON.stringify(after.activeResources)}) |`);
    if (result.firstProblem) console.log(`first problem: ${result.firstProblem}`);
    console.log(`written to bench/out/soak.json`);

    const failed = result.fiveHundreds > 0 || result.lostMessages > 0 || Object.keys(result.failures).length > 0 || result.socketErrors > 0 || result.offScript > 0 || handleLeak > 0;
    return failed ? 1 : 0;
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    killTrackedChildren();
    process.exit(1);
  },
);
