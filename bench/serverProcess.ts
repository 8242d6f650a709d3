import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { FromServer, StartupPhases, ToServer } from './benchServer.js';

export const projectRoot = fileURLToPath(new URL('..', import.meta.url));
const benchServerEntry = fileURLToPath(new URL('./benchServer.ts', import.meta.url));

/** Every process this benchmark started and has not seen exit; killed on any way out. */
const liveChildren = new Map<number, { child: ChildProcess; group: boolean }>();

export function trackChild(child: ChildProcess, { group = false } = {}): void {
  const pid = child.pid;
  if (pid === undefined) return;
  liveChildren.set(pid, { child, group });
  child.once('exit', () => liveChildren.delete(pid));
}

/** Last resort (an error or a watchdog): SIGKILL, by id, what we started and is still running. */
export function killTrackedChildren(): number {
  let killed = 0;
  for (const [pid, { group }] of liveChildren) {
    try {
      process.kill(group ? -pid : pid, 'SIGKILL');
      killed++;
    } catch {
      // already gone
    }
  }
  liveChildren.clear();
  return killed;
}

export function trackedChildCount(): number {
  return liveChildren.size;
}

export interface ServerUsage {
  rssMb: number;
  heapUsedMb: number;
  /** Heap in use after a full GC. */
  heapAfterGcMb: number;
  /** CPU time (user + system) the server process has used since it started. */
  cpuSeconds: number;
  /** Milliseconds since the server process started. */
  uptimeMs: number;
  warnings: number;
  errors: number;
  firstProblem: string | undefined;
  /** Open handles (sockets, timers, files) by kind. */
  activeResources: Record<string, number>;
}

export interface BenchServer {
  kind: 'bot' | 'bare';
  pid: number;
  baseUrl: string;
  wsUrl: string;
  /** From process start to listening, as the server measured it (module loading, content and NLU training included). */
  startupMs: number;
  /** The bot's start-up in parts (undefined for the bare route). */
  startupPhases: StartupPhases | undefined;
  usage(): Promise<ServerUsage>;
  /** Asks the process to close its server and exit; SIGKILL if it has not within 10 s. */
  stop(): Promise<void>;
}

const mb = (bytes: number) => bytes / 1024 / 1024;

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Starts `benchServer.ts` as a child process (the real server over a SQLite file, or a bare express
 * route answering `replyFile`'s JSON), so the load generator never shares the server's event loop.
 */
export async function startBenchServer(kind: 'bot' | 'bare', file: string, nodeArgs: readonly string[] = []): Promise<BenchServer> {
  // --expose-gc: a usage report measures the heap after a full GC, i.e. what the server retains.
  const child = spawn(process.execPath, [...nodeArgs, '--expose-gc', '--import', 'tsx', benchServerEntry, kind, file], {
    cwd: projectRoot,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  trackChild(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const listening = await withTimeout(
    new Promise<Extract<FromServer, { type: 'listening' }>>((resolve, reject) => {
      child.on('message', (message: FromServer) => {
        if (message.type === 'listening') resolve(message);
      });
      child.once('exit', (code, signal) => reject(new Error(`bench ${kind} server exited before listening (code ${code}, signal ${signal})`)));
    }),
    60_000,
    `starting the ${kind} server`,
  ).catch((error: unknown) => {
    child.kill('SIGKILL');
    throw error;
  });

  const send = (message: ToServer) => {
    if (child.connected) child.send(message);
  };
  return {
    kind,
    pid: child.pid!,
    baseUrl: `http://127.0.0.1:${listening.port}`,
    wsUrl: `ws://127.0.0.1:${listening.port}/ws`,
    startupMs: listening.startupMs,
    startupPhases: listening.phases,
    usage() {
      const answer = new Promise<ServerUsage>((resolve) => {
        const onMessage = (message: FromServer) => {
          if (message.type !== 'usage') return;
          child.off('message', onMessage);
          resolve({
            rssMb: mb(message.rssBytes),
            heapUsedMb: mb(message.heapUsedBytes),
            heapAfterGcMb: mb(message.heapAfterGcBytes),
            cpuSeconds: message.cpuMicros / 1e6,
            uptimeMs: message.uptimeMs,
            warnings: message.warnings,
            errors: message.errors,
            firstProblem: message.firstProblem,
            activeResources: message.activeResources,
          });
        };
        child.on('message', onMessage);
      });
      send({ type: 'usage' });
      return withTimeout(answer, 5_000, `usage of the ${kind} server`);
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      send({ type: 'stop' });
      await withTimeout(exited, 10_000, `stopping the ${kind} server`).catch(async () => {
        child.kill('SIGKILL');
        await withTimeout(exited, 5_000, `killing the ${kind} server`);
      });
    },
  };
}
