import type { ErrorRequestHandler, Response } from 'express';

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
}

/** Last in the chain: every error becomes a JSON body; only a bug is a 500, and it is logged. */
export function errorHandler(log: (message: string, error: unknown) => void): ErrorRequestHandler {
  return (error: unknown, _req, res, _next) => {
    if (error instanceof HttpError) return sendError(res, error.status, error.code, error.message);
    const parserError = error as BodyParserError;
    if (parserError.type === 'entity.parse.failed') return sendError(res, 400, 'invalid_json', 'the request body is not valid JSON');
    if (parserError.type === 'entity.too.large') return sendError(res, 413, 'body_too_large', 'the request body is larger than 16 KB');
    if (parserError.type === 'encoding.unsupported' || parserError.type === 'charset.unsupported') {
      return sendError(res, 415, 'unsupported_encoding', 'send the body as UTF-8 JSON');
    }
    if (typeof parserError.status === 'number' && parserError.status >= 400 && parserError.status < 500) {
      return sendError(res, parserError.status, 'bad_request', parserError.message);
    }
    log('request failed', error);
    if (!res.headersSent) sendError(res, 500, 'internal_error', 'something went wrong on our side; please try again');
  };
}
