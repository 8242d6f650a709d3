import { createServer as createHttpServer, type IncomingMessage, type Server } from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import express from 'express';
import helmet from 'helmet';
import { lazyBotkitWebChannel } from '../channels/lazyWebChannel.js';
import { socketTimeoutsFromEnv, type SocketTimeouts } from '../channels/socketLifetime.js';
import type { Content } from '../content/loadContent.js';
import { DialogueEngine } from '../dialogue/dialogueEngine.js';
import type { ServerStore } from '../storage/openStore.js';
import { TextNormalizer } from '../nlu/index.js';
import { HandoffWebhook } from '../support/handoffWebhook.js';
import { LiveHub } from '../support/liveHub.js';
import { parseServiceHours, type ServiceHours } from '../support/serviceHours.js';
import { SupportDesk } from '../support/supportDesk.js';
import { adminApi } from './adminApi.js';
import { agentApi } from './agentApi.js';
import { bearerToken, matchesSecret } from './bearerToken.js';
import { corsForEmbedding, parseAllowedOrigins } from './corsForEmbedding.js';
import type { RetentionSettings } from './config.js';
import { BotMetrics } from './metrics.js';
import { dayMs, startRetentionSweep } from './retentionSweep.js';
import { errorHandler, sendError } from './httpErrors.js';
import { createLogger, requestLogging, type Logger } from './logging.js';
import { limitNamed, RateLimiter, rateLimitSettingsFromEnv, spendOrThrow, type Limiter, type LimitName, type RateLimit, type RateLimitSettings } from '../limits/rateLimiter.js';
import type { AccessPolicy } from '../storage/identityStore.js';
import { restApi } from './restApi.js';
import { serveAsset } from './compiledAssets.js';
import { servedWidgetAssets, uiTextsOf } from './widgetAssets.js';

const publicDir = fileURLToPath(new URL('../../public', import.meta.url));

export interface ServerOptions {
  content: Content;
  store: ServerStore;
  /** Structured logs (pino); default JSON lines on stdout at LOG_LEVEL. */
  log?: Logger;
  /** Per-address and per-conversation limits; default from the environment (see rateLimiter.ts). */
  rateLimits?: RateLimitSettings;
  /** Express's `trust proxy` (TRUST_PROXY): set it behind a reverse proxy so limits see client addresses. */
  trustProxy?: string | number | boolean;
  /** How long a client may take to send its headers, and its whole request (slowloris). */
  httpTimeouts?: { headersMs: number; requestMs: number };
  /** Origins whose pages may embed the widget (ALLOWED_ORIGINS); default every origin. */
  allowedOrigins?: readonly string[];
  /** ADMIN_TOKEN: without it the dashboard and admin API are off (404), not open. */
  adminToken?: string | undefined;
  /** METRICS_TOKEN: when set, `/metrics` answers only `Authorization: Bearer <it>` (a scraper's own secret). */
  metricsToken?: string | undefined;
  /** RETENTION_DAYS and TOKEN_IDLE_DAYS (see config.ts). */
  retention?: RetentionSettings;
  /** HANDOFF_WEBHOOK_URL: each handoff event is POSTed there, retried until delivered. */
  handoffWebhookUrl?: string | undefined;
  /** HANDOFF_WEBHOOK_SECRET: each delivery is signed with it (X-Timestamp, X-Signature). */
  handoffWebhookSecret?: string | undefined;
  webhookOptions?: { pollMs?: number; baseDelayMs?: number; maxDelayMs?: number };
  /** SERVICE_HOURS in SERVICE_TIMEZONE (default 09:00-21:00, Asia/Shanghai). */
  serviceHours?: ServiceHours;
  /** Websocket hello deadline, idle timeout and ping interval; default from the environment (see socketLifetime.ts). */
  socketTimeouts?: SocketTimeouts;
  /** How often an agent's event stream sends a heartbeat (default 15 s). */
  agentHeartbeatMs?: number;
  /** The clock for availability (service hours); tests move it. */
  now?: () => Date;
  /**
   * Set when this server is one of several processes on one database (WORKERS > 1, cluster/; or
   * REDIS_URL, coordination/): limits whose buckets all of them share, a hub that reaches the others'
   * sockets and streams, and whether this one runs the server's jobs (webhook delivery, retention sweep).
   */
  coordination?: {
    limiter(name: LimitName, limit: RateLimit): Limiter;
    hub: LiveHub;
    runsServerJobs: boolean;
    /** `/metrics` answers the sum over every worker, whichever one the scrape reached (absent: this process's own). */
    shareMetrics?(read: () => Promise<unknown[]>): void;
    allWorkersMetrics?(): Promise<string>;
  };
}

export interface RunningServer {
  server: Server;
  engine: DialogueEngine;
  /** Stops accepting, closes sockets, waits for in-flight requests and turns; the store is the caller's to close. */
  close(): Promise<void>;
}

/** The whole product on one http server: demo page, widget, REST API, Botkit websocket, health. */
export function createServer({
  content,
  store,
  log = createLogger(),
  rateLimits = rateLimitSettingsFromEnv(),
  trustProxy = false,
  httpTimeouts = { headersMs: 10_000, requestMs: 20_000 },
  allowedOrigins = parseAllowedOrigins(undefined),
  adminToken,
  metricsToken,
  retention = { retentionDays: 90, tokenIdleDays: 30 },
  handoffWebhookUrl,
  handoffWebhookSecret,
  webhookOptions = {},
  serviceHours = parseServiceHours(),
  socketTimeouts = socketTimeoutsFromEnv(),
  agentHeartbeatMs,
  now = () => new Date(),
  coordination,
}: ServerOptions): RunningServer {
  const limiterOf = (name: LimitName): Limiter => {
    const limit = limitNamed(rateLimits, name);
    return coordination ? coordination.limiter(name, limit) : new RateLimiter(limit);
  };
  const runsServerJobs = coordination?.runsServerJobs ?? true;
  // Every worker queues handoff events with the turn that causes them; one delivers the outbox.
  if (handoffWebhookUrl) store.queueTicketsForWebhook = true;
  const metrics = new BotMetrics();
  coordination?.shareMetrics?.(() => metrics.registry.getMetricsAsJSON());
  const webhook = handoffWebhookUrl && runsServerJobs
    ? new HandoffWebhook({ url: handoffWebhookUrl, secret: handoffWebhookSecret, store, ...webhookOptions, log: (message, details) => log.warn(details ?? {}, message) })
    : undefined;
  const hub = coordination?.hub ?? new LiveHub();
  const ticketsPerAddress = limiterOf('ticketsPerAddress');
  const ticketsTotal = limiterOf('ticketsTotal');
  const everyone = 'everyone';
  // The engine asks the desk whether someone can answer; the desk takes the engine's system turns.
  let desk: SupportDesk | undefined;
  const engine = new DialogueEngine({
    content,
    store,
    logger: { warn: (message, details) => log.warn(details ?? {}, message) },
    handoff: {
      agentAvailable: () => desk?.available() ?? false,
      serviceHours: serviceHours.label,
      tickets: {
        mayOpen: async ({ address = 'unknown' }) => (await ticketsTotal.canTake(everyone)) && (await ticketsPerAddress.canTake(address)),
        opened: async ({ address = 'unknown' }) => {
          await Promise.all([ticketsTotal.take(everyone), ticketsPerAddress.take(address)]);
        },
      },
    },
    onTurn: (result, seconds, conversationId) => {
      metrics.recordTurn(result, seconds);
      if (result.ticket) {
        void desk?.afterTurn(conversationId, result).catch((error: unknown) => log.error({ err: error, conversationId }, 'live handoff update failed'));
      }
    },
  });
  desk = new SupportDesk({
    store,
    engine,
    hub,
    hours: serviceHours,
    now,
    onQueued: () => webhook?.kick(),
    log: (message, details) => log.warn(details, message),
  });
  const agents = agentApi({ desk, messageLimiter: limiterOf('agentMessages'), ...(agentHeartbeatMs ? { heartbeatMs: agentHeartbeatMs } : {}) });
  const uiTexts = uiTextsOf(content);
  // Prebuilt by npm run build for this content, or built on the first request (about a second once per process).
  const assets = servedWidgetAssets(uiTexts, content.wording, (message) => log.warn(message));

  const addressLimiter = limiterOf('perAddress');
  const conversationLimiter = limiterOf('perConversation');

  const app = express();
  app.disable('x-powered-by');
  // Express hashes every body it sends for an ETag, a turn's answer included. The API's answers are
  // no-store and never revalidated; the few cacheable ones (labels, the API description) are small
  // enough to fetch again after their max-age. Widget assets and static files keep their own ETags.
  app.set('etag', false);
  app.set('trust proxy', trustProxy);
  app.use(requestLogging(log));
  app.use(securityHeaders());
  let closing = false;
  app.use((_req, res, next) => {
    // While shutting down, no connection is kept alive: each closes once its answer is sent.
    if (closing) res.set('Connection', 'close');
    res.on('finish', () => {
      if (closing) setImmediate(() => server.closeIdleConnections());
    });
    next();
  });
  // The widget's labels are public: a page ALLOWED_ORIGINS refuses can still tell its users so in their language.
  app.get(['/api/ui', '/api/ui/dashboard'], (_req, res, next) => {
    res.set('Access-Control-Allow-Origin', '*');
    next();
  });
  // CORS before the limits: an embedding page must be able to read a 429, not see a CORS failure.
  // The dashboard's API is for the dashboard's own origin only.
  const cors = corsForEmbedding(allowedOrigins);
  // The agent API is for the dashboard and helpdesk servers, not for embedding pages.
  app.use('/api', (req, res, next) => (req.path.startsWith('/admin/') || req.path.startsWith('/agent/') ? next() : cors(req, res, next)));
  app.use(['/api', '/admin'], async (req, _res, next) => {
    await spendOrThrow(addressLimiter, req.ip ?? 'unknown', 'address');
    next();
  });
  app.get('/healthz', async (_req, res) => {
    // A load balancer stops sending new users here while the in-flight ones finish.
    if (closing) sendError(res, 503, 'shutting_down', 'the server is shutting down');
    else if (await store.healthy()) res.json({ status: 'ok' });
    else sendError(res, 503, 'database_unavailable', 'the database does not answer or refuses writes');
  });
  // Transcripts, tickets and analytics are somebody's data: no browser or proxy keeps a copy.
  // The widget's labels and the API description are the same for everyone and may be cached.
  app.use(['/api', '/metrics'], (req, res, next) => {
    res.set('Cache-Control', req.path === '/ui' || req.path === '/ui/dashboard' || req.path === '/openapi.json' ? 'public, max-age=300' : 'no-store');
    next();
  });
  const isMetricsToken = metricsToken ? matchesSecret(metricsToken) : undefined;
  app.get('/metrics', async (req, res) => {
    const token = bearerToken(req.get('authorization'));
    if (isMetricsToken && !(token && isMetricsToken(token))) {
      sendError(res, 401, 'metrics_token_required', 'send the METRICS_TOKEN as "Authorization: Bearer <token>"');
      return;
    }
    res.type(metrics.registry.contentType).send(coordination?.allWorkersMetrics ? await coordination.allWorkersMetrics() : await metrics.registry.metrics());
  });
  if (adminToken) {
    app.use('/api/admin', express.json({ limit: '4kb' }), adminApi({
        adminToken,
        store,
        desk,
        normalizer: new TextNormalizer(content.lexicon),
        deleteConversation: (id) => engine.exclusively(id, () => store.deleteConversation(id)),
      }));
    app.get('/admin/vendor/chart.umd.js', serveAsset(() => assets.chartJs));
    app.get('/admin/admin.js', serveAsset(() => assets.adminJs));
    app.get('/admin/admin.css', serveAsset(() => assets.adminCss));
  } else {
    app.use(['/admin', '/api/admin'], (_req, res) => sendError(res, 404, 'admin_disabled', 'the dashboard is off: set ADMIN_TOKEN to turn it on'));
  }
  app.use('/api/agent', agents.router);
  const access: AccessPolicy = { idleMs: retention.tokenIdleDays * dayMs, now: () => now().getTime() };
  const newConversations = { perAddress: limiterOf('newConversationsPerAddress'), total: limiterOf('newConversationsTotal') };
  app.use('/api', restApi({ engine, store, uiTexts, conversationLimiter, desk, access, newConversations }));
  // Minified once (by the build or the first request), compressed once per encoding; every embedding page loads these two.
  app.get('/widget.js', serveAsset(() => assets.widgetJs));
  app.get('/widget.css', serveAsset(() => assets.widgetCss));
  app.use(express.static(publicDir, { index: 'index.html', maxAge: '5m' }));
  app.use((req, res) => sendError(res, 404, 'not_found', `no route ${req.method} ${req.path}`));
  app.use(errorHandler(log));

  const server = createHttpServer(
    {
      // A client that trickles its headers or body (slowloris) is cut off instead of holding a
      // socket; Node looks for such clients every connectionsCheckingInterval.
      headersTimeout: httpTimeouts.headersMs,
      requestTimeout: httpTimeouts.requestMs,
      connectionsCheckingInterval: Math.min(2_000, httpTimeouts.headersMs),
      keepAliveTimeout: 5_000,
    },
    app,
  );
  // Botkit is loaded when the first websocket connects: REST visitors are greeted without waiting for it.
  const channel = lazyBotkitWebChannel({
    server,
    engine,
    identities: store,
    allowedOrigins,
    log,
    addressLimiter,
    conversationLimiter,
    socketsPerAddress: rateLimits.socketsPerAddress,
    access,
    timeouts: socketTimeouts,
    addressOf: (request) => clientAddress(request, app.get('trust proxy fn') as TrustProxy),
    live: {
      hub,
      onUserTyping: (conversationId) => desk.userTyping(conversationId),
      botAnswers: async (conversationId) => (await store.currentTicket(conversationId))?.handoffStatus !== 'assigned',
      withAgent: async (conversationId) => {
        const status = (await store.currentTicket(conversationId))?.handoffStatus;
        return status === 'waiting' || status === 'assigned';
      },
    },
  });
  webhook?.start();
  const retentionSweep = retention.retentionDays > 0 && runsServerJobs ? startRetentionSweep(store, retention.retentionDays, now, log) : undefined;
  return {
    server,
    engine,
    async close() {
      closing = true;
      retentionSweep?.stop();
      // Stop accepting first; requests under way finish, idle keep-alive connections go now.
      const httpClosed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      // Event streams never finish on their own: end them so the server can close.
      agents.closeStreams();
      await Promise.all([webhook?.stop(), channel.close()]);
      await httpClosed;
      await engine.drain();
    },
  };
}

type TrustProxy = (address: string, hop: number) => boolean;

/**
 * The client address express would give as `req.ip`, for requests express never sees (websocket
 * upgrades): walk X-Forwarded-For from the nearest hop while the hop is a trusted proxy.
 */
function clientAddress(request: IncomingMessage, trust: TrustProxy): string {
  const forwarded = String(request.headers['x-forwarded-for'] ?? '').split(',').map((hop) => hop.trim()).filter(Boolean).reverse();
  const hops = [request.socket.remoteAddress ?? 'unknown', ...forwarded];
  let hop = 0;
  while (hop < hops.length - 1 && trust(hops[hop]!, hop)) hop++;
  return hops[hop]!;
}

/**
 * Helmet's headers with a policy the demo page, the widget and the dashboard run under: scripts,
 * styles, fonts and images from this origin only (no inline script or style anywhere), API calls
 * and the websocket to this origin. The widget's files may be loaded by other origins' pages
 * (CORP cross-origin): which of those pages may then talk to the bot is ALLOWED_ORIGINS' job.
 */
function securityHeaders() {
  return helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        fontSrc: ["'self'"],
        connectSrc: ["'self'"],
        objectSrc: ["'none'"],
        baseUri: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'self'"],
      },
    },
    crossOriginResourcePolicy: { policy: 'cross-origin' },
  });
}

export { publicDir };
