/**
 * npm run bench:instances — several instances of the production server (`node dist/server/main.js`,
 * WORKERS=1 each) on one PostgreSQL database and one Redis, next to one instance on SQLite and a bare
 * express route, in one run on 127.0.0.1: 1, 2 and 3 instances at 16 and 64 conversations walking
 * the whole unbinding (bench/unbindingWithDigressions.yml). The load is spread as a balancer that
 * hands each new connection to the next instance would, with the conversations free to move between
 * instances (scriptedLoad.ts, runScriptedLoadSpread). Medians over BENCH_ROUNDS rounds (default 3),
 * windows of BENCH_SECONDS (default 8). PostgreSQL: BENCH_POSTGRES_URL (default the machine's, as
 * user postgres), a database of its own, dropped at the end; Redis: BENCH_REDIS_URL (default
 * redis://127.0.0.1:6379). Everything, the load generator and PostgreSQL included, shares this
 * machine's cores: the table says what that costs, not what separate machines would give.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { loadConversationScript } from './conversationScript.js';
import { bareRouteLike, measureDeployments, roundSettings, stopAfter, type Deployment } from './deploymentRounds.js';
import { buildProduction, startProduction, type ProductionServer } from './productionServer.js';

const { rounds } = roundSettings;
const adminUrl = process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const redisUrl = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
stopAfter('bench:instances', 3 + rounds * 6);

async function withAdmin<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** What this benchmark started, to stop at the end. */
type Started = Deployment & { stop(): Promise<void> };

async function main(): Promise<void> {
  console.log(`bench:instances — ${os.cpus().length} cores, Node ${process.version}, load average ${os.loadavg().map((value) => value.toFixed(2)).join(' ')}`);
  buildProduction();
  const script = loadConversationScript();
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'instances-bench-'));
  const databaseName = `chatbot_bench_${randomBytes(6).toString('hex')}`;
  await withAdmin((client) => client.query(`CREATE DATABASE ${databaseName}`));
  const databaseUrl = Object.assign(new URL(adminUrl), { pathname: `/${databaseName}` }).toString();
  const deployments: Started[] = [];
  const instancesOnPostgres: ProductionServer[] = [];
  try {
    const sqlite = await startProduction('SQLite', { WORKERS: '1', DATABASE_URL: `sqlite:${path.join(tmp, 'one.db')}` });
    deployments.push({ name: '1 instance, SQLite', baseUrls: [sqlite.baseUrl], pids: [sqlite.pid], stop: () => sqlite.stop(), bot: true });
    deployments.unshift(await bareRouteLike(sqlite.baseUrl, script, tmp));
    for (let index = 0; index < 3; index++) {
      instancesOnPostgres.push(await startProduction(`PostgreSQL instance ${index + 1}`, { WORKERS: '1', DATABASE_URL: databaseUrl, REDIS_URL: redisUrl }));
    }
    const postgresDeployments: Deployment[] = [];
    for (const count of [1, 2, 3]) {
      postgresDeployments.push({ name: `${count} instance${count > 1 ? 's' : ''}, PostgreSQL + Redis`, baseUrls: instancesOnPostgres.slice(0, count).map((server) => server.baseUrl), pids: instancesOnPostgres.slice(0, count).map((server) => server.pid), bot: true });
    }

    await measureDeployments({ deployments: [...deployments, ...postgresDeployments], ...roundSettings, script });
  } finally {
    for (const deployment of deployments) await deployment.stop().catch(() => undefined);
    for (const server of instancesOnPostgres) await server.stop().catch(() => undefined);
    await withAdmin((client) => client.query(`DROP DATABASE IF EXISTS ${databaseName} WITH (FORCE)`)).catch((error: unknown) => console.error(`could not drop ${databaseName}:`, error));
    rmSync(tmp, { recursive: true, force: true });
  }
}

main().then(() => process.exit(0), (error: unknown) => {
  console.error(error);
  process.exit(1);
});
