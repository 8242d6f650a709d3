import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { z } from 'zod';
import type { Agent } from '../dialogue/conversationStore.js';
import { DialogueInputError } from '../dialogue/dialogueEngine.js';
import type { AgentStreamEvent } from '../support/liveHub.js';
import { isSupportDeskError, type SupportDesk, type SupportDeskErrorCode } from '../support/supportDesk.js';
import { bearerToken } from './bearerToken.js';
import { HttpError } from './httpErrors.js';
import { spendOrThrow, type Limiter } from '../limits/rateLimiter.js';

export interface AgentApiOptions {
  desk: SupportDesk;
  /** Messages per agent, the same allowance a conversation has. */
  messageLimiter: Limiter;
  /** How often an open event stream says it is still there (proxies close silent connections). */
  heartbeatMs?: number;
}

export interface AgentApi {
  router: Router;
  /** Ends every open event stream (shutdown). */
  closeStreams(): void;
}

const statuses = ['waiting', 'assigned', 'resolved'] as const;
const messageBody = z.object({ text: z.unknown() }).strict();

const deskErrorStatus: Record<SupportDeskErrorCode, number> = {
  conversation_not_found: 404,
  agent_not_found: 404,
  already_claimed: 409,
  not_assigned: 409,
  not_assigned_to_you: 409,
  already_resolved: 409,
};

/** Errors from the desk and the text checks, as the 4xx answers of the API. */
export function asAgentHttpError(error: unknown): unknown {
  if (isSupportDeskError(error)) return new HttpError(deskErrorStatus[error.code], error.code, error.message);
  if (error instanceof DialogueInputError) return new HttpError(error.code === 'text_too_long' ? 413 : 400, error.code, error.message);
  return error;
}

type Handler = (req: Request, res: Response, agent: Agent) => Promise<void>;

/**
 * The agents' API (`/api/agent`): each call carries an agent's own token, and marks that agent
 * online. Everything here is private data: never cached.
 */
export function agentApi({ desk, messageLimiter, heartbeatMs = 15_000 }: AgentApiOptions): AgentApi {
  const router = express.Router();
  const streams = new Set<Response>();

  const agents = new WeakMap<Request, Agent>();
  router.use(async (req: Request, res: Response, next: NextFunction) => {
    const token = bearerToken(req.get('authorization'));
    if (!token) throw new HttpError(401, 'missing_token', 'send your agent token as "Authorization: Bearer <token>"');
    const agent = await desk.authenticate(token);
    if (!agent) throw new HttpError(401, 'invalid_token', 'this token is not a current agent\'s (unknown, or the agent was disabled)');
    agents.set(req, agent);
    next();
  });

  const handle = (handler: Handler) => async (req: Request, res: Response) => {
    try {
      await handler(req, res, agents.get(req)!);
    } catch (error) {
      throw asAgentHttpError(error);
    }
  };
  const json = express.json({ limit: '16kb' });
  const requireJson = (req: Request, _res: Response, next: NextFunction) => {
    if (!req.is('application/json')) throw new HttpError(415, 'unsupported_media_type', 'send the body as application/json');
    next();
  };

  router.get('/me', handle(async (_req, res, agent) => {
    res.json({ id: agent.id, name: agent.name });
  }));

  router.get('/conversations', handle(async (req, res) => {
    const status = req.query.status ?? 'waiting';
    if (typeof status !== 'string' || !(statuses as readonly string[]).includes(status)) {
      throw new HttpError(400, 'invalid_status', 'status is waiting, assigned or resolved');
    }
    res.json({ conversations: await desk.list(status as (typeof statuses)[number]) });
  }));

  router.get('/conversations/:id', handle(async (req, res) => {
    res.json(await desk.detail(String(req.params.id)));
  }));

  router.post('/conversations/:id/claim', handle(async (req, res, agent) => {
    res.json(await desk.claim(String(req.params.id), agent));
  }));

  router.post('/conversations/:id/messages', requireJson, json, handle(async (req, res, agent) => {
    const body = messageBody.safeParse(req.body);
    if (!body.success || !('text' in (req.body as object))) throw new HttpError(400, 'invalid_body', 'send {"text": "..."}');
    await spendOrThrow(messageLimiter, `agent:${agent.id}`, 'conversation');
    res.status(201).json({ message: await desk.postMessage(String(req.params.id), agent, body.data.text) });
  }));

  router.post('/conversations/:id/typing', handle(async (req, res, agent) => {
    await desk.typing(String(req.params.id), agent);
    res.status(204).end();
  }));

  router.post('/conversations/:id/handback', handle(async (req, res, agent) => {
    res.json(await desk.release(String(req.params.id), 'handedBack', agent));
  }));

  router.post('/conversations/:id/resolve', handle(async (req, res, agent) => {
    res.json(await desk.release(String(req.params.id), 'resolved', agent));
  }));

  // Server-sent events, read with fetch and a stream reader (EventSource cannot send the token).
  router.get('/events', handle(async (req, res, agent) => {
    res.status(200).set({ 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-store', Connection: 'keep-alive', 'X-Accel-Buffering': 'no' });
    res.flushHeaders();
    res.write(': connected\n\n');
    const send = (event: AgentStreamEvent) => res.write(`event: ${event.type}\ndata: ${JSON.stringify(event.data)}\n\n`);
    const unsubscribe = desk.hub.subscribeAgents(send);
    streams.add(res);
    const heartbeat = setInterval(() => {
      res.write(': heartbeat\n\n');
      void desk.touch(agent).catch(() => undefined);
    }, heartbeatMs);
    heartbeat.unref();
    const end = () => {
      clearInterval(heartbeat);
      unsubscribe();
      streams.delete(res);
    };
    req.on('close', end);
    res.on('close', end);
  }));

  router.use((req, _res) => {
    throw new HttpError(404, 'not_found', `no route ${req.method} ${req.baseUrl}${req.path}`);
  });

  return {
    router,
    closeStreams() {
      for (const res of streams) res.end();
      streams.clear();
    },
  };
}
