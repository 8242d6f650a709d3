import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/testServer.js';
import { clickQuickReply, lastBotText, launchChromium, screenshotPath, typeMessage, widgetLog } from '../support/browser.js';

/**
 * The widget on a shop's page: the page comes from one origin, widget.js and the bot's API from
 * another. ALLOWED_ORIGINS decides whether that page may talk to the bot.
 */

let browser: Browser;
let hostPages: Server;
let hostOrigin: string;

/** The shop's page, embedding the widget of the bot on `botPort` as the README tells site owners to. */
function hostPage(botPort: string): string {
  return `<!doctype html>
<html lang="zh-CN">
  <head><meta charset="utf-8" /><title>某某商城 · 帮助中心</title></head>
  <body>
    <h1>帮助中心</h1>
    <p>有关钱包和支付的问题，可以问右下角的助手。</p>
    <script src="http://127.0.0.1:${botPort}/widget.js" defer data-open="true"></script>
  </body>
</html>`;
}

beforeAll(async () => {
  // GET /shop/<port>: a page of another origin (another port) that embeds the bot listening on <port>.
  hostPages = createServer((req, res) => {
    const match = /^\/shop\/(\d+)$/.exec(req.url ?? '');
    if (req.url === '/favicon.ico') {
      res.writeHead(204).end();
      return;
    }
    if (!match) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(hostPage(match[1]!));
  });
  await new Promise<void>((resolve) => hostPages.listen(0, '127.0.0.1', resolve));
  hostOrigin = `http://127.0.0.1:${(hostPages.address() as AddressInfo).port}`;
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => hostPages?.close(resolve));
});

interface EmbeddingPage {
  page: Page;
  /** Uncaught errors on the page. */
  pageErrors: string[];
  /** Console errors (the browser's own CORS messages land here). */
  consoleErrors: string[];
  consoleWarnings: string[];
  /** Requests the browser gave up on, as "METHOD url: reason". */
  failedRequests: string[];
  sockets: { url: string; received: Record<string, unknown>[] }[];
}

async function openShopPage(bot: TestServer): Promise<EmbeddingPage> {
  const page = await browser.newPage({ viewport: { width: 1024, height: 760 } });
  const watched: EmbeddingPage = { page, pageErrors: [], consoleErrors: [], consoleWarnings: [], failedRequests: [], sockets: [] };
  page.on('pageerror', (error) => watched.pageErrors.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error') watched.consoleErrors.push(message.text());
    if (message.type() === 'warning') watched.consoleWarnings.push(message.text());
  });
  page.on('requestfailed', (request) => watched.failedRequests.push(`${request.method()} ${request.url()}: ${request.failure()?.errorText}`));
  page.on('websocket', (socket) => {
    const record = { url: socket.url(), received: [] as Record<string, unknown>[] };
    watched.sockets.push(record);
    socket.on('framereceived', ({ payload }) => record.received.push(JSON.parse(payload.toString()) as Record<string, unknown>));
  });
  await page.goto(`${hostOrigin}/shop/${bot.port}`);
  await page.getByTestId('wub-panel').waitFor({ state: 'visible' });
  return watched;
}

const conversationCount = (bot: TestServer) => (bot.store.db.prepare('SELECT COUNT(*) AS count FROM conversations').get() as { count: number }).count;

describe('the widget embedded on a page of another origin', () => {
  describe('that ALLOWED_ORIGINS lists', () => {
    let bot: TestServer;
    beforeAll(async () => {
      bot = await startTestServer({ allowedOrigins: [hostOrigin] });
    });
    afterAll(async () => {
      await bot?.stop();
      bot?.cleanup();
    });

    it('greets in Chinese, takes turns over the websocket, and restores the conversation over REST after a reload', async () => {
      const { page, pageErrors, consoleErrors, failedRequests, sockets } = await openShopPage(bot);
      expect(new URL(page.url()).origin).not.toBe(bot.baseUrl);
      // /api/ui (CORS GET) gave the Chinese labels; POST /api/conversations (preflighted) the greeting.
      await expect.poll(() => widgetLog(page).innerText(), { timeout: 10_000 }).toContain('微信钱包解绑助手');
      expect(await page.getByTestId('wub-send').innerText()).toBe('发送');
      // widget.css came from the bot's origin and applies.
      expect(await page.getByTestId('wub-panel').evaluate((panel) => getComputedStyle(panel).position)).toBe('fixed');
      // The socket to the bot's origin passed its Origin check and bound the conversation.
      await expect.poll(() => sockets.some((socket) => socket.received.some((frame) => frame.type === 'ready')), { timeout: 10_000 }).toBe(true);
      expect(sockets.map((socket) => socket.url)).toEqual([bot.wsUrl]);

      await clickQuickReply(page, '我要解绑钱包');
      await expect.poll(() => lastBotText(page).innerText()).toContain('余额');
      await typeMessage(page, '没有余额');
      await expect.poll(() => page.getByTestId('wub-progress').innerText()).toContain('第 1 / 7 步');
      const socketReplies = sockets[0]!.received.filter((frame) => frame.type === 'message').map((frame) => frame.text);
      expect(socketReplies.some((text) => String(text).includes('余额'))).toBe(true);
      await page.screenshot({ path: screenshotPath('embedding-allowed.png') });

      // GET /api/conversations/:id with the bearer token (preflighted) brings the history back.
      await page.reload();
      await page.getByTestId('wub-panel').waitFor({ state: 'visible' });
      await expect.poll(() => page.getByTestId('wub-progress').innerText(), { timeout: 10_000 }).toContain('第 1 / 7 步');
      expect(await widgetLog(page).locator('[data-role="user"]').allInnerTexts()).toEqual(['我要解绑钱包', '没有余额']);
      expect(conversationCount(bot)).toBe(1);

      expect(pageErrors).toEqual([]);
      expect(consoleErrors).toEqual([]);
      expect(failedRequests).toEqual([]);
      await page.close();
    }, 60_000);

    it('tells the user, in Chinese, to check their connection when the bot cannot be reached at all', async () => {
      // widget.js loads, then every request to the bot fails as if the network were gone.
      const page = await browser.newPage();
      const pageErrors: string[] = [];
      page.on('pageerror', (error) => pageErrors.push(error.message));
      await page.route((url) => url.origin === bot.baseUrl && url.pathname !== '/widget.js' && url.pathname !== '/widget.css', (route) => route.abort('connectionrefused'));
      await page.goto(`${hostOrigin}/shop/${bot.port}`);
      const notice = page.getByTestId('wub-notice');
      await notice.waitFor({ state: 'visible', timeout: 10_000 });
      // The labels come with widget.js: with no request answered, the widget still speaks Chinese.
      const { texts } = (await (await fetch(`${bot.baseUrl}/api/ui`)).json()) as { texts: Record<string, string> };
      expect(await notice.innerText()).toBe(texts['ui.widget.connectionLost']);
      expect(await page.getByTestId('wub-typing').isVisible()).toBe(false);
      expect(pageErrors).toEqual([]);
      await page.close();
    }, 30_000);
  });

  describe('that ALLOWED_ORIGINS does not list', () => {
    let bot: TestServer;
    beforeAll(async () => {
      bot = await startTestServer({ allowedOrigins: ['https://shop.example'] });
    });
    afterAll(async () => {
      await bot?.stop();
      bot?.cleanup();
    });

    it('is refused by CORS, starts no conversation, and says so instead of hanging', async () => {
      const { page, pageErrors, consoleErrors, consoleWarnings, failedRequests, sockets } = await openShopPage(bot);
      const notice = page.getByTestId('wub-notice');
      await notice.waitFor({ state: 'visible', timeout: 10_000 });
      expect(await notice.getAttribute('data-kind')).toBe('connection');
      // The labels (GET /api/ui) are public, so the widget says so in Chinese; the server is
      // reachable, so it does not tell the user to check their connection.
      const { texts } = (await (await fetch(`${bot.baseUrl}/api/ui`)).json()) as { texts: Record<string, string> };
      expect(await notice.innerText()).toBe(texts['ui.widget.error.origin_not_allowed']);
      // The site's developer learns which setting to change.
      expect(consoleWarnings.filter((line) => line.includes('ALLOWED_ORIGINS') && line.includes(hostOrigin))).toHaveLength(1);
      expect(await page.getByTestId('wub-typing').isVisible()).toBe(false);
      expect(await widgetLog(page).locator('[data-role="bot"]').count()).toBe(0);
      await page.screenshot({ path: screenshotPath('embedding-refused.png') });

      // The browser refused the answers: the preflight of POST /api/conversations, and /api/ui.
      expect(failedRequests.some((line) => line.startsWith(`POST ${bot.baseUrl}/api/conversations:`))).toBe(true);
      expect(failedRequests.some((line) => line.startsWith(`GET ${bot.baseUrl}/api/ui:`))).toBe(false);
      expect(consoleErrors.some((line) => /blocked by CORS policy/.test(line))).toBe(true);

      // A message typed anyway is not lost: it stays in the box, and nothing reaches the bot.
      await typeMessage(page, '怎么解绑钱包');
      await expect.poll(() => failedRequests.filter((line) => line.startsWith(`POST ${bot.baseUrl}/api/conversations:`)).length).toBe(2);
      await expect.poll(() => page.getByTestId('wub-input').inputValue()).toBe('怎么解绑钱包');
      expect(await widgetLog(page).locator('[data-role="user"]').count()).toBe(0);
      expect(await notice.isVisible()).toBe(true);
      expect(await page.getByTestId('wub-typing').isVisible()).toBe(false);

      expect(conversationCount(bot)).toBe(0);
      expect(sockets).toEqual([]);
      expect(pageErrors).toEqual([]);
      await page.close();
    }, 60_000);
  });
});
