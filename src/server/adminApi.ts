import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { AnalyticsJobs, isAnalyticsBusyError } from '../analytics/analyticsJobs.js';
import { computeAnalyticsInSlices } from '../analytics/slicedAnalytics.js';
import { unansweredJsonl, type Analytics } from '../analytics/supportAnalytics.js';
import type { TextNormalizer } from '../nlu/index.js';
import type { ServerStore } from '../storage/openStore.js';
import { isSupportDeskError, type SupportDesk } from '../support/supportDesk.js';
import { asAgentHttpError } from './agentApi.js';
import { bearerToken, matchesSecret } from './bearerToken.js';
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

const monthLengths = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const isLeapYear = (year: number) => year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);

/** A calendar day `YYYY-MM-DD` from the query, or a 400 that says what is wrong with it (2024-02-30 is not a day). */
function dayParameter(name: string, value: unknown): string {
  const match = typeof value === 'string' ? /^(\d{4})-(\d{2})-(\d{2})$/.exec(value) : null;
  if (!match) throw new HttpError(400, 'invalid_range', `${name} is a date like 2026-11-27`);
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  if (month < 1 || month > 12) throw new HttpError(400, 'invalid_range', `${name}=${value as string} is not a date: there is no month ${match[2]}`);
  const days = month === 2 && isLeapYear(year) ? 29 : monthLengths[month - 1]!;
  if (day < 1 || day > days) throw new HttpError(400, 'invalid_range', `${name}=${value as string} is not a date: ${match[1]}-${match[2]} has ${days} days`);
  return value as string;
}

/** Tickets listed per page by default, and at most. */
const ticketPageDefault = 50;
const ticketPageMax = 200;

function positiveInteger(name: string, value: unknown, max = Number.MAX_SAFE_INTEGER): number {
  const number = typeof value === 'string' && /^\d{1,16}$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(number) || number < 1 || number > max) throw new HttpError(400, 'invalid_page', `${name} is a whole number from 1 to ${max}`);
  return number;
}

/** The support team's API: analytics, unanswered questions, tickets. Every call needs ADMIN_TOKEN. */
export function adminApi({ adminToken, store, normalizer, desk, deleteConversation, now = () => new Date() }: AdminApiOptions): Router {
  const router = express.Router();
  const isAdminToken = matchesSecret(adminToken);

  router.use((req: Request, res: Response, next: NextFunction) => {
    const token = bearerToken(req.get('authorization'));
    if (!token) throw new HttpError(401, 'missing_token', 'send the admin token as "Authorization: Bearer <ADMIN_TOKEN>"');
    if (!isAdminToken(token)) throw new HttpError(403, 'wrong_token', 'this is not the admin token');
    next();
  });

  const rangeOf = (req: Request) => {
    const today = now().toISOString().slice(0, 10);
    const monthAgo = new Date(now().getTime() - 29 * 86_400_000).toISOString().slice(0, 10);
    const from = dayParameter('from', req.query.from ?? monthAgo);
    // Nothing has happened after today: a later end (9999-12-31 for "everything") reads up to today.
    const asked = dayParameter('to', req.query.to ?? today);
    const to = asked > today ? today : asked;
    if (from > to) throw new HttpError(400, 'invalid_range', to === today ? `from (${from}) is after today (${today})` : 'from is after to');
    return { from, to };
  };

  // One computation at a time, shared by requests for the same range; each runs in slices off the request's path.
  const jobs = new AnalyticsJobs<Analytics>();
  const analytics = async (req: Request, res: Response) => {
    const range = rangeOf(req);
    try {
      return await jobs.run(`${range.from}/${range.to}`, () => computeAnalyticsInSlices(store, range, normalizer));
    } catch (error) {
      if (!isAnalyticsBusyError(error)) throw error;
      res.set('Retry-After', '5');
      throw new HttpError(503, 'analytics_busy', error.message);
    }
  };

  router.get('/analytics', async (req, res) => {
    res.json(await analytics(req, res));
  });

  router.get('/unanswered.jsonl', async (req, res) => {
    const result = await analytics(req, res);
    res.type('application/x-ndjson');
    res.attachment(`unanswered-${result.range.from}-${result.range.to}.jsonl`);
    res.send(unansweredJsonl(result));
  });

  // Newest first, a page at a time: `limit` (at most 200), then `before` = the `nextBefore` of the previous page.
  router.get('/tickets', async (req, res) => {
    const status = req.query.status ?? 'open';
    if (status !== 'open' && status !== 'closed' && status !== 'all') throw new HttpError(400, 'invalid_status', 'status is open, closed or all');
    const limit = req.query.limit === undefined ? ticketPageDefault : positiveInteger('limit', req.query.limit, ticketPageMax);
    const before = req.query.before === undefined ? undefined : positiveInteger('before', req.query.before);
    // One more than asked tells whether another page follows.
    const tickets = await store.ticketsPage({ status, limit: limit + 1, ...(before === undefined ? {} : { before }) });
    const page = tickets.slice(0, limit);
    const withTranscripts = await Promise.all(
      page.map(async (ticket) => ({ ...ticket, transcript: (await store.transcript(ticket.conversationId)).map(({ role, text, at }) => ({ role, text, at })) })),
    );
    res.json({ tickets: withTranscripts, total: await store.ticketCount(status), nextBefore: tickets.length > limit ? page.at(-1)!.id : null });
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
