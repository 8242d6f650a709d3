import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, typeMessage, widgetLog } from '../support/browser.js';
import { startTestServer, type TestServer } from '../support/testServer.js';

let server: TestServer;
let browser: Browser;

beforeAll(async () => {
  server = await startTestServer();
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  server?.cleanup();
});

/** What the user's bubbles say, and how many bot lines a tab shows. */
const userBubbles = (page: import('playwright-core').Page) => widgetLog(page).locator('[data-role="user"]').allInnerTexts();
const botLines = async (page: import('playwright-core').Page) => (await widgetLog(page).locator('[data-role="bot"]').count());

describe('one conversation in two tabs', () => {
  it("shows what the user sent in one tab in the other too, in its stored (redacted) form, with the bot's replies after it", async () => {
    // One browser profile: both tabs find the same conversation in localStorage.
    const context = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    const first = await context.newPage();
    await first.goto(server.baseUrl + '/');
    await first.getByTestId('wub-panel').waitFor({ state: 'visible' });
    await expect.poll(() => botLines(first)).toBe(1);
    const second = await context.newPage();
    await second.goto(server.baseUrl + '/');
    await second.getByTestId('wub-panel').waitFor({ state: 'visible' });
    await expect.poll(() => botLines(second)).toBe(1);
    // Time for the second tab's socket to say hello before the first one sends.
    await second.waitForTimeout(500);

    await typeMessage(first, '我要解绑，手机号13812345678');
    await expect.poll(() => userBubbles(second), { timeout: 10_000 }).toHaveLength(1);
    const [shown] = await userBubbles(second);
    expect(shown).toContain('[手机号]');
    expect(shown).not.toContain('13812345678');
    await expect.poll(() => botLines(second), { timeout: 10_000 }).toBeGreaterThan(1);
    // The user's line comes before the replies to it, as in the tab that sent it.
    const order = await widgetLog(second).locator('[data-role]').evaluateAll((rows) => rows.map((row) => row.getAttribute('data-role')));
    expect(order.indexOf('user')).toBe(1);
    // A reload reads the transcript: the line is there once, not twice.
    await second.reload();
    await second.getByTestId('wub-panel').waitFor({ state: 'visible' });
    await expect.poll(() => userBubbles(second)).toHaveLength(1);
    expect(await userBubbles(first)).toHaveLength(1);
    await context.close();
  }, 60_000);
});
