import { describe, expect, it } from 'vitest';
import { serveDuringTests } from '../support/testServer.js';

const server = serveDuringTests({ adminToken: 'dashboard-token' });

describe('security headers', () => {
  it.each(['/', '/admin/', '/api/ui', '/healthz'])('%s has a strict Content-Security-Policy and helmet\'s headers', async (route) => {
    const response = await fetch(`${server.baseUrl}${route}`);
    expect(response.status).toBe(200);
    const policy = response.headers.get('content-security-policy') ?? '';
    expect(policy).toContain("default-src 'self'");
    expect(policy).toContain("script-src 'self'");
    expect(policy).not.toContain('unsafe-inline');
    expect(policy).toContain("frame-ancestors 'self'");
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('strict-transport-security')).toContain('max-age=');
    expect(response.headers.get('x-powered-by')).toBeNull();
  });

  it('lets other origins load the widget files (which pages may then talk to the bot is ALLOWED_ORIGINS\' job)', async () => {
    for (const file of ['/widget.js', '/widget.css']) {
      expect((await fetch(`${server.baseUrl}${file}`)).headers.get('cross-origin-resource-policy')).toBe('cross-origin');
    }
  });

  it('serves pages with no inline script or style for the policy to block', async () => {
    for (const page of ['/', '/admin/']) {
      const html = await (await fetch(`${server.baseUrl}${page}`)).text();
      expect(html).not.toMatch(/<style|<script(?![^>]*\bsrc=)|\son[a-z]+=|style="/i);
    }
  });
});
