import type { ErrorRequestHandler, Response } from 'express';
import type { Logger } from 'pino';
import { requestLog } from './logging.js';
import { ConversationGoneError } from '../dialogue/conversationStore.js';
import { RateLimitedError } from '../limits/rateLimiter.js';
import { isStorageFailure, storageUnavailable } from '../storage/storageFailure.js';

/** An error a client caused, answered as `{ "error": { "code", "message" } }` with its status. */
export class HttpError extends Error {
  override name = 'HttpError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export function sendError(res: Response, status: number, code: string, message: string): void {
  res.status(status).json({ error: { code, message } });
}

interface BodyParserError extends Error {
  type?: string;
  status?: number;
  limit?: number;
}

/** Last in the chain: every error becomes a JSON body; only a bug is a 500, and it is logged. */
export function errorHandler(fallbackLog: Logger): ErrorRequestHandler {
  return (error: unknown, _req, res, _next) => {
    const log = requestLog(res, fallbackLog);
    if (error instanceof HttpError) return sendError(res, error.status, error.code, error.message);
    // Deleted while the message was on its way: nothing was saved.
    if (error instanceof ConversationGoneError) return sendError(res, 404, 'conversation_not_found', error.message);
    if (error instanceof RateLimitedError) {
      res.set('Retry-After', String(error.retryAfterSeconds));
      return sendError(res, 429, 'rate_limited', error.message);
    }
    if (isStorageFailure(error)) {
      // Only this request fails; the user may resend, and nothing of the turn was half-saved (one transaction).
      log.error({ err: error }, 'storage failure');
      res.set('Retry-After', '5');
      return sendError(res, 503, storageUnavailable.code, storageUnavailable.message);
    }
    const parserError = error as BodyParserError;
    if (parserError.type === 'entity.parse.failed') return sendError(res, 400, 'invalid_json', 'the request body is not valid JSON');
    if (parserError.type === 'entity.too.large') {
      return sendError(res, 413, 'body_too_large', `the request body is larger than ${Math.round((parserError.limit ?? 16_384) / 1024)} KB`);
    }
    if (parserError.type === 'encoding.unsupported' || parserError.type === 'charset.unsupported') {
      return sendError(res, 415, 'unsupported_encoding', 'send the body as UTF-8 JSON');
    }
    if (typeof parserError.status === 'number' && parserError.status >= 400 && parserError.status < 500) {
      return sendError(res, parserError.status, 'bad_request', parserError.message);
    }
    log.error({ err: error }, 'request failed');
    if (!res.headersSent) sendError(res, 500, 'internal_error', 'something went wrong on our side; please try again');
  };
}
