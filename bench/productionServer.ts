import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { projectRoot } from './serverProcess.js';
import { noRateLimits } from '../test/support/serverProcess.js';

/** Every production server a benchmark started; killed (with their workers) on any way out. */
const children = new Set<ChildProcess>();
export const killProductionServers = () => {
  for (const child of children) if (child.pid) try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ }
};
process.on('exit', killProductionServers);

export async function freePort(): Promise<number> {
  const probe = createServer().listen(0, '127.0.0.1');
  await new Promise((resolve) => probe.once('listening', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

/** `npm run build`, so that what the benchmark starts is the current sources' build; `quiet` hides its output. */
export function buildProduction({ quiet = false } = {}): void {
  const built = spawnSync(process.execPath, ['scripts/build.mjs'], { cwd: projectRoot, stdio: quiet ? 'ignore' : 'inherit' });
  if (built.status !== 0) throw new Error('npm run build failed');
}

export interface ProductionServer {
  baseUrl: string;
  /** The server's process (its cluster's primary when WORKERS > 1). */
  pid: number;
  stop(): Promise<void>;
}

/**
 * `node dist/server/main.js` (run `scripts/build.mjs` first) in its own process group, so its
 * workers die with it; rate limits off, since load from one address is the point. `env` says which
 * database (DATABASE_URL), Redis and WORKERS.
 */
export async function startProduction(label: string, env: Record<string, string>): Promise<ProductionServer> {
  const port = await freePort();
  const child = spawn(process.execPath, ['dist/server/main.js'], {
    cwd: projectRoot,
    detached: true,
    stdio: 'ignore',
    env: { ...process.env, ...noRateLimits, PORT: String(port), LOG_LEVEL: 'info', ...env },
  });
  children.add(child);
  const baseUrl = `http://127.0.0.1:${port}`;
  for (const end = Date.now() + 60_000; ; ) {
    if (Date.now() > end) throw new Error(`${label}: not healthy within 60 s`);
    const healthy = await fetch(`${baseUrl}/healthz`).then((response) => response.ok, () => false);
    if (healthy) break;
    if (child.exitCode !== null) throw new Error(`${label}: exited with ${child.exitCode} before it was healthy`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  // Every worker has loaded its content and model before the load starts.
  await new Promise((resolve) => setTimeout(resolve, 3_000));
  return {
    baseUrl,
    pid: child.pid!,
    async stop() {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      process.kill(-child.pid!, 'SIGTERM');
      await exited;
      children.delete(child);
    },
  };
}

export const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};
