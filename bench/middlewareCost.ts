/**
 * What each middleware in front of the turn route costs, as a ratio against a bare express JSON
 * route measured in the same run (issue 16):
 *
 *   npm run bench:middleware [-- --seconds 5 --rounds 3 --connections 16]
 *
 * Each variant is the real stack (request log, helmet, closing listener, CORS, per-address rate
 * limit, Cache-Control, JSON body parser) with a trivial handler, or that stack minus one
 * middleware. Servers run in a child process on 127.0.0.1 so autocannon does not share their
 * event loop; the child stops when the parent goes away.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { createServer as createHttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import express, { type RequestHandler } from 'express';
import helmet from 'helmet';
import { corsForEmbedding } from '../src/server/corsForEmbedding.js';
import { createLogger, requestLogging } from '../src/server/logging.js';
import { RateLimiter, spendOrThrow } from '../src/limits/rateLimiter.js';

const middlewares = ['log', 'helmet', 'closing', 'cors', 'rateLimit', 'cacheControl', 'json'] as const;
type Middleware = (typeof middlewares)[number];
const variants = ['bare', 'stack', ...middlewares.map((name) => `without ${name}`)];

function stackWithout(skip: Middleware | undefined): RequestHandler[] {
  // Logs go to a sink that drops them: the cost measured is building the line, not the terminal.
  const sink = new Writable({ write: (_chunk, _encoding, done) => done() });
  const limiter = new RateLimiter({ perMinute: 1e9, burst: 1e9 });
  const all: Record<Middleware, RequestHandler> = {
    log: requestLogging(createLogger(sink)),
    helmet: helmet({ crossOriginResourcePolicy: { policy: 'cross-origin' } }),
    closing: (_req, res, next) => {
      res.on('finish', () => undefined);
      next();
    },
    cors: corsForEmbedding([]),
    rateLimit: (req, _res, next) => {
      spendOrThrow(limiter, req.ip ?? 'unknown', 'address');
      next();
    },
    cacheControl: (_req, res, next) => {
      res.set('Cache-Control', 'no-store');
      next();
    },
    json: express.json({ limit: '4kb' }),
  };
  return middlewares.filter((name) => name !== skip).map((name) => all[name]);
}

function serve(variant: string): void {
  const app = express();
  app.disable('x-powered-by');
  const route = '/api/conversations/:id/messages';
  const reply: RequestHandler = (_req, res) => {
    res.json({ replies: [{ text: 'ok' }] });
  };
  if (variant === 'bare') app.post(route, express.json({ limit: '4kb' }), reply);
  else app.post(route, ...stackWithout(variants.indexOf(variant) > 1 ? (variant.slice('without '.length) as Middleware) : undefined), reply);
  const server = createHttpServer(app).listen(0, '127.0.0.1', () => process.send?.({ port: (server.address() as AddressInfo).port }));
  process.on('disconnect', () => process.exit(0));
}

interface Measured {
  rps: number;
  p50: number;
  p99: number;
}

async function measure(variant: string, seconds: number, connections: number): Promise<Measured> {
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), ['serve', variant], { execArgv: ['--import', 'tsx'] });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      child.once('message', (message: { port: number }) => resolve(message.port));
      child.once('exit', (code) => reject(new Error(`server for ${variant} exited with ${code}`)));
    });
    // One discarded second first, so the JIT has compiled the route before anything is counted.
    await load(port, 1, connections);
    const result = await load(port, seconds, connections);
    return { rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99 };
  } finally {
    child.kill();
  }
}

function load(port: number, seconds: number, connections: number): Promise<autocannon.Result> {
  return new Promise<autocannon.Result>((resolve, reject) =>
    autocannon({
      url: `http://127.0.0.1:${port}`,
      connections,
      duration: seconds,
      requests: [{ method: 'POST', path: '/api/conversations/c1/messages', headers: { 'content-type': 'application/json', origin: 'https://shop.example' }, body: '{"text":"hello"}' }],
    }, (error, done) => (error ? reject(error) : resolve(done))),
  );
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function main(): Promise<void> {
  const option = (name: string, fallback: number) => {
    const at = process.argv.indexOf(`--${name}`);
    return at > 0 ? Number(process.argv[at + 1]) : fallback;
  };
  const seconds = option('seconds', 5);
  const rounds = option('rounds', 3);
  const connections = option('connections', 16);
  const runs = new Map<string, Measured[]>(variants.map((variant) => [variant, []]));
  for (let round = 0; round < rounds; round++) {
    // Bare is measured inside every round so each ratio compares runs under the same load.
    for (const variant of variants) runs.get(variant)!.push(await measure(variant, seconds, connections));
  }
  const bare = runs.get('bare')!;
  console.log(`${rounds} rounds × ${seconds}s, ${connections} connections; medians of per-round ratios to bare`);
  console.log('variant'.padEnd(22), 'req/s'.padStart(8), 'bare/variant'.padStart(13), 'p50 ms'.padStart(7), 'p99 ms'.padStart(7), 'p99/bare'.padStart(9));
  for (const [variant, measured] of runs) {
    const slowdown = median(measured.map((run, round) => bare[round]!.rps / run.rps));
    const p99Ratio = median(measured.map((run, round) => run.p99 / Math.max(1, bare[round]!.p99)));
    console.log(
      variant.padEnd(22),
      median(measured.map((run) => run.rps)).toFixed(0).padStart(8),
      `${slowdown.toFixed(2)}×`.padStart(13),
      String(median(measured.map((run) => run.p50))).padStart(7),
      String(median(measured.map((run) => run.p99))).padStart(7),
      `${p99Ratio.toFixed(2)}×`.padStart(9),
    );
  }
}

if (process.argv[2] === 'serve') serve(process.argv[3] ?? 'bare');
else await main();
