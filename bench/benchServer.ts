/**
 * A server process for the benchmark, started by `serverProcess.ts` with an IPC channel:
 *
 *   node --import tsx bench/benchServer.ts bot  <sqlite file>      the real server (createServer + openStore)
 *   node --import tsx bench/benchServer.ts bare <reply JSON file>  a bare express route with a fixed reply
 *
 * Both listen on 127.0.0.1 on a free port and report it; the parent asks for memory and CPU use
 * and stops us over IPC. A parent that goes away (crash, Ctrl+C) disconnects the channel and we
 * stop too, so no server outlives its benchmark.
 */
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';

export type ToServer = { type: 'usage' } | { type: 'stop' };
export type FromServer =
  | { type: 'listening'; port: number; startupMs: number; phases: StartupPhases | undefined }
  | {
      type: 'usage';
      rssBytes: number;
      heapUsedBytes: number;
      /** Heap in use right after a full GC (the child runs with --expose-gc): what the server really keeps. */
      heapAfterGcBytes: number;
      /** process.cpuUsage(), user + system, µs since start. */
      cpuMicros: number;
      /** performance.now(): ms since the process started (to line up with a --cpu-prof profile). */
      uptimeMs: number;
      warnings: number;
      errors: number;
      firstProblem: string | undefined;
      /** process.getActiveResourcesInfo(): sockets, timers, files the process holds open, by kind. */
      activeResources: Record<string, number>;
    };

/** Where the bot's start-up goes, in ms: importing its modules, loading the content files, createServer (NLU training). */
export interface StartupPhases {
  beforeImportsMs: number;
  importsMs: number;
  contentMs: number;
  createServerMs: number;
}

const [mode, file] = process.argv.slice(2);
if (!process.send || (mode !== 'bot' && mode !== 'bare') || !file) {
  console.error('usage (from serverProcess.ts, with an IPC channel): benchServer.ts bot <sqlite file> | bare <reply JSON file>');
  process.exit(2);
}
const send = (message: FromServer) => process.send?.(message);

let warnings = 0;
let errors = 0;
let firstProblem: string | undefined;
const note = (kind: 'warn' | 'error', message: string) => {
  if (kind === 'warn') warnings++;
  else errors++;
  firstProblem ??= `${kind}: ${message}`;
};

let running: { server: Server; close(): Promise<void> } | undefined;
let phases: StartupPhases | undefined;
let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  // Bounded: a stuck socket must not keep the process alive.
  setTimeout(() => process.exit(1), 5_000).unref();
  if (running) {
    running.server.closeAllConnections();
    await running.close();
  }
  // process.exit (not a natural end) so that `node --cpu-prof` writes its profile on the way out.
  process.exit(0);
}

// Registered before anything slow: a parent gone during start-up must not leave us running.
process.on('message', (message: ToServer) => {
  if (message.type === 'usage') {
    const memory = process.memoryUsage();
    (globalThis as { gc?: () => void }).gc?.();
    const heapAfterGcBytes = process.memoryUsage().heapUsed;
    // Read after the GC, so a report's own GC is not counted in the next run's CPU.
    const cpu = process.cpuUsage();
    send({ type: 'usage', rssBytes: memory.rss, heapUsedBytes: memory.heapUsed, heapAfterGcBytes, cpuMicros: cpu.user + cpu.system, uptimeMs: performance.now(), warnings, errors, firstProblem, activeResources: countByKind(process.getActiveResourcesInfo()) });
  } else if (message.type === 'stop') void stop();
});
process.on('disconnect', () => void stop());

function countByKind(kinds: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const kind of kinds) counts[kind] = (counts[kind] ?? 0) + 1;
  return counts;
}
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());

async function startBot(databaseFile: string): Promise<{ server: Server; close(): Promise<void> }> {
  // Imported here, not at the top: the bare route's process must not carry the bot's modules and data.
  const importing = performance.now();
  const [{ loadContent }, { createServer }, { openStore }, { createLogger }, { noRateLimits }] = await Promise.all([
    import('../src/content/loadContent.js'),
    import('../src/server/createServer.js'),
    import('../src/storage/openStore.js'),
    import('../src/server/logging.js'),
    import('../src/limits/rateLimiter.js'),
  ]);
  const loading = performance.now();
  const content = loadContent();
  const creating = performance.now();
  const store = openStore(`sqlite:${databaseFile}`);
  const bot = createServer({
    content,
    store,
    // Load from one loopback address is what the limits exist to stop; here it is the point.
    rateLimits: noRateLimits,
    log: createLogger(
      {
        write: (line: string) => {
          const { level, msg } = JSON.parse(line) as { level: number; msg: string };
          note(level >= 50 ? 'error' : 'warn', msg);
        },
      },
      'warn',
    ),
  });
  phases = { beforeImportsMs: importing, importsMs: loading - importing, contentMs: creating - loading, createServerMs: performance.now() - creating };
  return {
    server: bot.server,
    async close() {
      await bot.close();
      store.close();
    },
  };
}

/** The same path and the same JSON body parsing as the bot's message route, then a fixed answer. */
function startBare(replyFile: string): { server: Server; close(): Promise<void> } {
  const reply = readFileSync(replyFile, 'utf8');
  const app = express();
  app.disable('x-powered-by');
  app.post('/api/conversations/:id/messages', express.json({ limit: '16kb' }), (_req, res) => {
    res.type('application/json').send(reply);
  });
  const server = createHttpServer(app);
  return { server, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

running = mode === 'bot' ? await startBot(file) : startBare(file);
const { server } = running;
server.listen(0, '127.0.0.1', () => {
  // performance.now() counts from process start: module loading, content and NLU training included.
  send({ type: 'listening', port: (server.address() as AddressInfo).port, startupMs: performance.now(), phases });
});
