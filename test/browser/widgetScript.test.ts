import { type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labelsInScript } from '../../src/nlu/scriptConverter.js';
import { loadContent } from '../../src/content/loadContent.js';
import { startTestServer, type TestServer } from '../support/testServer.js';
import { clickQuickReply, launchChromium, phoneAndDesktop, screenshotPath, typeMessage } from '../support/browser.js';

let server: TestServer;
let browser: Browser;
let simplified: Record<string, string>;
const content = loadContent();

beforeAll(async () => {
  server = await startTestServer();
  browser = await launchChromium();
  simplified = ((await (await fetch(`${server.baseUrl}/api/ui`)).json()) as { texts: Record<string, string> }).texts;
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  server?.cleanup();
});

const sizes = phoneAndDesktop;

async function openWidget(size: (typeof sizes)[number], locale: string): Promise<{ page: Page; errors: string[] }> {
  const context = await browser.newContext({ viewport: size.viewport, isMobile: size.isMobile, hasTouch: size.hasTouch, locale });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  await page.goto(server.baseUrl + '/');
  await page.getByTestId('wub-panel').waitFor({ state: 'visible' });
  await expect.poll(() => page.getByTestId('wub-log').locator('[data-role="bot"]').count()).toBeGreaterThan(0);
  return { page, errors };
}

const title = (page: Page) => page.locator('.wub-title').innerText();
const sendLabel = (page: Page) => page.getByTestId('wub-send').innerText();

describe.each(sizes)('the widget in the reader’s script ($name)', (size) => {
  it('a Taiwan browser gets a traditional interface and greeting at once, worded for Taiwan', async () => {
    const { page, errors } = await openWidget(size, 'zh-TW');
    const taiwan = labelsInScript(simplified, 'hant-tw', content.wording);
    expect(await title(page)).toBe(taiwan['ui.widget.title']);
    expect(await sendLabel(page)).toBe(taiwan['ui.widget.send']);
    expect(await page.locator('.wub-root').getAttribute('lang')).toBe('zh-TW');
    // The greeting came in traditional too: it differs from the simplified greeting the server stores as the response.
    const greeting = await page.getByTestId('wub-log').locator('[data-role="bot"]').first().innerText();
    expect(greeting).not.toBe(content.responses.get('greet')!.text);
    await page.screenshot({ path: screenshotPath(`widget-zh-TW-${size.name}.png`) });
    expect(errors).toEqual([]);
    await page.context().close();
  }, 60_000);

  it('a reader who types traditional in a simplified browser sees the interface follow the answers', async () => {
    const { page, errors } = await openWidget(size, 'zh-CN');
    expect(await title(page)).toBe(simplified['ui.widget.title']);
    await typeMessage(page, '錢包怎麼解綁');
    const taiwan = labelsInScript(simplified, 'hant-tw', content.wording);
    await expect.poll(() => title(page), { timeout: 10_000 }).toBe(taiwan['ui.widget.title']);
    expect(await page.getByTestId('wub-input').getAttribute('placeholder')).toBe(taiwan['ui.widget.placeholder']);
    expect(errors).toEqual([]);
    await page.context().close();
  }, 60_000);

  it('the progress strip counts completed steps and says the unbinding was cancelled instead of vanishing', async () => {
    const { page, errors } = await openWidget(size, 'zh-CN');
    await clickQuickReply(page, '我要解绑钱包');
    await clickQuickReply(page, '没有余额');
    const strip = page.getByTestId('wub-progress');
    await strip.waitFor({ state: 'visible' });
    // At step 1 nothing is completed yet: the bar is empty.
    expect(await strip.locator('.wub-progress-fill').evaluate((fill) => fill.style.width)).toBe('0%');
    await typeMessage(page, '好了');
    await expect.poll(() => strip.locator('.wub-progress-fill').evaluate((fill) => fill.style.width)).not.toBe('0%');
    await typeMessage(page, '取消');
    await expect.poll(() => strip.getAttribute('data-status')).toBe('cancelled');
    expect(await strip.isVisible()).toBe(true);
    await page.screenshot({ path: screenshotPath(`widget-progress-cancelled-${size.name}.png`) });
    expect(errors).toEqual([]);
    await page.context().close();
  }, 60_000);
});
