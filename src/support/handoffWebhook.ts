import { createHmac } from 'node:crypto';
import type { ServerStore } from '../storage/serverStore.js';
import { handoffRequested } from './webhookEvents.js';

export interface WebhookOptions {
  url: string;
  /** HANDOFF_WEBHOOK_SECRET: when set, every attempt is signed (X-Timestamp, X-Signature). */
  secret?: string | undefined;
  store: ServerStore;
  /** How often the outbox is checked for due deliveries (a new ticket also triggers a check). */
  pollMs?: number;
  /** First retry delay; it doubles with each failure up to maxDelayMs. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  timeoutMs?: number;
  now?: () => Date;
  log?: (message: string, details?: Record<string, unknown>) => void;
}

/**
 * `X-Signature: sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>`: a receiver recomputes it
 * over the raw body and refuses an old timestamp, so a captured delivery cannot be replayed later.
 */
export function signatureHeaders(secret: string, body: string, unixSeconds: number): Record<string, string> {
  const timestamp = String(unixSeconds);
  const signature = createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
  return { 'x-timestamp': timestamp, 'x-signature': `sha256=${signature}` };
}

/**
 * Delivers each handoff event (`handoff.requested`, `message.created`, `conversation.resolved`) to
 * HANDOFF_WEBHOOK_URL as JSON. Events wait in the database's outbox (written in the same transaction
 * as what they report), so a receiver that is down, a timeout or a restart only delays a delivery:
 * it is retried with exponential backoff until it succeeds. The signature is made at each attempt,
 * so a retry hours later carries a fresh timestamp.
 */
export class HandoffWebhook {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  private readonly pollMs: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly timeoutMs: number;
  private readonly now: () => Date;
  private readonly log: NonNullable<WebhookOptions['log']>;

  constructor(private readonly options: WebhookOptions) {
    this.pollMs = options.pollMs ?? 5_000;
    this.baseDelayMs = options.baseDelayMs ?? 1_000;
    this.maxDelayMs = options.maxDelayMs ?? 5 * 60_000;
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.now = options.now ?? (() => new Date());
    this.log = options.log ?? (() => undefined);
    options.store.queueTicketsForWebhook = true;
  }

  start(): void {
    this.schedule(0);
  }

  /** Check the outbox now (after a ticket was created). */
  kick(): void {
    if (!this.stopped && !this.running) this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.running = this.deliverDue().finally(() => {
        this.running = undefined;
        this.schedule(this.pollMs);
      });
    }, delayMs);
    this.timer.unref();
  }

  /** One pass over the due deliveries. */
  async deliverDue(): Promise<void> {
    const { store } = this.options;
    for (const delivery of await store.dueDeliveries(this.now().toISOString())) {
      if (this.stopped) return;
      let body = delivery.body;
      if (body === null) {
        // Queued before events carried their body (schema version 5 and earlier): a ticket, built now.
        const ticket = await store.ticket(delivery.ticketId);
        if (!ticket) continue;
        body = JSON.stringify(handoffRequested(ticket, await store.transcript(ticket.conversationId)));
      }
      try {
        const signed = this.options.secret ? signatureHeaders(this.options.secret, body, Math.floor(this.now().getTime() / 1000)) : {};
        const response = await fetch(this.options.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...signed },
          body,
          signal: AbortSignal.timeout(this.timeoutMs),
        });
        if (!response.ok) throw new Error(`receiver answered ${response.status}`);
        await store.markDelivered(delivery.id, this.now().toISOString());
      } catch (error) {
        const delay = Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** delivery.attempts);
        const next = new Date(this.now().getTime() + delay).toISOString();
        await store.markFailed(delivery.id, next, (error as Error).message);
        this.log('handoff webhook delivery failed; will retry', { ticketId: delivery.ticketId, attempt: delivery.attempts + 1, retryAt: next, error: (error as Error).message });
      }
    }
  }
}
