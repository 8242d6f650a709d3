import { createHash, timingSafeEqual } from 'node:crypto';
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { computeAnalytics, dayRange, unansweredJsonl } from '../analytics/supportAnalytics.js';
import type { TextNormalizer } from '../nlu/index.js';
import type { ServerStore } from '../storage/openStore.js';
import { isSupportDeskError, type SupportDesk } from '../support/supportDesk.js';
import { asAgentHttpError } from './agentApi.js';
import { HttpError } from './httpErrors.js';

export interface AdminApiOptions {
  adminToken: string;
  store: ServerStore;
  normalizer: TextNormalizer;
  /** Agents, and closing a ticket releases its conversation back to the bot. */
  desk: SupportDesk;
  /** Deletes a conversation and all it holds, in its turn queue (a user's request, by an admin). */
  deleteConversation: (conversationId: string) => Promise<boolean>;
  now?: () => Date;
}

const agentName = (value: unknown): string => {
  if (typeof value !== 'string' || !value.trim()) throw new HttpError(400, 'invalid_name', 'send {"name": "小林"}: the name users will see');
  const name = value.trim();
  if ([...name].length > 40 || /[\u0000-\u001F\u007F-\u009F]/.test(name)) throw new HttpError(400, 'invalid_name', 'a name is at most 40 characters, without control characters');
  return name;
};

const digest = (value: string) => createHash('sha256').update(value).digest();
const isDay = (value: unknown): value is string => typeof value === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(value) && !Number.isNaN(Date.parse(value));

/** The support team's API: analytics, unanswered questions, tickets. Every call needs ADMIN_TOKEN. */
export function adminApi({ adminToken, store, normalizer, desk, deleteConversation, now = () => new Date() }: AdminApiOptions): Router {
  const router = express.Router();
  const expected = digest(adminToken);

  router.use((req: Request, res: Response, next: NextFunction) => {
    res.set('Cache-Control', 'no-store');
    const token = /^Bearer\s+(\S+)$/i.exec(req.get('authorization') ?? '')?.[1];
    if (!token) throw new HttpError(401, 'missing_token', 'send the admin token as "Authorization: Bearer <ADMIN_TOKEN>"');
    // Hashing first gives equal lengths, so the comparison takes the same time whatever was sent.
    if (!timingSafeEqual(digest(token), expected)) throw new HttpError(403, 'wrong_token', 'this is not the admin token');
    next();
  });

  const rangeOf = (req: Request) => {
    const today = now().toISOString().slice(0, 10);
    const monthAgo = new Date(now().getTime() - 29 * 86_400_000).toISOString().slice(0, 10);
    const from = req.query.from ?? monthAgo;
    const to = req.query.to ?? today;
    if (!isDay(from) || !isDay(to)) throw new HttpError(400, 'invalid_range', 'from and to are dates like 2026-11-27');
    if (from > to) throw new HttpError(400, 'invalid_range', 'from is after to');
    return { from, to };
  };

  const analytics = async (req: Request) => {
    const range = rangeOf(req);
    const { fromIso, toIso } = dayRange(range.from, range.to);
    return computeAnalytics(await store.analyticsRows(fromIso, toIso), range, normalizer);
  };

  router.get('/analytics', async (req, res) => {
    res.json(await analytics(req));
  });

  router.get('/unanswered.jsonl', async (req, res) => {
    const result = await analytics(req);
    res.type('application/x-ndjson');
    res.attachment(`unanswered-${result.range.from}-${result.range.to}.jsonl`);
    res.send(unansweredJsonl(result));
  });

  router.get('/tickets', async (req, res) => {
    const status = req.query.status ?? 'open';
    if (status !== 'open' && status !== 'closed' && status !== 'all') throw new HttpError(400, 'invalid_status', 'status is open, closed or all');
    const tickets = (await store.tickets()).filter((ticket) => status === 'all' || ticket.status === status).reverse();
    const withTranscripts = await Promise.all(
      tickets.map(async (ticket) => ({ ...ticket, transcript: (await store.transcript(ticket.conversationId)).map(({ role, text, at }) => ({ role, text, at })) })),
    );
    res.json({ tickets: withTranscripts });
  });

  router.post('/tickets/:id/close', async (req, res) => {
    const id = Number(req.params.id);
    if (!Number.isInteger(id) || id < 1) throw new HttpError(400, 'invalid_ticket', 'ticket ids are whole numbers');
    const found = await store.ticket(id);
    if (!found) throw new HttpError(404, 'ticket_not_found', `no ticket ${id}`);
    // The conversation's latest ticket: the user is told and the bot answers again. An older one is only closed.
    const current = await store.currentTicket(found.conversationId);
    if (current?.id === id && current.handoffStatus !== 'resolved') {
      try {
        await desk.release(found.conversationId, 'resolved', undefined);
      } catch (error) {
        if (!isSupportDeskError(error)) throw error;
      }
    }
    const ticket = await store.closeTicket(id, now().toISOString());
    res.json({ ticket });
  });

  router.post('/agents', express.json({ limit: '4kb' }), async (req, res) => {
    const name = agentName((req.body as { name?: unknown } | undefined)?.name);
    res.status(201).json(await desk.createAgent(name));
  });

  router.get('/agents', async (_req, res) => {
    const agents = await store.agents();
    res.json({ agents: agents.map((agent) => ({ id: agent.id, name: agent.name, createdAt: agent.createdAt, disabled: agent.disabledAt !== null, lastSeenAt: agent.lastSeenAt })) });
  });

  router.post('/agents/:id/disable', async (req, res) => {
    try {
      await desk.disableAgent(String(req.params.id));
    } catch (error) {
      throw asAgentHttpError(error);
    }
    res.json({ id: String(req.params.id), disabled: true });
  });

  // A user who asks support (not the widget) to erase their data: the rows go, not only the view.
  router.delete('/conversations/:id', async (req, res) => {
    const id = String(req.params.id);
    if (!(await deleteConversation(id))) throw new HttpError(404, 'conversation_not_found', `no conversation ${id}`);
    res.status(204).end();
  });

  router.use((req, _res) => {
    throw new HttpError(404, 'not_found', `no route ${req.method} ${req.baseUrl}${req.path}`);
  });
  return router;
}
