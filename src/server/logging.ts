import { randomUUID } from 'node:crypto';
import type { RequestHandler, Response } from 'express';
import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger };

/**
 * One JSON line per event on stdout (LOG_LEVEL, default info). Nothing users type is logged: turn
 * lines carry the intent and state, never the text, so a secret cannot leak into the logs even
 * where redaction would miss it. Header and token fields are censored in case an error carries them.
 */
export function createLogger(destination?: DestinationStream, level = process.env.LOG_LEVEL ?? 'info'): Logger {
  const options = {
    level,
    base: { service: 'wallet-unbind-bot' },
    redact: { paths: ['token', '*.token', 'authorization', '*.authorization', 'headers.authorization', 'req.headers.authorization'], censor: '[redacted]' },
  };
  return destination ? pino(options, destination) : pino(options);
}

/** A request id a client or proxy may pass on; anything else is replaced by our own. */
const requestIdPattern = /^[A-Za-z0-9._:-]{1,64}$/;

/**
 * Gives every request an id (echoed as X-Request-Id) and a child logger carrying it, and logs one
 * line when the response is done. Support can quote the id from a user's error to find the turn.
 */
export function requestLogging(log: Logger): RequestHandler {
  return (req, res, next) => {
    const offered = req.get('x-request-id');
    const requestId = offered && requestIdPattern.test(offered) ? offered : randomUUID();
    // The child logger is made only for a handler that logs (a turn, an error): most requests log
    // just the line below, and a child per request was the request log's largest cost (bench:middleware).
    let child: Logger | undefined;
    Object.defineProperty(res.locals, 'log', { get: () => (child ??= log.child({ requestId })), enumerable: true });
    res.locals.requestId = requestId;
    res.setHeader('X-Request-Id', requestId);
    const started = performance.now();
    // Read now: routers rewrite req.url while the request passes through them.
    const requestPath = req.path;
    res.on('finish', () => {
      const line = { requestId, method: req.method, path: requestPath, status: res.statusCode, ms: Number((performance.now() - started).toFixed(1)) };
      if (res.statusCode >= 500) log.error(line, 'request');
      else log.info(line, 'request');
    });
    next();
  };
}

/** The request's logger (with its id), or the given one outside a request. */
export function requestLog(res: Response, fallback?: Logger): Logger {
  const log = res.locals.log as Logger | undefined;
  if (log) return log;
  if (fallback) return fallback;
  throw new Error('requestLogging must run before handlers that log');
}
