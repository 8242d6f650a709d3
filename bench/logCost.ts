/**
 * npx tsx bench/logCost.ts — what the structured logs cost per message: a child logger with the
 * request id, the `turn` line and the `request` line, written synchronously to /dev/null (the
 * formatting and the write call, not the disk). Compare with ~1 ms of CPU per turn (RESULTS.md).
 */
import { pino } from 'pino';
import { createLogger } from '../src/server/logging.js';
const log = createLogger(pino.destination({ dest: '/dev/null', sync: true }), 'info');
const child = log.child({ requestId: 'e61df2e9-7c3b-41cc-ad51-1db7e9de9200' });
const turn = { conversationId: 'AybdgYi2AlUUU1Txjgov0A', channel: 'rest', intent: 'verification_help', confidence: 0.5454, event: 'user.chooseMethod', state: 'verifying.guidingMethod', replies: 2, ms: 8.4 };
const request = { method: 'POST', path: '/api/conversations/AybdgYi2AlUUU1Txjgov0A/messages', status: 200, ms: 21.9 };
for (let round = 0; round < 3; round++) {
  const n = 200_000;
  const t = performance.now();
  for (let i = 0; i < n; i++) {
    log.child({ requestId: String(i) }).info(turn, 'turn');
    child.info(request, 'request');
  }
  console.log(`${(((performance.now() - t) * 1000) / n).toFixed(2)} µs per message (child logger + turn line + request line)`);
}
