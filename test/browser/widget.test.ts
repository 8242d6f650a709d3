import { type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/testServer.js';
import { clickQuickReply, lastBotText, launchChromium, screenshotPath, typeMessage, widgetLog } from '../support/browser.js';

/** Debian's Chromium; test tools may not download browsers here. */

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

/** A phone-sized page on the demo site, with any alert() recorded. */
async function openPhonePage(): Promise<{ page: Page; dialogs: string[] }> {
  const context = await browser.newContext({ viewport: { width: 375, height: 740 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
  const page = await context.newPage();
  const dialogs: string[] = [];
  page.on('dialog', (dialog) => {
    dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  await page.goto(server.baseUrl + '/');
  await page.getByTestId('wub-panel').waitFor({ state: 'visible' });
  return { page, dialogs };
}



async function expectProgress(page: Page, step: number): Promise<void> {
  await expect.poll(() => page.getByTestId('wub-progress').innerText(), { timeout: 10_000 }).toContain(`第 ${step} / 7 步`);
}

describe('the chat widget in a real browser (375 px phone)', () => {
  it('walks the whole unbinding by clicking and typing, survives a reload and a server restart, and renders text as text', async () => {
    const { page, dialogs } = await openPhonePage();
    await expect.poll(() => widgetLog(page).innerText()).toContain('微信钱包解绑助手');

    await clickQuickReply(page, '我要解绑钱包');
    await expect.poll(() => lastBotText(page).innerText()).toContain('余额');
    await clickQuickReply(page, '没有余额');
    await expectProgress(page, 1);
    // Step 1's picture is inside its message (the strip only names the step).
    expect(await lastBotText(page).locator('[data-picture="step1"] svg').count()).toBe(1);
    // The user's bubble shows the button's title, not its payload.
    expect(await widgetLog(page).innerText()).not.toContain('/deny');

    await typeMessage(page, '好了');
    await expectProgress(page, 2);
    await typeMessage(page, '找不到');
    await expect.poll(() => lastBotText(page).innerText()).toContain('最右边');

    // Reload in the middle of the flow: the history and the step come back from the server.
    await page.reload();
    await page.getByTestId('wub-panel').waitFor({ state: 'visible' });
    await expectProgress(page, 2);
    await expect.poll(() => widgetLog(page).innerText()).toContain('第 1 步');
    await clickQuickReply(page, '好了，下一步');
    await expectProgress(page, 3);
    await page.screenshot({ path: screenshotPath('widget-phone-step3.png') });

    // The server restarts on the same port and database: the widget reconnects and the flow continues.
    const { databaseFile, port } = server;
    await server.stop();
    server = await startTestServer({ databaseFile, port });
    await typeMessage(page, '好了');
    await expectProgress(page, 4);

    // A question in the middle is answered, then the same step again.
    await typeMessage(page, '解绑后购物记录还在吗');
    await expect.poll(() => widgetLog(page).innerText()).toContain('支付记录、消费历史和账单');
    await expectProgress(page, 4);

    for (const step of [5, 6, 7]) {
      await clickQuickReply(page, '好了，下一步');
      await expectProgress(page, step);
    }
    await clickQuickReply(page, '短信验证码');
    await expect.poll(() => lastBotText(page).innerText()).toContain('验证通过了吗');
    await clickQuickReply(page, '通过了');
    await clickQuickReply(page, '已经解绑了');
    await expect.poll(() => widgetLog(page).innerText()).toContain('解绑完成');
    // The strip does not vanish: it says the unbinding is done, with the bar full only now.
    await expect.poll(() => page.getByTestId('wub-progress').getAttribute('data-status')).toBe('done');
    expect(await page.getByTestId('wub-progress').locator('.wub-progress-fill').evaluate((fill) => fill.style.width)).toBe('100%');

    // Untrusted text is shown literally, never parsed as HTML.
    const attack = '<img src=x onerror=alert(1)>';
    await typeMessage(page, attack);
    await expect.poll(() => widgetLog(page).locator('[data-role="user"]').last().innerText()).toBe(attack);
    expect(await widgetLog(page).locator('img').count()).toBe(0);
    expect(dialogs).toEqual([]);

    await page.screenshot({ path: screenshotPath('widget-phone.png') });
    await page.context().close();
  }, 120_000);

  it('is usable from the keyboard and announces new messages to screen readers', async () => {
    const { page } = await openPhonePage();
    expect(await widgetLog(page).getAttribute('aria-live')).toBe('polite');
    expect(await widgetLog(page).getAttribute('role')).toBe('log');
    // On a touch screen the input is not focused on open (the keyboard would cover the greeting): the user taps it.
    expect(await page.evaluate(() => document.activeElement?.getAttribute('data-testid'))).not.toBe('wub-input');
    await page.getByTestId('wub-input').tap();
    await expect.poll(() => page.evaluate(() => document.activeElement?.getAttribute('data-testid'))).toBe('wub-input');
    await page.keyboard.type('你好');
    await page.keyboard.press('Enter');
    await expect.poll(() => widgetLog(page).locator('[data-role="bot"]').count()).toBeGreaterThan(1);
    await page.keyboard.press('Escape');
    await expect.poll(() => page.getByTestId('wub-panel').isVisible()).toBe(false);
    await expect.poll(() => page.evaluate(() => document.activeElement?.getAttribute('data-testid'))).toBe('wub-bubble');
    await page.keyboard.press('Enter');
    await expect.poll(() => page.getByTestId('wub-panel').isVisible()).toBe(true);
    // Nothing overflows the phone screen sideways.
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
    await page.context().close();
  }, 60_000);

  it('asks whether an answer helped, and stores the one-tap rating', async () => {
    const { page } = await openPhonePage();
    await expect.poll(() => widgetLog(page).innerText()).toContain('微信钱包解绑助手');
    expect(await page.getByTestId('wub-rating').count()).toBe(0);

    await typeMessage(page, '解绑后记录还在吗');
    await page.getByTestId('wub-rating').waitFor({ state: 'visible', timeout: 10_000 });
    expect(await page.getByTestId('wub-rating').innerText()).toContain('这个回答有帮助吗？');
    await page.getByTestId('wub-rate-helpful').click();
    await expect.poll(() => page.getByTestId('wub-rating').innerText()).toContain('谢谢你的反馈！');
    expect(await page.getByTestId('wub-rating').locator('button').count()).toBe(0);

    const rows = await server.store.analyticsRows('2000-01-01T00:00:00.000Z', '2100-01-01T00:00:00.000Z');
    expect(rows.ratings.some((rating) => rating.helpful)).toBe(true);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
    await page.context().close();
  }, 60_000);
});
