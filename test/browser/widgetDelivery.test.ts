import { type Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { serveDuringTests } from '../support/testServer.js';
import { chromiumDuringTests, clickQuickReply, phoneAndDesktop, screenshotPath, typeMessage, widgetLog } from '../support/browser.js';

const server = serveDuringTests();
const browser = chromiumDuringTests();

const sizes = phoneAndDesktop;

async function openWidget(size: (typeof sizes)[number]): Promise<{ page: Page; errors: string[] }> {
  const context = await browser.newContext({ viewport: size.viewport, isMobile: size.isMobile, hasTouch: size.hasTouch, locale: 'zh-CN' });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  await page.goto(server.baseUrl + '/');
  await page.getByTestId('wub-panel').waitFor({ state: 'visible' });
  await expect.poll(() => widgetLog(page).locator('[data-role="bot"]').count()).toBeGreaterThan(0);
  return { page, errors };
}

const userBubbles = (page: Page) => widgetLog(page).locator('[data-role="user"]');

describe.each(sizes)('what the user sent ($name)', (size) => {
  it('a card number typed into the chat disappears from the user’s own bubble at once, and the warning looks like one', async () => {
    const { page, errors } = await openWidget(size);
    const card = '6222 0212 3456 7890 123';
    await typeMessage(page, `我的卡号是 ${card} 怎么解绑`);
    await expect.poll(() => userBubbles(page).last().innerText(), { timeout: 10_000 }).not.toContain('7890');
    expect(await userBubbles(page).last().innerText()).not.toContain(card);
    // The bot's warning about it carries the warning tone, whatever its words.
    await expect.poll(() => widgetLog(page).locator('[data-tone="warning"]').count()).toBe(1);
    await page.screenshot({ path: screenshotPath(`widget-redacted-${size.name}.png`) });
    // Nowhere on the page, not even in an attribute.
    expect(await page.content()).not.toContain('7890');
    expect(errors).toEqual([]);
    await page.context().close();
  }, 60_000);

  it('a quick reply tapped while offline stays on screen as not sent, and is delivered once the network is back', async () => {
    const { page, errors } = await openWidget(size);
    await page.context().setOffline(true);
    // Going offline is said at once, under the transcript, not over its last row of buttons.
    await page.getByTestId('wub-notice').waitFor({ state: 'visible' });
    const layout = await page.evaluate(() => ({
      transcriptBottom: document.querySelector('.wub-scroll')!.getBoundingClientRect().bottom,
      noticeTop: document.querySelector('[data-testid="wub-notice"]')!.getBoundingClientRect().top,
    }));
    expect(layout.transcriptBottom).toBeLessThanOrEqual(layout.noticeTop + 0.5);
    await clickQuickReply(page, '我要解绑钱包');
    // The bubble stays, marked as waiting, and the offline notice says it will go later.
    await page.getByTestId('wub-failed').waitFor({ state: 'visible' });
    expect(await userBubbles(page).last().innerText()).toContain('我要解绑钱包');
    expect(await page.locator('.wub-root').getAttribute('class')).toContain('wub-offline');
    await page.screenshot({ path: screenshotPath(`widget-offline-${size.name}.png`) });
    await page.context().setOffline(false);
    // Back online: it is sent by itself and answered (the balance question comes with its buttons).
    await page.getByTestId('wub-failed').waitFor({ state: 'detached', timeout: 15_000 });
    await expect.poll(() => page.getByTestId('wub-quick-replies').innerText(), { timeout: 15_000 }).toContain('没有余额');
    expect(await page.getByTestId('wub-notice').isVisible()).toBe(false);
    // Said once: the transcript has the user's line a single time.
    const conversation = await page.evaluate(() => Object.entries(localStorage).find(([key]) => key.startsWith('wub.conversation.'))?.[1]);
    const { id, token } = JSON.parse(conversation!) as { id: string; token: string };
    const transcript = ((await (await fetch(`${server.baseUrl}/api/conversations/${id}`, { headers: { authorization: `Bearer ${token}` } })).json()) as {
      transcript: { role: string }[];
    }).transcript;
    expect(transcript.filter((line) => line.role === 'user')).toHaveLength(1);
    expect(errors).toEqual([]);
    await page.context().close();
  }, 60_000);
});
