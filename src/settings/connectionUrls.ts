/** `postgres://` or `postgresql://` with a host: what the pg driver can connect to (DATABASE_URL). */
export function isPostgresUrl(value: string): boolean {
  return urlWithHost(value, ['postgres:', 'postgresql:']);
}

/** `redis://` or `rediss://` with a host (REDIS_URL). */
export function isRedisUrl(value: string): boolean {
  return urlWithHost(value, ['redis:', 'rediss:']);
}

function urlWithHost(value: string, protocols: string[]): boolean {
  try {
    const url = new URL(value);
    return protocols.includes(url.protocol) && url.hostname !== '';
  } catch {
    return false;
  }
}

/** A connection URL as it may be logged or shown: its user and password (`//user:password@`) left out. */
export function redactedUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//…@');
}
