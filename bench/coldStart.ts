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
 * Cold start to first answer, as an operator runs it: `npx tsx src/server/main.ts` with PORT and a
 * new DATABASE_URL. npx, tsx and node are one process group of their own, so SIGTERM reaches the
 * server itself and nothing is left behind.
 */
export async function measureColdStart(databaseFile: string, firstStep: ScriptStep): Promise<ColdStartResult> {
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const command = 'npx tsx src/server/main.ts';
  const started = performance.now();
  const child = spawn('npx', ['tsx', 'src/server/main.ts'], {
    cwd: projectRoot,
    env: { ...process.env, PORT: String(port), DATABASE_URL: `sqlite:${databaseFile}`, ADMIN_TOKEN: '', HANDOFF_WEBHOOK_URL: '' },
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
      gracefulStop: output.includes('SIGTERM: finishing in-flight requests'),
      leftBehind,
    };
  } finally {
    if (groupAlive(pgid)) process.kill(-pgid, 'SIGKILL');
  }
}
