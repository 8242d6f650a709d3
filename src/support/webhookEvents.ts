import { randomUUID } from 'node:crypto';
import type { HandoffTicket, TranscriptEntry } from '../dialogue/conversationStore.js';

/**
 * The bodies HANDOFF_WEBHOOK_URL receives, each a JSON object with a `type`. Each is written to the
 * outbox in the same transaction as what it reports, so what a receiver gets is what was stored then.
 * `id` is the same on every retry of one event: a receiver drops one it has seen.
 */
export type WebhookEvent =
  | { type: 'handoff.requested'; id: string; ticket: HandoffTicket; transcript: WebhookLine[] }
  | { type: 'message.created'; id: string; conversationId: string; ticketId: number; message: WebhookLine }
  | { type: 'conversation.resolved'; id: string; conversationId: string; ticket: HandoffTicket };

export type WebhookLine = Pick<TranscriptEntry, 'role' | 'text' | 'at'> & { seq?: number; agentName?: string };

/** A line as outside systems see it (already redacted; intents stay inside). */
export function webhookLine(entry: TranscriptEntry): WebhookLine {
  const line: WebhookLine = { role: entry.role, text: entry.text, at: entry.at };
  if (entry.seq !== undefined) line.seq = entry.seq;
  if (entry.agentName !== undefined) line.agentName = entry.agentName;
  return line;
}

export const handoffRequested = (ticket: HandoffTicket, transcript: TranscriptEntry[]): WebhookEvent => ({
  type: 'handoff.requested',
  id: randomUUID(),
  ticket,
  transcript: transcript.map(webhookLine),
});

export const messageCreated = (ticket: HandoffTicket, entry: TranscriptEntry): WebhookEvent => ({
  type: 'message.created',
  id: randomUUID(),
  conversationId: ticket.conversationId,
  ticketId: ticket.id,
  message: webhookLine(entry),
});

export const conversationResolved = (ticket: HandoffTicket): WebhookEvent => ({
  type: 'conversation.resolved',
  id: randomUUID(),
  conversationId: ticket.conversationId,
  ticket,
});
