import { isUtf8 } from 'node:buffer';
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { z } from 'zod';
import { checkMessageText, clientMessageIdPattern, DialogueInputError, turnForClients, type DialogueEngine } from '../dialogue/dialogueEngine.js';
import { AccessRefusedError, accessOf, checkAccess, newConversationIdentity, type AccessPolicy, type AccessResult } from '../storage/identityStore.js';
import type { ServerStore } from '../storage/openStore.js';
import { bearerToken } from './bearerToken.js';
import { HttpError, sendError } from './httpErrors.js';
import { requestLog } from './logging.js';
import { runChannelTurn, type TurnRefusal } from '../turns/channelTurn.js';
import { spendOrThrow, type Limiter } from '../limits/rateLimiter.js';
import { openApiDocument } from './openApiDocument.js';
import { publicLine, type SupportDesk } from '../support/supportDesk.js';
import { canonicalLocale, maxLocaleLength, openingScript, replyScriptFor } from '../nlu/index.js';

export interface RestApiOptions {
  engine: DialogueEngine;
  store: ServerStore;
  /** `ui.*` texts for the widget. */
  uiTexts: Record<string, string>;
  /** Messages per conversation, shared with the websocket channel. */
  conversationLimiter: Limiter;
  /** Where the conversation's handover stands (the `handoff` field). */
  desk: SupportDesk;
  /** How long a conversation token lives without use. */
  access?: AccessPolicy;
  /** New conversations per client address and from everyone together. */
  newConversations?: { perAddress: Limiter; total: Limiter };
}

const messageBody = z
  .object({
    text: z.unknown(),
    displayText: z.string().optional(),
    clientMessageId: z.string().regex(clientMessageIdPattern, '1 to 64 letters, digits, _ or -').optional(),
  })
  .strict();
const parseBody = z.object({ text: z.unknown() }).strict();
const ratingBody = z.object({ helpful: z.boolean(), answerSeq: z.number().int().positive().optional() }).strict();
const creationBody = z.object({ locale: z.string().optional() }).strict();

/**
 * The body of POST /api/conversations: none at all (as before locales), or JSON with an optional
 * `locale`, a BCP 47 tag such as the browser's navigator.language, kept in its canonical form.
 */
function conversationOptions(req: Request): { locale?: string } {
  // Unparsed: an empty body (fine, as before locales: curl -XPOST) or one of another type (refused).
  if (req.body === undefined) {
    const empty = req.get('transfer-encoding') === undefined && Number(req.get('content-length') ?? '0') === 0;
    if (!empty) throw new HttpError(415, 'unsupported_media_type', 'send the body as application/json');
    return {};
  }
  if (typeof req.body !== 'object' || req.body === null || Array.isArray(req.body)) throw new HttpError(400, 'invalid_body', 'the body must be a JSON object');
  const result = creationBody.safeParse(req.body);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    throw new HttpError(400, 'invalid_body', issue.code === 'unrecognized_keys' ? `unknown field(s): ${issue.keys.join(', ')}` : `${issue.path.join('.') || 'body'}: ${issue.message}`);
  }
  const { locale } = result.data;
  if (locale === undefined) return {};
  const canonical = canonicalLocale(locale);
  if (!canonical) throw new HttpError(400, 'invalid_locale', `locale must be a BCP 47 language tag of at most ${maxLocaleLength} characters, such as zh-TW`);
  return { locale: canonical };
}

const inputErrorStatus: Record<DialogueInputError['code'], number> = {
  empty_text: 400,
  text_not_string: 400,
  text_too_long: 413,
  control_characters: 400,
  invalid_unicode: 400,
};

/** The HTTP answer to a sender who may not read or write a conversation. */
function accessError(result: Exclude<AccessResult, 'ok'>, id: string): HttpError {
  switch (result) {
    case 'unknown_conversation':
      return new HttpError(404, 'conversation_not_found', `no conversation ${id}`);
    case 'missing_token':
      return new HttpError(401, 'missing_token', 'send the conversation token as "Authorization: Bearer <token>"');
    case 'wrong_token':
      return new HttpError(403, 'wrong_token', 'this token does not belong to this conversation');
    case 'token_expired':
      return new HttpError(401, 'token_expired', 'this conversation has been idle too long; start a new one');
  }
}

/** A refused REST message as its HTTP answer (the contract in openApiDocument). */
function sendRefusal(res: Response, refusal: TurnRefusal, conversationId: string): void {
  switch (refusal.reason) {
    case 'access':
      throw accessError(refusal.access, conversationId);
    case 'rate_limited':
      res.set('Retry-After', String(refusal.retryAfterSeconds));
      return sendError(res, 429, refusal.code, refusal.message);
    case 'invalid_input':
      return sendError(res, inputErrorStatus[refusal.code], refusal.code, refusal.message);
    case 'conversation_gone':
      return sendError(res, 404, refusal.code, refusal.message);
    case 'storage_unavailable':
      // Only this request fails; the user may resend, and nothing of the turn was half-saved (one transaction).
      res.set('Retry-After', '5');
      return sendError(res, 503, refusal.code, refusal.message);
    case 'failed':
      return sendError(res, 500, 'internal_error', 'something went wrong on our side; please try again');
  }
}

/**
 * JSON.parse would turn bytes that are not UTF-8 into U+FFFD silently; the sender should know
 * their text arrived damaged instead.
 */
function refuseInvalidUtf8(_req: unknown, _res: unknown, body: Buffer): void {
  if (!isUtf8(body)) throw new HttpError(400, 'invalid_utf8', 'the request body is not valid UTF-8');
}

/** JSON only: a form post or plain text gets 415 rather than an empty body. */
function requireJson(req: Request, _res: Response, next: NextFunction): void {
  if (!req.is('application/json')) throw new HttpError(415, 'unsupported_media_type', 'send the body as application/json');
  next();
}

function validBody<T>(schema: z.ZodType<T>, body: unknown): T {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new HttpError(400, 'invalid_body', 'the body must be a JSON object');
  if (!('text' in body)) throw new HttpError(400, 'text_missing', 'the body needs a "text" field');
  const result = schema.safeParse(body ?? {});
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const field = issue.path.join('.') || 'body';
  const message = issue.code === 'unrecognized_keys' ? `unknown field(s): ${issue.keys.join(', ')}` : `${field}: ${issue.message}`;
  throw new HttpError(400, 'invalid_body', message);
}

/** The REST contract QA tools and outside clients rely on; described in openApiDocument. */
export function restApi({ engine, store, uiTexts, conversationLimiter, desk, access = {}, newConversations }: RestApiOptions): Router {
  const router = express.Router();
  const json = express.json({ limit: '16kb', strict: false, verify: refuseInvalidUtf8 });

  async function authorize(req: Request): Promise<string> {
    const id = String(req.params.id);
    refuseUnless(await checkAccess(store, id, bearerToken(req.get('authorization')), access), id);
    return id;
  }

  function refuseUnless(result: AccessResult, id: string): void {
    if (result !== 'ok') throw accessError(result, id);
  }

  router.get('/openapi.json', (_req, res) => {
    res.json(openApiDocument);
  });

  // Visitors get the chat's labels only; the dashboard's (most of ui.yml) are for support teams.
  const visitorTexts = Object.fromEntries(Object.entries(uiTexts).filter(([key]) => !key.startsWith('ui.admin.')));
  const dashboardTexts = Object.fromEntries(Object.entries(uiTexts).filter(([key]) => key.startsWith('ui.admin.')));
  router.get('/ui', (_req, res) => {
    res.json({ texts: visitorTexts });
  });
  router.get('/ui/dashboard', (_req, res) => {
    res.json({ texts: dashboardTexts });
  });

  router.post('/conversations', json, async (req, res) => {
    const options = conversationOptions(req);
    // Each conversation costs a row and a greeting: strangers get a bounded number of them.
    if (newConversations) {
      const address = req.ip ?? 'unknown';
      await spendOrThrow(newConversations.perAddress, address, 'new_conversations');
      await spendOrThrow(newConversations.total, 'everyone', 'new_conversations');
    }
    const { identity, token } = newConversationIdentity(new Date());
    await store.createConversation(identity);
    const replies = await engine.startConversation(identity.id, options);
    res.status(201).json({ id: identity.id, token, script: replyScriptFor(openingScript(options.locale), options.locale), replies });
  });

  router.get('/conversations/:id', async (req, res) => {
    const id = await authorize(req);
    const after = req.query.after ?? '0';
    if (typeof after !== 'string' || !/^\d{1,15}$/.test(after)) throw new HttpError(400, 'invalid_after', 'after is the seq of a transcript line (a whole number ≥ 0)');
    const [transcript, state, handoff] = await Promise.all([store.transcript(id, Number(after)), engine.describe(id), desk.handoffView(id)]);
    res.json({ id, transcript: transcript.map(publicEntry), state: state.state, script: state.script, progress: state.progress ?? null, handoff });
  });

  router.post('/conversations/:id/messages', requireJson, json, async (req, res) => {
    const id = String(req.params.id);
    const token = bearerToken(req.get('authorization'));
    // The token is checked in the conversation's queue on the row the turn reads anyway (one read a
    // turn), then the allowance is spent; a resend of a message already taken costs no allowance.
    const gate = {
      admit: (record: Parameters<typeof accessOf>[0]) => {
        const result = accessOf(record, token, access);
        if (result !== 'ok') throw new AccessRefusedError(result);
      },
      spend: () => spendOrThrow(conversationLimiter, id, 'conversation'),
    };
    let body: z.infer<typeof messageBody>;
    try {
      body = validBody(messageBody, req.body);
    } catch (error) {
      // A malformed message from someone who may not write here is told that first.
      await authorize(req);
      throw error;
    }
    const { text, displayText, clientMessageId } = body;
    const outcome = await runChannelTurn(engine, requestLog(res), {
      conversationId: id,
      channel: 'rest',
      text,
      displayText,
      options: { origin: { address: req.ip ?? 'unknown' }, gate, ...(clientMessageId === undefined ? {} : { clientMessageId }) },
    });
    if (outcome.taken) {
      res.json(turnForClients(outcome.result));
      return;
    }
    const { refusal } = outcome;
    if (refusal.reason === 'invalid_input') await authorize(req);
    sendRefusal(res, refusal, id);
  });

  router.post('/conversations/:id/rating', requireJson, json, async (req, res) => {
    const id = await authorize(req);
    const parsed = ratingBody.safeParse(req.body);
    if (!parsed.success) throw new HttpError(400, 'invalid_body', 'send {"helpful": true} or {"helpful": false}, with "answerSeq" naming the answer');
    const rated = await store.rate(id, parsed.data.helpful, new Date().toISOString(), parsed.data.answerSeq);
    if (!rated.rated) {
      throw parsed.data.answerSeq
        ? new HttpError(404, 'answer_not_found', `line ${parsed.data.answerSeq} is not an answer of this conversation`)
        : new HttpError(409, 'nothing_to_rate', 'the bot has not answered anything in this conversation yet');
    }
    res.status(204).end();
  });

  // The owner may delete their conversation at any time (PIPL): every line, ticket and rating.
  router.delete('/conversations/:id', async (req, res) => {
    const id = await authorize(req);
    await engine.exclusively(id, () => store.deleteConversation(id));
    res.status(204).end();
  });

  router.post('/parse', requireJson, json, (req, res) => {
    let text: string;
    try {
      text = checkMessageText(validBody(parseBody, req.body).text);
    } catch (error) {
      throw error instanceof DialogueInputError ? new HttpError(inputErrorStatus[error.code], error.code, error.message) : error;
    }
    const parse = engine.parser.parse(text);
    res.json({
      text: parse.redactedText,
      intent: parse.intent,
      ranking: parse.ranking.slice(0, 10),
      ambiguousBetween: parse.ambiguousBetween ?? null,
      entities: parse.method ? { method: parse.method } : {},
      secrets: parse.secrets,
    });
  });

  router.use((req, _res) => {
    throw new HttpError(404, 'not_found', `no route ${req.method} ${req.baseUrl}${req.path}`);
  });
  return router;
}

/** Transcript lines as clients see them (intents are for analytics, not for the widget). */
const publicEntry = publicLine;
