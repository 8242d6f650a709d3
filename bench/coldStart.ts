import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { createConversation, sendTurn, type ScriptStep } from './conversationScript.js';
import { projectRoot, trackChild } from './serverProcess.js';

export interface ColdStartResult {
  command: string;
  /** From spawn to the server's "listening" log line. */
  toListeningLogMs: number;
  /** From spawn to the first conversation created (POST /api/conversations answered 201). */
  toFirstConversationMs: number;
  /** From spawn to the first message answered (200 with the expected state). */
  toFirstAnswerMs: number;
  /** From SIGTERM to no process of the group running (zombies waiting for init to reap them do not count). */
  stopMs: number;
  exitCode: number | null;
  exitSignal: string | null;
  /** The server logged its SIGTERM handler (it finished in-flight requests and closed the database). */
  gracefulStop: boolean;
  /** Processes of the group still alive after the stop (0 expected; they are SIGKILLed). */
  leftBehind: number;
  /** The server's resident set and V8 heap in use, read from /metrics once it has sat idle after the first answer. */
  idleMemory?: { rssMb: number; heapUsedMb: number };
}

/** How the server is started: the operator's command line, run from the project root. */
export interface Launch {
  executable: string;
  args: string[];
  /** Settings of this way of starting (WORKERS); the rest is the benchmark's. */
  env?: Record<string, string>;
}

/** What the README told operators to run before the production build. */
export const tsxLaunch: Launch = { executable: 'npx', args: ['tsx', 'src/server/main.ts'] };

export interface ColdStartOptions {
  launch?: Launch;
  /** When set, wait this long after the first answer and read the idle server's memory from /metrics. */
  idleMemoryAfterMs?: number;
}

/** A port nobody listens on right now, on loopback. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Whether a process of the group still runs. On Linux, /proc tells a running process from a zombie
 * (exited, waiting for init to reap it, as tsx's CLI is once its parent shell is gone).
 */
function groupAlive(pgid: number): boolean {
  if (existsSync('/proc/self/stat')) {
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      let stat: string;
      try {
        stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      } catch {
        continue; // gone meanwhile
      }
      // "pid (comm) state ppid pgrp …": comm may hold spaces, so split after its closing parenthesis.
      const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(pgrp) === pgid && state !== 'Z') return true;
    }
    return false;
  }
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Cold start to first answer, as an operator runs it (`launch`, by default `npx tsx
 * src/server/main.ts`) with PORT and a new DATABASE_URL. The command and its children are one
 * process group of their own, so SIGTERM reaches the server itself and nothing is left behind.
 */
export async function measureColdStart(databaseFile: string, firstStep: ScriptStep, { launch = tsxLaunch, idleMemoryAfterMs }: ColdStartOptions = {}): Promise<ColdStartResult> {
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const command = [launch.executable, ...launch.args].join(' ');
  const started = performance.now();
  const child = spawn(launch.executable, launch.args, {
    cwd: projectRoot,
    env: { ...process.env, WORKERS: '1', ...launch.env, PORT: String(port), DATABASE_URL: `sqlite:${databaseFile}`, ADMIN_TOKEN: '', HANDOFF_WEBHOOK_URL: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  trackChild(child, { group: true });
  const pgid = child.pid!;
  let output = '';
  let toListeningLogMs = Number.NaN;
  const collect = (chunk: Buffer) => {
    output += chunk.toString();
    if (Number.isNaN(toListeningLogMs) && output.includes('listening')) toListeningLogMs = performance.now() - started;
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));

  try {
    let toFirstConversationMs = Number.NaN;
    let toFirstAnswerMs = Number.NaN;
    const deadline = started + 60_000;
    while (performance.now() < deadline && child.exitCode === null) {
      try {
        const conversation = await createConversation(baseUrl);
        toFirstConversationMs = performance.now() - started;
        const answer = await sendTurn(baseUrl, conversation, firstStep.body);
        if (answer.status !== 200 || (JSON.parse(answer.body) as { state?: string }).state !== firstStep.state) {
          throw new Error(`cold start: first message answered ${answer.status}: ${answer.body}`);
        }
        toFirstAnswerMs = performance.now() - started;
        break;
      } catch (error) {
        if ((error as Error).message.startsWith('cold start')) throw error;
        await sleep(10); // not listening yet
      }
    }
    if (Number.isNaN(toFirstAnswerMs)) throw new Error(`cold start: no answer within 60 s; output:\n${output}`);
    const idleMemory = idleMemoryAfterMs === undefined ? undefined : (await sleep(idleMemoryAfterMs), await readMemory(baseUrl));

    const stopping = performance.now();
    process.kill(-pgid, 'SIGTERM');
    const exit = await Promise.race([exited, sleep(15_000).then(() => undefined)]);
    for (let waited = 0; waited < 5_000 && groupAlive(pgid); waited += 20) await sleep(20);
    const stopMs = performance.now() - stopping;
    const leftBehind = groupAlive(pgid) ? 1 : 0;
    if (leftBehind) process.kill(-pgid, 'SIGKILL');
    return {
      command,
      toListeningLogMs,
      toFirstConversationMs,
      toFirstAnswerMs,
      stopMs,
      exitCode: exit?.code ?? null,
      exitSignal: exit?.signal ?? null,
      gracefulStop: output.includes('shutting down: finishing in-flight requests'),
      leftBehind,
      ...(idleMemory ? { idleMemory } : {}),
    };
  } finally {
    if (groupAlive(pgid)) process.kill(-pgid, 'SIGKILL');
  }
}

/** The server's own numbers from its Prometheus metrics (prom-client's default process and heap gauges). */
async function readMemory(baseUrl: string): Promise<{ rssMb: number; heapUsedMb: number }> {
  const text = await (await fetch(`${baseUrl}/metrics`)).text();
  const gauge = (name: string) => {
    const line = text.split('\n').find((candidate) => candidate.startsWith(`${name} `));
    if (!line) throw new Error(`cold start: /metrics has no ${name}`);
    return Number(line.split(' ')[1]) / 1024 / 1024;
  };
  return { rssMb: gauge('process_resident_memory_bytes'), heapUsedMb: gauge('nodejs_heap_size_used_bytes') };
}
