import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { loadContent, type Content } from '../../src/content/loadContent.js';
import type { RetentionSettings } from '../../src/server/config.js';
import { createServer } from '../../src/server/createServer.js';
import { createLogger } from '../../src/server/logging.js';
import { noRateLimits, type RateLimitSettings } from '../../src/limits/rateLimiter.js';
import { openStore } from '../../src/storage/openStore.js';
import type { SqliteConversationStore } from '../../src/storage/sqliteConversationStore.js';
import type { ServiceHours } from '../../src/support/serviceHours.js';
import type { SocketTimeouts } from '../../src/channels/socketLifetime.js';

let content: Content | undefined;

export interface TestServer {
  baseUrl: string;
  wsUrl: string;
  port: number;
  /** Tests reach into the SQLite file (faults, row counts), so they get its store, not just the interface. */
  store: SqliteConversationStore;
  databaseFile: string;
  /** Messages of warn and error log lines. */
  errors: string[];
  /** Every log line the server wrote, raw JSON. */
  logLines: string[];
  /** Stops the server and closes the database (the file stays until `cleanup`). */
  stop(): Promise<void>;
  cleanup(): void;
}

/** A real server on a free port over a real SQLite file, as production runs it. */
export interface TestServerOptions {
  /** Reuse a database (a restart); a new temp file otherwise. */
  databaseFile?: string;
  port?: number;
  allowedOrigins?: string[];
  adminToken?: string;
  handoffWebhookUrl?: string;
  webhookOptions?: { pollMs?: number; baseDelayMs?: number; maxDelayMs?: number };
  /** Off unless given: tests of other behaviour send faster than people do. */
  rateLimits?: RateLimitSettings;
  httpTimeouts?: { headersMs: number; requestMs: number };
  handoffWebhookSecret?: string;
  serviceHours?: ServiceHours;
  agentHeartbeatMs?: number;
  socketTimeouts?: SocketTimeouts;
  now?: () => Date;
  trustProxy?: string | number | false;
  metricsToken?: string;
  retention?: RetentionSettings;
}

export async function startTestServer({
  databaseFile,
  port = 0,
  allowedOrigins,
  adminToken,
  handoffWebhookUrl,
  webhookOptions,
  rateLimits = noRateLimits,
  httpTimeouts,
  handoffWebhookSecret,
  serviceHours,
  agentHeartbeatMs,
  socketTimeouts,
  now,
  trustProxy,
  metricsToken,
  retention,
}: TestServerOptions = {}): Promise<TestServer> {
  content ??= loadContent();
  const dir = databaseFile ? path.dirname(databaseFile) : mkdtempSync(path.join(tmpdir(), 'bot-server-'));
  const file = databaseFile ?? path.join(dir, 'chatbot.db');
  const store = openStore(`sqlite:${file}`) as SqliteConversationStore;
  const errors: string[] = [];
  const logLines: string[] = [];
  const log = createLogger(
    {
      write(line: string) {
        logLines.push(line);
        const { level, msg } = JSON.parse(line) as { level: number; msg: string };
        if (level >= 40) errors.push(msg);
      },
    },
    'info',
  );
  const running = createServer({
    content,
    store,
    log,
    rateLimits,
    ...(httpTimeouts ? { httpTimeouts } : {}),
    ...(allowedOrigins ? { allowedOrigins } : {}),
    adminToken,
    handoffWebhookUrl,
    ...(webhookOptions ? { webhookOptions } : {}),
    handoffWebhookSecret,
    ...(serviceHours ? { serviceHours } : {}),
    ...(agentHeartbeatMs ? { agentHeartbeatMs } : {}),
    ...(socketTimeouts ? { socketTimeouts } : {}),
    ...(now ? { now } : {}),
    ...(trustProxy !== undefined ? { trustProxy } : {}),
    ...(retention ? { retention } : {}),
    metricsToken,
  });
  await new Promise<void>((resolve) => running.server.listen(port, '127.0.0.1', resolve));
  const { port: boundPort } = running.server.address() as AddressInfo;
  let stopped = false;
  return {
    baseUrl: `http://127.0.0.1:${boundPort}`,
    wsUrl: `ws://127.0.0.1:${boundPort}/ws`,
    port: boundPort,
    store,
    databaseFile: file,
    errors,
    logLines,
    async stop() {
      if (stopped) return;
      stopped = true;
      await running.close();
      await store.close();
    },
    cleanup() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A server for the enclosing file or describe block: started before its tests, stopped and
 * removed after. The returned object reads through to that server once it runs.
 */
export function serveDuringTests(options: TestServerOptions = {}): TestServer {
  let running: TestServer | undefined;
  beforeAll(async () => {
    running = await startTestServer(options);
  });
  afterAll(async () => {
    await running?.stop();
    running?.cleanup();
  });
  return new Proxy({} as TestServer, {
    get: (_target, key) => {
      if (!running) throw new Error('the test server is used before it started (outside a test?)');
      return running[key as keyof TestServer];
    },
  });
}

export interface Conversation {
  id: string;
  token: string;
}

export async function createConversation(baseUrl: string): Promise<Conversation & { replies: { text: string }[] }> {
  const response = await fetch(`${baseUrl}/api/conversations`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  if (response.status !== 201) throw new Error(`create conversation: ${response.status}`);
  return (await response.json()) as Conversation & { replies: { text: string }[] };
}

export function sendMessage(baseUrl: string, conversation: Conversation, body: unknown, headers: Record<string, string> = {}) {
  return fetch(`${baseUrl}/api/conversations/${conversation.id}/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${conversation.token}`, ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}
