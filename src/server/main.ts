/**
 * npm start: the chatbot server. PORT (default 3000), DATABASE_URL (default sqlite:./data/chatbot.db),
 * CONTENT_DIR (default the repository's intents/: the nlu/, responses/ and lexicon.yml to serve),
 * SERVICE_HOURS (default 09:00-21:00) in SERVICE_TIMEZONE (default Asia/Shanghai), HANDOFF_WEBHOOK_URL
 * and HANDOFF_WEBHOOK_SECRET (signs each delivery).
 * A mistake in the content stops start-up with `cannot start: <file>:<line>: …` and exit code 2.
 */
import { isContentError, loadContent } from '../content/loadContent.js';
import { SecretRedactor, redactionVersion } from '../nlu/index.js';
import { openStore } from '../storage/openStore.js';
import { parseServiceHours } from '../support/serviceHours.js';
import { parseAllowedOrigins } from './corsForEmbedding.js';
import { createServer } from './createServer.js';
import { createLogger } from './logging.js';
import { rateLimitSettingsFromEnv } from './rateLimiter.js';

const port = Number(process.env.PORT ?? 3000);
// Settings first: a bad one is reported at once, not after the content has loaded.
let rateLimits;
let serviceHours;
const webhookSecret = process.env.HANDOFF_WEBHOOK_SECRET || undefined;
try {
  rateLimits = rateLimitSettingsFromEnv();
  serviceHours = parseServiceHours(process.env.SERVICE_HOURS || undefined, process.env.SERVICE_TIMEZONE || undefined);
  // A short shared secret can be guessed from one signed delivery.
  if (webhookSecret !== undefined && webhookSecret.length < 16) throw new Error('HANDOFF_WEBHOOK_SECRET must be at least 16 characters');
} catch (error) {
  console.error(`cannot start: ${(error as Error).message}`);
  process.exit(2);
}
let content;
try {
  content = loadContent(process.env.CONTENT_DIR || undefined);
} catch (error) {
  if (!isContentError(error)) throw error;
  console.error(`cannot start: ${error.message}`);
  process.exit(2);
}
const log = createLogger();
// Rows an older version stored with weaker redaction are redacted again before the server starts.
const redactor = new SecretRedactor(content.lexicon);
const store = openStore(process.env.DATABASE_URL, { redaction: { version: redactionVersion, redact: (text) => redactor.redact(text).text } });
const running = createServer({
  content,
  store,
  log,
  rateLimits,
  trustProxy: parseTrustProxy(process.env.TRUST_PROXY),
  allowedOrigins: parseAllowedOrigins(process.env.ALLOWED_ORIGINS),
  adminToken: process.env.ADMIN_TOKEN || undefined,
  handoffWebhookUrl: process.env.HANDOFF_WEBHOOK_URL || undefined,
  handoffWebhookSecret: webhookSecret,
  serviceHours,
});
running.server.listen(port, () => {
  log.info({ port, database: process.env.DATABASE_URL ?? 'sqlite:./data/chatbot.db' }, `chatbot listening on http://localhost:${port}`);
  log.info(process.env.ADMIN_TOKEN ? `dashboard at http://localhost:${port}/admin` : 'dashboard off (set ADMIN_TOKEN to turn it on)');
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
  store.close();
  log.info('stopped cleanly');
  log.flush();
  process.exit(0);
}
process.on('SIGTERM', () => void stop('SIGTERM'));
process.on('SIGINT', () => void stop('SIGINT'));

/** TRUST_PROXY as express reads it: "true", a hop count, or addresses/subnets ("loopback, 10.0.0.0/8"). */
function parseTrustProxy(value: string | undefined): string | number | boolean {
  if (!value) return false;
  if (value === 'true' || value === 'false') return value === 'true';
  return /^\d+$/.test(value) ? Number(value) : value;
}
