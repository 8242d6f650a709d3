import { BASE, scriptUrl } from './config.js';
import { asText, el } from './dom.js';

// ---------------------------------------------------------------- HTTP

export class HttpError extends Error {
  constructor(method, path, status, code, serverMessage) {
    super(`${method} ${path} answered ${status}${code ? ` (${code})` : ''}`);
    this.name = 'HttpError';
    this.status = status;
    this.code = code;
    this.serverMessage = serverMessage;
  }
}

export class NetworkError extends Error {
  constructor(method, path, cause) {
    super(`${method} ${path} failed: ${cause && cause.message}`);
    this.name = 'NetworkError';
  }
}

// 401/403/404 on a conversation: the stored id/token can no longer be used.
export const isConversationGone = (error) => error instanceof HttpError && [401, 403, 404].includes(error.status);

export async function request(method, path, { body, token } = {}) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (token) headers.Authorization = `Bearer ${token}`;
  let response;
  try {
    response = await fetch(`${BASE}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: 'no-store',
    });
  } catch (error) {
    throw new NetworkError(method, path, error);
  }
  const data = await response.json().catch(() => null);
  if (!response.ok) {
    const error = data && typeof data.error === 'object' && data.error ? data.error : {};
    throw new HttpError(method, path, response.status, asText(error.code), asText(error.message));
  }
  return data || {};
}

export function loadStylesheet() {
  const href = new URL('widget.css', scriptUrl).href;
  const existing = [...document.querySelectorAll('link[rel~="stylesheet"]')].find((link) => link.href === href);
  // The host page linked it already (loading alongside widget.js): wait for it if it is still on its way.
  if (existing) return existing.sheet ? Promise.resolve() : new Promise((resolve) => {
    existing.addEventListener('load', resolve, { once: true });
    existing.addEventListener('error', resolve, { once: true });
  });
  return new Promise((resolve) => {
    const link = el('link', { rel: 'stylesheet', href });
    link.addEventListener('load', resolve);
    link.addEventListener('error', resolve);
    document.head.append(link);
  });
}

export const conversationPath = (id, suffix = '') => `/api/conversations/${encodeURIComponent(id)}${suffix}`;
