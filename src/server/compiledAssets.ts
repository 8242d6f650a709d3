import { createHash } from 'node:crypto';
import { brotliCompressSync, constants as zlib, gzipSync } from 'node:zlib';
import type { Request, RequestHandler } from 'express';

/**
 * A file the server sends often and never changes while it runs (the widget, the dashboard's
 * scripts): compressed once at start-up with brotli and gzip, so a phone on a slow line downloads a
 * fraction of it and the server spends no CPU per request on compressing.
 */
export interface CompiledAsset {
  readonly type: string;
  readonly identity: Buffer;
  readonly gzip: Buffer;
  readonly brotli: Buffer;
  readonly etag: string;
}

export function compiledAsset(type: string, body: string | Buffer): CompiledAsset {
  const identity = Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8');
  // Each encoding is made when a client first asks for it (brotli at its best level takes ~0.1 s per 100 KB).
  let gzip: Buffer | undefined;
  let brotli: Buffer | undefined;
  return {
    type,
    identity,
    get gzip() {
      return (gzip ??= gzipSync(identity, { level: 9 }));
    },
    get brotli() {
      return (brotli ??= brotliCompressSync(identity, {
        params: { [zlib.BROTLI_PARAM_QUALITY]: 11, [zlib.BROTLI_PARAM_SIZE_HINT]: identity.length },
      }));
    },
    etag: `"${createHash('sha256').update(identity).digest('base64url').slice(0, 27)}"`,
  };
}

/**
 * The smallest encoding this client accepts. Asked one at a time: with equal q-values express
 * answers in the client's order, and browsers list gzip before br.
 */
function encodingFor(req: Request): 'br' | 'gzip' | 'identity' {
  if (req.acceptsEncodings('br') === 'br') return 'br';
  if (req.acceptsEncodings('gzip') === 'gzip') return 'gzip';
  return 'identity';
}

/**
 * Serves one asset: revalidated with its ETag after `maxAgeSeconds` (the embed snippet names a
 * fixed URL, so a long immutable cache would keep an old widget on users' phones after an upgrade).
 */
export function serveAsset(asset: () => CompiledAsset, maxAgeSeconds = 300): RequestHandler {
  return (req, res) => {
    const current = asset();
    res.set({ 'Content-Type': current.type, ETag: current.etag, Vary: 'Accept-Encoding', 'Cache-Control': `public, max-age=${maxAgeSeconds}` });
    if (req.fresh) {
      res.status(304).end();
      return;
    }
    const encoding = encodingFor(req);
    const body = encoding === 'br' ? current.brotli : encoding === 'gzip' ? current.gzip : current.identity;
    if (encoding !== 'identity') res.set('Content-Encoding', encoding);
    res.set('Content-Length', String(body.length));
    if (req.method === 'HEAD') res.end();
    else res.end(body);
  };
}
