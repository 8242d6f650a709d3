/**
 * npm start: the chatbot server. Every setting is read and checked by config.ts (the README lists
 * them); a bad one, a mistake in the content or a port already taken stops start-up with
 * `cannot start: …` and exit code 2.
 */
import cluster from 'node:cluster';
import { ConfigError, loadConfig } from './config.js';
import { isPostgresUrl } from '../settings/connectionUrls.js';
import { createLogger } from './logging.js';
import { runClusterPrimary } from './cluster/clusterPrimary.js';

function cannotStart(message: string): never {
  console.error(`cannot start: ${message}`);
  process.exit(2);
}

// Settings first: a bad one is reported at once, not after the content has loaded.
let config: ReturnType<typeof loadConfig>;
try {
  config = loadConfig();
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  cannotStart(error.message);
}
const baseLog = createLogger();
// WORKERS > 1: this process only starts and watches the workers, each of which runs what follows.
if (cluster.isPrimary && config.workers > 1) {
  const shared = (/^sqlite:/.test(config.databaseUrl) && config.databaseUrl !== 'sqlite::memory:') || isPostgresUrl(config.databaseUrl);
  if (!shared) cannotStart('WORKERS > 1 needs a database the workers share (DATABASE_URL=sqlite:<file> or postgres://…)');
  // The primary loads no content and opens no database: the first worker migrates it alone, and the
  // others start once it serves, so the first answer comes as soon as in one process.
  runClusterPrimary({ workers: config.workers, log: baseLog, cannotStart });
} else {
  // Loaded only here: the cluster's primary has no use for the server's modules.
  const { serve } = await import('./serve.js');
  await serve(config, baseLog, cannotStart);
}

