import type { RequestHandler } from 'express';

/**
 * CORS for pages that embed the widget from another origin. The API authenticates with bearer
 * tokens, never cookies, so allowing an origin lets its pages talk to the bot but gives them
 * nothing of anyone else's. `allowed` is ALLOWED_ORIGINS split on commas; "*" allows every page.
 */
export function corsForEmbedding(allowed: readonly string[]): RequestHandler {
  const any = allowed.includes('*');
  return (req, res, next) => {
    const origin = req.get('origin');
    if (origin && (any || allowed.includes(origin))) {
      res.set('Access-Control-Allow-Origin', any ? '*' : origin);
      res.set('Access-Control-Allow-Headers', 'Authorization, Content-Type');
      res.set('Access-Control-Allow-Methods', 'GET, POST');
      res.set('Access-Control-Max-Age', '600');
      res.set('Access-Control-Expose-Headers', 'Retry-After, X-Request-Id');
    }
    res.vary('Origin');
    if (req.method === 'OPTIONS') {
      res.status(204).end();
      return;
    }
    next();
  };
}

export function parseAllowedOrigins(value: string | undefined): string[] {
  return (value ?? '*').split(',').map((origin) => origin.trim()).filter(Boolean);
}
