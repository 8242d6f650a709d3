import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { request } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

/** Settings a test must not inherit from the shell that runs the suite. */
const inheritedSettings = [
  'PORT',
  'DATABASE_URL',
  'REDIS_URL',
  'ADMIN_TOKEN',
  'METRICS_TOKEN',
  'HANDOFF_WEBHOOK_URL',
  'HANDOFF_WEBHOOK_SECRET',
  'ALLOWED_ORIGINS',
  'SERVICE_HOURS',
  'SERVICE_TIMEZONE',
  'TRUST_PROXY',
  'RETENTION_DAYS',
  'TOKEN_IDLE_DAYS',
];

export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** `npm start` as production runs it: its own process, its own event loop, a real signal to stop it. */
export interface ServerProcess {
  child: ChildProcess;
  port: number;
  baseUrl: string;
  wsUrl: string;
  /** Settles when the process has exited, however that happened. */
  exited: Promise<ProcessExit>;
  /** Everything the process wrote to stdout and stderr so far, for failure messages. */
  output(): string;
  /** Resolves once the output matches; rejects if the process exits first. */
  waitForOutput(pattern: RegExp): Promise<void>;
}

export interface ServerProcessOptions {
  port: number;
  databaseFile: string;
  env?: Record<string, string>;
  /** How long start-up (content load, NLU training, listen) may take on a slow CI machine. */
  startupTimeoutMs?: number;
  /** Runs this copy's production build (`node dist/server/main.js`, no tsx) instead of the sources. */
  compiledIn?: string;
}

const running = new Set<ServerProcess>();

/** A port nobody listens on right now (listen on 0 and let it go), bound the way main.ts binds. */
/** Load from one loopback address is the point of these tests, not abuse: limits off. */
export const noRateLimits = {
  RATE_LIMIT_IP_PER_MINUTE: '0',
  RATE_LIMIT_CONVERSATION_PER_MINUTE: '0',
  RATE_LIMIT_NEW_CONVERSATIONS_PER_IP_PER_MINUTE: '0',
  RATE_LIMIT_NEW_CONVERSATIONS_PER_MINUTE: '0',
  RATE_LIMIT_TICKETS_PER_IP_PER_HOUR: '0',
  RATE_LIMIT_TICKETS_PER_HOUR: '0',
};

export async function freePort(): Promise<number> {
  const probe = createServer();
  probe.listen(0);
  await once(probe, 'listening');
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

/**
 * Starts src/server/main.ts with `node --import tsx` (one process: the tsx CLI would put a parent
 * in front of the server, and a signal to it is not a signal to the server), waits for its
 * "listening" line and a healthy /healthz.
 */
export async function startServerProcess({ port, databaseFile, env = {}, startupTimeoutMs = 60_000, compiledIn }: ServerProcessOptions): Promise<ServerProcess> {
  const childEnv: NodeJS.ProcessEnv = { ...process.env };
  for (const name of inheritedSettings) delete childEnv[name];
  Object.assign(childEnv, { PORT: String(port), DATABASE_URL: `sqlite:${databaseFile}`, ...env });
  const [args, cwd] = compiledIn ? [['dist/server/main.js'], compiledIn] : [['--import', 'tsx', 'src/server/main.ts'], repoRoot];
  const child = spawn(process.execPath, args, { cwd, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const watchers = new Set<() => void>();
  const collect = (chunk: Buffer) => {
    output += chunk.toString();
    for (const check of watchers) check();
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  const exited = new Promise<ProcessExit>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const server: ServerProcess = {
    child,
    port,
    baseUrl: `http://127.0.0.1:${port}`,
    wsUrl: `ws://127.0.0.1:${port}/ws`,
    exited,
    output: () => output,
    waitForOutput(pattern) {
      return new Promise<void>((resolve, reject) => {
        const check = () => {
          if (!pattern.test(output)) return;
          watchers.delete(check);
          resolve();
        };
        watchers.add(check);
        check();
        void exited.then((exit) => {
          if (!watchers.has(check)) return;
          watchers.delete(check);
          reject(new Error(`server exited (${exit.code ?? exit.signal}) before printing ${pattern}; output:\n${output}`));
        });
      });
    },
  };
  running.add(server);
  void exited.then(() => running.delete(server));

  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`server not listening after ${startupTimeoutMs} ms; output:\n${output}`)), startupTimeoutMs);
  });
  try {
    await Promise.race([server.waitForOutput(/listening on http/), timeout]);
  } finally {
    clearTimeout(timer);
  }
  const health = await fetch(`${server.baseUrl}/healthz`);
  if (health.status !== 200) throw new Error(`/healthz answered ${health.status} after start-up; output:\n${output}`);
  return server;
}

/** For afterAll: kills whatever a test left running (a failed assertion must not leak a server). */
export async function stopServerProcesses(): Promise<void> {
  await Promise.all(
    [...running].map(async (server) => {
      server.child.kill('SIGKILL');
      await server.exited;
    }),
  );
}

/**
 * One request on a connection of its own (no keep-alive): the cluster may give it to either worker,
 * and a test spreading requests over instances decides alone where each one goes.
 */
export function callOnNewConnection(server: ServerProcess, method: string, pathname: string, { token, body }: { token?: string; body?: unknown } = {}): Promise<{ status: number; json: any }> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const outgoing = request(`${server.baseUrl}${pathname}`, {
      method,
      agent: false,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(payload ? { 'content-type': 'application/json' } : {}) },
    }, (response) => {
      let text = '';
      response.on('data', (chunk: Buffer) => (text += chunk.toString()));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, json: text ? JSON.parse(text) : undefined }));
    });
    outgoing.on('error', reject);
    outgoing.end(payload);
  });
}
