import type { Browser, WebSocket as PageSocket } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/testServer.js';
import { lastBotText, launchChromium, typeMessage, widgetLog } from '../support/browser.js';

const idleMs = 1500;
let server: TestServer;
let browser: Browser;

beforeAll(async () => {
  server = await startTestServer({ socketTimeouts: { helloMs: 5000, idleMs, pingIntervalMs: 500 } });
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  server?.cleanup();
});

describe('the widget when the server closes its unused socket', () => {
  it('shows no connection trouble and opens no new socket until the user writes; the message is answered and the socket is back', async () => {
    const page = await browser.newPage();
    const sockets: { socket: PageSocket; closed: boolean }[] = [];
    page.on('websocket', (socket) => {
      const entry = { socket, closed: false };
      sockets.push(entry);
      socket.on('close', () => (entry.closed = true));
    });
    await page.goto(server.baseUrl + '/');
    await expect.poll(() => widgetLog(page).innerText()).toContain('微信钱包解绑助手');
    await expect.poll(() => sockets.length).toBe(1);

    // Reading a long answer: nothing is sent either way, so the server closes the socket.
    await expect.poll(() => sockets[0]!.closed, { timeout: idleMs * 4 }).toBe(true);
    // A drop would be reconnected within a second, with a notice; an idle close waits for the user.
    await new Promise((resolve) => setTimeout(resolve, 2000));
    expect(sockets).toHaveLength(1);
    expect(await page.getByTestId('wub-notice').isVisible()).toBe(false);

    await typeMessage(page, '我要解绑');
    await expect.poll(() => lastBotText(page).innerText(), { timeout: 10_000 }).toContain('余额');
    await expect.poll(() => sockets.filter((entry) => !entry.closed).length).toBe(1);
    expect(await page.getByTestId('wub-notice').isVisible()).toBe(false);
    await page.close();
  }, 60_000);
});
