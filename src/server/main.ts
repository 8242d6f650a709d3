/**
 * npm start: the chatbot server. PORT (default 3000), DATABASE_URL (default sqlite:./data/chatbot.db).
 */
import { isContentError, loadContent } from '../content/loadContent.js';
import { openStore } from '../storage/openStore.js';
import { parseAllowedOrigins } from './corsForEmbedding.js';
import { createServer } from './createServer.js';

const port = Number(process.env.PORT ?? 3000);
let content;
try {
  content = loadContent();
} catch (error) {
  if (!isContentError(error)) throw error;
  console.error(`cannot start: ${error.message}`);
  process.exit(2);
}
const store = openStore(process.env.DATABASE_URL);
const running = createServer({
  content,
  store,
  allowedOrigins: parseAllowedOrigins(process.env.ALLOWED_ORIGINS),
  adminToken: process.env.ADMIN_TOKEN || undefined,
  handoffWebhookUrl: process.env.HANDOFF_WEBHOOK_URL || undefined,
});
running.server.listen(port, () => {
  console.log(`chatbot listening on http://localhost:${port} (database ${process.env.DATABASE_URL ?? 'sqlite:./data/chatbot.db'})`);
  console.log(process.env.ADMIN_TOKEN ? `dashboard at http://localhost:${port}/admin` : 'dashboard off (set ADMIN_TOKEN to turn it on)');
});

let stopping = false;
async function stop(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  console.log(`${signal}: finishing in-flight requests`);
  // Bounded: a stuck client must not keep the process alive forever.
  const force = setTimeout(() => process.exit(1), 10_000);
  force.unref();
  await running.close();
  store.close();
  process.exit(0);
}
process.on('SIGTERM', () => void stop('SIGTERM'));
process.on('SIGINT', () => void stop('SIGINT'));
