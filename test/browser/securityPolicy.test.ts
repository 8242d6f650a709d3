import { type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedConversations } from '../support/seedConversations.js';
import { startTestServer, type TestServer } from '../support/testServer.js';
import { clickQuickReply, lastBotText, launchChromium, screenshotPath, typeMessage, widgetLog } from '../support/browser.js';

/**
 * The server sends a strict Content-Security-Policy (no inline script or style, connections to
 * its own origin only). These tests use the demo page, the widget and the dashboard the way people
 * do and fail on anything the browser refuses under that policy.
 */

const adminToken = 'security-policy-test-token';
let server: TestServer;
let browser: Browser;

beforeAll(async () => {
  server = await startTestServer({ adminToken });
  await seedConversations(server.baseUrl);
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  server?.cleanup();
});

declare global {
  interface Window {
    reportPolicyViolation?: (line: string) => void;
  }
}

/**
 * A page whose policy violations and uncaught errors are collected: `securitypolicyviolation`
 * events (listened for before any page script runs, and across reloads), the console lines Chromium
 * writes for refused resources, and page errors.
 */
async function watchedPage(options: Parameters<Browser['newContext']>[0] = {}): Promise<{ context: BrowserContext; page: Page; problems: string[] }> {
  const context = await browser.newContext(options);
  const problems: string[] = [];
  await context.exposeFunction('reportPolicyViolation', (line: string) => problems.push(`violation: ${line}`));
  await context.addInitScript(() => {
    window.addEventListener(
      'securitypolicyviolation',
      (event) => window.reportPolicyViolation?.(`${event.effectiveDirective} refused ${event.blockedURI || 'inline'} (${event.sourceFile}:${event.lineNumber}) ${event.sample}`),
      true,
    );
  });
  const page = await context.newPage();
  page.on('console', (message) => {
    if (/Content Security Policy|Refused to/i.test(message.text())) problems.push(`console ${message.type()}: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  return { context, page, problems };
}

/** What the widget sends and receives over its websocket(s). */
function recordSocketFrames(page: Page): { urls: string[]; sent: Record<string, unknown>[]; received: Record<string, unknown>[] } {
  const frames = { urls: [] as string[], sent: [] as Record<string, unknown>[], received: [] as Record<string, unknown>[] };
  const parse = (payload: string | Buffer) => JSON.parse(payload.toString()) as Record<string, unknown>;
  page.on('websocket', (socket) => {
    frames.urls.push(socket.url());
    socket.on('framesent', ({ payload }) => frames.sent.push(parse(payload)));
    socket.on('framereceived', ({ payload }) => frames.received.push(parse(payload)));
  });
  return frames;
}



describe('the strict Content-Security-Policy', () => {
  it('is what the server sends with the demo page and the dashboard', async () => {
    for (const url of ['/', '/admin', '/widget.js']) {
      const response = await fetch(server.baseUrl + url);
      const policy = response.headers.get('content-security-policy') ?? '';
      expect(policy, url).toContain("script-src 'self'");
      expect(policy, url).toContain("style-src 'self'");
      expect(policy, url).toContain("connect-src 'self'");
      expect(policy, url).not.toContain('unsafe-inline');
    }
  });

  it('is watched: an inline style and an inline handler on the page are reported', async () => {
    // Without this, a watch that never fires would let every other test here pass.
    const { context, page, problems } = await watchedPage();
    await page.goto(server.baseUrl + '/');
    await page.getByTestId('wub-panel').waitFor({ state: 'visible' });
    expect(problems).toEqual([]);
    await page.evaluate(() => {
      const probe = document.createElement('div');
      probe.innerHTML = '<span style="color: red">probe</span><img src="data:," onload="document.title = 1">';
      document.body.append(probe);
    });
    await expect.poll(() => problems.join('\n')).toMatch(/violation: style-src-attr refused inline/);
    await expect.poll(() => problems.join('\n')).toMatch(/violation: script-src-attr refused inline/);
    await expect.poll(() => problems.join('\n')).toMatch(/console error: .*Content Security Policy directive 'style-src/);
    await context.close();
  }, 30_000);

  it('refuses nothing the demo page and the widget do, and the widget talks over its websocket', async () => {
    const { context, page, problems } = await watchedPage({ viewport: { width: 1024, height: 800 } });
    const frames = recordSocketFrames(page);
    const restMessages: string[] = [];
    page.on('request', (request) => {
      if (request.method() === 'POST' && /\/messages$/.test(request.url())) restMessages.push(request.url());
    });

    await page.goto(server.baseUrl + '/');
    await page.getByTestId('wub-panel').waitFor({ state: 'visible' });
    await expect.poll(() => widgetLog(page).innerText()).toContain('微信钱包解绑助手');
    // The stylesheet applied (a refused widget.css would leave the panel unstyled and in the flow).
    expect(await page.getByTestId('wub-panel').evaluate((panel) => getComputedStyle(panel).position)).toBe('fixed');
    // The socket is open and bound to the conversation before the first message.
    await expect.poll(() => frames.received.some((frame) => frame.type === 'ready'), { timeout: 10_000 }).toBe(true);
    expect(frames.urls).toEqual([server.wsUrl]);

    await clickQuickReply(page, '我要解绑钱包');
    await expect.poll(() => lastBotText(page).innerText()).toContain('余额');
    await clickQuickReply(page, '没有余额');
    await expect.poll(() => page.getByTestId('wub-progress').innerText()).toContain('第 1 / 7 步');
    await typeMessage(page, '好了');
    await expect.poll(() => page.getByTestId('wub-progress').innerText()).toContain('第 2 / 7 步');
    // The step's picture and the progress bar (width set from script) are drawn.
    expect(await lastBotText(page).getByTestId('wub-picture').locator('svg').count()).toBe(1);
    // The fill grows over a 0.3 s transition from the step before (0 of 7 done at step 1): wait for it.
    await expect.poll(() => page.locator('.wub-progress-fill').evaluate((fill) => fill.getBoundingClientRect().width)).toBeGreaterThan(0);
    await typeMessage(page, '解绑后购物记录还在吗');
    await page.getByTestId('wub-rating').waitFor({ state: 'visible', timeout: 10_000 });
    await page.getByTestId('wub-rate-helpful').click();
    await expect.poll(() => page.getByTestId('wub-rating').innerText()).toContain('谢谢你的反馈！');
    await page.screenshot({ path: screenshotPath('security-policy-widget.png') });

    // Each of the four turns went over the socket and was answered there, none over REST.
    const sentMessages = frames.sent.filter((frame) => frame.type === 'message');
    expect(sentMessages.map((frame) => frame.displayText ?? frame.text)).toEqual(['我要解绑钱包', '没有余额', '好了', '解绑后购物记录还在吗']);
    expect(frames.received.filter((frame) => frame.type === 'message').length).toBeGreaterThanOrEqual(4);
    expect(restMessages).toEqual([]);

    // A new conversation opens a new socket, also allowed.
    await page.getByTestId('wub-new').click();
    await page.getByTestId('wub-confirm-new').click(); // mid-flow, "新对话" asks first
    await expect.poll(() => frames.received.filter((frame) => frame.type === 'ready').length, { timeout: 10_000 }).toBe(2);
    expect(frames.urls).toEqual([server.wsUrl, server.wsUrl]);

    expect(problems).toEqual([]);
    await context.close();
  }, 60_000);

  it('refuses nothing the dashboard does', async () => {
    // Reduced motion turns off the chart animations (admin.js), so the screenshot shows finished charts.
    const { context, page, problems } = await watchedPage({ viewport: { width: 1280, height: 1600 }, reducedMotion: 'reduce' });
    await page.goto(`${server.baseUrl}/admin`);
    await page.getByTestId('admin-token').fill(adminToken);
    await page.getByTestId('admin-token').press('Enter');
    // The seeded conversations show up (other tests here add their own, so no exact rates).
    await expect.poll(() => page.getByTestId('admin-unanswered').innerText(), { timeout: 10_000 }).toContain('asdfghjkl');
    expect(await page.getByTestId('admin-cards').innerText()).toMatch(/\d+\.\d%/);
    await expect.poll(() => page.getByTestId('admin-ticket').count()).toBe(1);
    // Chart.js drew into its canvases (it sizes them through element.style, which the policy allows).
    const canvas = page.getByTestId('admin-funnel').locator('canvas');
    expect(await canvas.evaluate((element) => (element as HTMLCanvasElement).width)).toBeGreaterThan(0);
    // The table behind a chart, the ticket filters and closing a ticket.
    await page.getByTestId('admin-funnel').locator('summary').click();
    await expect.poll(() => page.getByTestId('admin-funnel').locator('table').isVisible()).toBe(true);
    await page.getByTestId('admin-tickets-all').click();
    await page.getByTestId('admin-close').click();
    await expect.poll(() => page.getByTestId('admin-ticket').getAttribute('data-status')).toBe('closed');
    await page.screenshot({ path: screenshotPath('security-policy-dashboard.png'), fullPage: true });

    expect(problems).toEqual([]);
    await context.close();
  }, 60_000);
});
