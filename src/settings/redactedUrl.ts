/** A connection URL as it may be logged or shown: its user and password (`//user:password@`) left out. */
export function redactedUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//…@');
}
