/**
 * The server in this process: content, database, http server, signals. main.ts runs it directly
 * (WORKERS=1) or in each cluster worker; the cluster's primary never loads it.
 */
import cluster from 'node:cluster';
import { defaultContentDir, isContentError, loadContent } from '../content/loadContent.js';
import { readCompiledContent } from '../content/compiledContent.js';
import { openServerStore, type ServerStore } from '../storage/openStore.js';
import type { ServerConfig } from './config.js';
import { SecretRedactor, redactionVersion } from '../nlu/index.js';
import { DamagedModelError } from '../nlu/savedNluModel.js';
import { createServer } from './createServer.js';
import type { Logger } from './logging.js';
import { workerCoordination } from './cluster/workerCoordination.js';
import { sharedThroughRedis, type RedisCoordination } from '../coordination/redisCoordination.js';
import { redactedUrl } from '../settings/connectionUrls.js';

export async function serve(config: ServerConfig, baseLog: Logger, cannotStart: (message: string) => never): Promise<void> {
  function loadChecked() {
    let content;
    try {
      // The compiled server reads what its build checked, while the content files are unchanged.
      const buildFingerprint = process.env.CHATBOT_BUILD_FINGERPRINT;
      const compiled = buildFingerprint ? readCompiledContent(config.contentDir ?? defaultContentDir, buildFingerprint) : undefined;
      content = compiled ?? loadContent(config.contentDir);
      return { content, contentFrom: compiled ? 'build' : 'files' };
    } catch (error) {
      if (!isContentError(error)) throw error;
      cannotStart(error.message);
    }
  }

  /** Rows an older version stored with weaker redaction are redacted again before the server starts. */
  function redactionFor(content: ReturnType<typeof loadContent>) {
    const redactor = new SecretRedactor(content.lexicon);
    return { version: redactionVersion, redact: (text: string) => redactor.redact(text).text };
  }

  const { content, contentFrom } = loadChecked();
  const workers = cluster.isWorker ? workerCoordination() : undefined;
  // Each worker's lines say which worker wrote them.
  const log = cluster.isWorker ? baseLog.child({ worker: cluster.worker!.id }) : baseLog;
  let store: ServerStore;
  try {
    store = await openServerStore(config.databaseUrl, { redaction: redactionFor(content), sharedWithOtherProcesses: cluster.isWorker, poolSize: config.databasePoolSize });
  } catch (error) {
    cannotStart(`DATABASE_URL ${redactedUrl(config.databaseUrl)}: ${(error as Error).message}`);
  }
  let redis: RedisCoordination | undefined;
  if (config.redisUrl) {
    try {
      redis = await sharedThroughRedis(config.redisUrl, log);
    } catch (error) {
      await store.close();
      cannotStart(`REDIS_URL ${redactedUrl(config.redisUrl)}: ${(error as Error).message}`);
    }
  }
  const coordination = redis ? redis.coordination(workers) : workers;
  let running: ReturnType<typeof createServer>;
  try {
    running = createServer({
      ...(coordination ? { coordination } : {}),
      content,
      store,
      log,
      rateLimits: config.rateLimits,
      socketTimeouts: config.socketTimeouts,
      trustProxy: config.trustProxy,
      allowedOrigins: config.allowedOrigins,
      adminToken: config.adminToken,
      metricsToken: config.metricsToken,
      handoffWebhookUrl: config.handoffWebhookUrl,
      handoffWebhookSecret: config.handoffWebhookSecret,
      serviceHours: config.serviceHours,
      retention: config.retention,
    });
  } catch (error) {
    if (!(error instanceof DamagedModelError)) throw error;
    cannotStart(error.message);
  }
  const port = config.port;
  running.server.once('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EADDRINUSE') cannotStart(`port ${port} is already in use (set PORT to another one)`);
    if (error.code === 'EACCES') cannotStart(`port ${port} needs privileges this process lacks (use a port above 1023)`);
    throw error;
  });
  running.server.listen(port, () => {
    workers?.listening();
    // Whether this start used what the build prepared (content, NLU models) or made its own: a start
    // that trains is about a second slower, and says so.
    const started = { content: contentFrom, nluModels: running.engine.parser.modelOrigin, startedInMs: Math.round(performance.now()) };
    log.info({ port, database: redactedUrl(config.databaseUrl), redis: config.redisUrl ? redactedUrl(config.redisUrl) : 'off', ...started }, `chatbot listening on http://localhost:${port}`);
    log.info(config.adminToken ? `dashboard at http://localhost:${port}/admin` : 'dashboard off (set ADMIN_TOKEN to turn it on)');
    // PostgreSQL invites a second instance; without Redis it would keep its own limits and sockets.
    if (store.kind === 'postgres' && !config.redisUrl) log.warn('DATABASE_URL is PostgreSQL but REDIS_URL is unset: rate limits and live delivery stay in this instance, so run one instance only, or set REDIS_URL');
  });

  let stopping = false;
  async function stop(signal: string): Promise<void> {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down: finishing in-flight requests');
    // Bounded: a stuck client must not keep the process alive forever.
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    await running.close();
    await redis?.close();
    await store.close();
    log.info('stopped cleanly');
    log.flush();
    process.exit(0);
  }
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  // A worker whose primary is gone (killed) has nobody to restart it or to hold the shared limits.
  if (cluster.isWorker) process.on('disconnect', () => void stop('primary gone'));
}
