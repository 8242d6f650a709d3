import { createServer as createHttpServer, type Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import express from 'express';
import { createBotkitWebChannel } from '../channels/botkitWebChannel.js';
import type { Content } from '../content/loadContent.js';
import { DialogueEngine, type Logger } from '../dialogue/dialogueEngine.js';
import type { ServerStore } from '../storage/openStore.js';
import { corsForEmbedding, parseAllowedOrigins } from './corsForEmbedding.js';
import { errorHandler, sendError } from './httpErrors.js';
import { restApi } from './restApi.js';

const publicDir = fileURLToPath(new URL('../../public', import.meta.url));

export interface ServerOptions {
  content: Content;
  store: ServerStore;
  logger?: Logger & { error(message: string, details?: unknown): void };
  /** Origins whose pages may embed the widget (ALLOWED_ORIGINS); default every origin. */
  allowedOrigins?: readonly string[];
}

export interface RunningServer {
  server: Server;
  engine: DialogueEngine;
  /** Stops accepting, closes sockets, waits for in-flight requests; the store is the caller's to close. */
  close(): Promise<void>;
}

/** The whole product on one http server: demo page, widget, REST API, Botkit websocket, health. */
export function createServer({ content, store, logger = consoleLogger, allowedOrigins = parseAllowedOrigins(undefined) }: ServerOptions): RunningServer {
  const engine = new DialogueEngine({ content, store, logger });
  const uiTexts = Object.fromEntries([...content.responses].filter(([key]) => key.startsWith('ui.')).map(([key, response]) => [key, response.text]));

  const app = express();
  app.disable('x-powered-by');
  app.get('/healthz', (_req, res) => {
    if (store.healthy()) res.json({ status: 'ok' });
    else sendError(res, 503, 'database_unavailable', 'the database does not answer');
  });
  app.use('/api', corsForEmbedding(allowedOrigins), restApi({ engine, store, uiTexts }));
  app.use(express.static(publicDir, { index: 'index.html', maxAge: '5m' }));
  app.use((req, res) => sendError(res, 404, 'not_found', `no route ${req.method} ${req.path}`));
  app.use(errorHandler((message, error) => logger.error(message, error)));

  const server = createHttpServer(app);
  const channel = createBotkitWebChannel(server, engine, store, allowedOrigins);
  return {
    server,
    engine,
    async close() {
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
