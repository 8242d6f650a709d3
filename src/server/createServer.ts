import { createServer as createHttpServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import express from 'express';
import { createBotkitWebChannel } from '../channels/botkitWebChannel.js';
import type { Content } from '../content/loadContent.js';
import { DialogueEngine, type Logger } from '../dialogue/dialogueEngine.js';
import type { ServerStore } from '../storage/openStore.js';
import { TextNormalizer } from '../nlu/index.js';
import { HandoffWebhook } from '../support/handoffWebhook.js';
import { adminApi } from './adminApi.js';
import { corsForEmbedding, parseAllowedOrigins } from './corsForEmbedding.js';
import { BotMetrics } from './metrics.js';
import { errorHandler, sendError } from './httpErrors.js';
import { restApi } from './restApi.js';

const publicDir = fileURLToPath(new URL('../../public', import.meta.url));
/** Chart.js is served from the installed package: the dashboard loads nothing from a CDN. */
const chartJs = path.join(path.dirname(createRequire(import.meta.url).resolve('chart.js')), 'chart.umd.js');

export interface ServerOptions {
  content: Content;
  store: ServerStore;
  logger?: Logger & { error(message: string, details?: unknown): void };
  /** Origins whose pages may embed the widget (ALLOWED_ORIGINS); default every origin. */
  allowedOrigins?: readonly string[];
  /** ADMIN_TOKEN: without it the dashboard and admin API are off (404), not open. */
  adminToken?: string | undefined;
  /** HANDOFF_WEBHOOK_URL: each ticket is POSTed there, retried until delivered. */
  handoffWebhookUrl?: string | undefined;
  webhookOptions?: { pollMs?: number; baseDelayMs?: number; maxDelayMs?: number };
}

export interface RunningServer {
  server: Server;
  engine: DialogueEngine;
  /** Stops accepting, closes sockets, waits for in-flight requests; the store is the caller's to close. */
  close(): Promise<void>;
}

/** The whole product on one http server: demo page, widget, REST API, Botkit websocket, health. */
export function createServer({
  content,
  store,
  logger = consoleLogger,
  allowedOrigins = parseAllowedOrigins(undefined),
  adminToken,
  handoffWebhookUrl,
  webhookOptions = {},
}: ServerOptions): RunningServer {
  const metrics = new BotMetrics();
  const webhook = handoffWebhookUrl
    ? new HandoffWebhook({ url: handoffWebhookUrl, store, ...webhookOptions, log: (message, details) => logger.warn(message, details) })
    : undefined;
  const engine = new DialogueEngine({
    content,
    store,
    logger,
    onTurn: (result, seconds) => {
      metrics.recordTurn(result, seconds);
      if (result.handoff) webhook?.kick();
    },
  });
  const uiTexts = Object.fromEntries([...content.responses].filter(([key]) => key.startsWith('ui.')).map(([key, response]) => [key, response.text]));

  const app = express();
  app.disable('x-powered-by');
  app.get('/healthz', (_req, res) => {
    if (store.healthy()) res.json({ status: 'ok' });
    else sendError(res, 503, 'database_unavailable', 'the database does not answer');
  });
  app.get('/metrics', async (_req, res) => {
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });
  if (adminToken) {
    app.use('/api/admin', express.json({ limit: '4kb' }), adminApi({ adminToken, store, normalizer: new TextNormalizer(content.lexicon) }));
    app.get('/admin/vendor/chart.umd.js', (_req, res) => res.sendFile(chartJs));
  } else {
    app.use(['/admin', '/api/admin'], (_req, res) => sendError(res, 404, 'admin_disabled', 'the dashboard is off: set ADMIN_TOKEN to turn it on'));
  }
  app.use('/api', corsForEmbedding(allowedOrigins), restApi({ engine, store, uiTexts }));
  app.use(express.static(publicDir, { index: 'index.html', maxAge: '5m' }));
  app.use((req, res) => sendError(res, 404, 'not_found', `no route ${req.method} ${req.path}`));
  app.use(errorHandler((message, error) => logger.error(message, error)));

  const server = createHttpServer(app);
  const channel = createBotkitWebChannel(server, engine, store, allowedOrigins);
  webhook?.start();
  return {
    server,
    engine,
    async close() {
      await webhook?.stop();
      await channel.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
    },
  };
}

const consoleLogger = {
  warn: (message: string, details?: Record<string, unknown>) => console.warn(message, details ?? ''),
  error: (message: string, details?: unknown) => console.error(message, details ?? ''),
};

export { publicDir };
