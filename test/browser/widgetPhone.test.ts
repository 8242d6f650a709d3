import { type Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { serveDuringTests } from '../support/testServer.js';
import { chromiumDuringTests, screenshotPath, typeMessage, widgetLog } from '../support/browser.js';

/**
 * What a user sees of the transcript as it changes, the message box, and the launcher, on a phone
 * (390×844, touch) and on a desktop (1366×900).
 */

const server = serveDuringTests();
const browser = chromiumDuringTests();

const screens = {
  phone: { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 },
  desktop: { viewport: { width: 1366, height: 900 } },
} as const;
type Screen = keyof typeof screens;

async function openPage(screen: Screen): Promise<Page> {
  const context = await browser.newContext(screens[screen]);
  const page = await context.newPage();
  await page.goto(server.baseUrl + '/');
  await page.getByTestId('wub-panel').waitFor({ state: 'visible' });
  await expect.poll(() => widgetLog(page).locator('[data-role="bot"]').count()).toBeGreaterThan(0);
  return page;
}

const focusedTestId = (page: Page) => page.evaluate(() => document.activeElement?.getAttribute('data-testid') ?? null);

/** Where the first bot bubble after the user's last message sits in the transcript's visible area. */
function answerPlacement(page: Page) {
  return page.evaluate(() => {
    const scroller = document.querySelector('.wub-scroll')!;
    const rows = [...document.querySelectorAll('[data-testid="wub-log"] .wub-row')];
    const lastUser = rows.map((row) => row.classList.contains('wub-row--user')).lastIndexOf(true);
    const answer = rows.slice(lastUser + 1).find((row) => row.classList.contains('wub-row--bot'));
    const view = scroller.getBoundingClientRect();
    const bubble = answer?.querySelector('[data-testid="wub-message"]')?.getBoundingClientRect();
    return bubble ? { firstLineVisible: bubble.top >= view.top && bubble.top + 20 <= view.bottom, taller: bubble.height > view.height } : null;
  });
}

const scrollState = (page: Page) =>
  page.evaluate(() => {
    const scroller = document.querySelector('.wub-scroll')!;
    return { top: scroller.scrollTop, fromEnd: scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight };
  });

/** Sends a message and waits until the bot has answered it. */
async function ask(page: Page, text: string): Promise<void> {
  const before = await widgetLog(page).locator('[data-role="bot"]').count();
  await typeMessage(page, text);
  await expect.poll(() => widgetLog(page).locator('[data-role="bot"]').count(), { timeout: 10_000 }).toBeGreaterThan(before);
  await page.waitForTimeout(300); // the turn's quick replies and rating settle
}

describe.each(['phone', 'desktop'] as const)('the widget on a %s', (screen) => {
  it('shows the first line of an answer given mid-flow, and leaves a user reading history where they are', async () => {
    const page = await openPage(screen);
    await ask(page, '怎么解绑钱包');
    await ask(page, '解绑后零钱还在吗');
    expect(await answerPlacement(page)).toMatchObject({ firstLineVisible: true });
    // At step 1, with the progress strip above the transcript, a long answer is taller than what is
    // left below its top: the top shows, not the quick replies under it.
    await ask(page, '没有余额');
    await ask(page, '一个微信号最多能绑几个钱包');
    expect(await answerPlacement(page)).toMatchObject({ firstLineVisible: true });
    await page.screenshot({ path: screenshotPath(`widget-${screen}-midflow-answer.png`) });

    // Enough history to scroll up in.
    for (const text of ['解绑后购物记录还在吗', '解绑要多久']) {
      if ((await page.evaluate(() => document.querySelector('.wub-scroll')!.scrollHeight)) > 2000) break;
      await ask(page, text);
    }

    // The user sends, then scrolls up to the top before the answer comes (in one task, so the
    // answer cannot arrive in between).
    const bots = await widgetLog(page).locator('[data-role="bot"]').count();
    await page.getByTestId('wub-input').fill('解绑后还能再绑定吗');
    await page.evaluate(async () => {
      (document.querySelector('[data-testid="wub-send"]') as HTMLButtonElement).click();
      await Promise.resolve();
      await Promise.resolve();
      const scroller = document.querySelector('.wub-scroll')!;
      scroller.scrollTop = 0;
      scroller.dispatchEvent(new Event('scroll'));
    });
    await expect.poll(() => widgetLog(page).locator('[data-role="bot"]').count(), { timeout: 10_000 }).toBeGreaterThan(bots);
    await page.getByTestId('wub-new-messages').waitFor({ state: 'visible' });
    expect((await scrollState(page)).top).toBe(0);
    await page.screenshot({ path: screenshotPath(`widget-${screen}-new-messages-pill.png`) });

    // A smaller viewport (the phone keyboard opening) does not pull the reader to the end.
    const size = screens[screen].viewport;
    await page.setViewportSize({ width: size.width, height: size.height - 300 });
    await page.waitForTimeout(300);
    expect((await scrollState(page)).top).toBe(0);
    await page.setViewportSize(size);

    // The pill takes the reader down (to the top of an answer taller than the view first), then goes.
    for (let tap = 0; tap < 3 && (await page.getByTestId('wub-new-messages').isVisible()); tap++) {
      await page.getByTestId('wub-new-messages').click();
      await page.waitForTimeout(800);
    }
    await expect.poll(() => page.getByTestId('wub-new-messages').isVisible()).toBe(false);
    expect((await scrollState(page)).fromEnd).toBeLessThanOrEqual(80);
    await page.context().close();
  }, 90_000);

  it(screen === 'phone' ? 'does not focus the input on open (no keyboard over the greeting)' : 'focuses the input on open', async () => {
    const page = await openPage(screen);
    if (screen === 'phone') expect(await focusedTestId(page)).not.toBe('wub-input');
    else await expect.poll(() => focusedTestId(page)).toBe('wub-input');
    await page.context().close();
  }, 30_000);

  it('grows the message box to about five lines, counts down near the limit and refuses text over it', async () => {
    const page = await openPage(screen);
    const input = page.getByTestId('wub-input');
    const height = async () => (await input.boundingBox())!.height;
    const oneLine = await height();
    await input.fill('第一行\n第二行\n第三行');
    const threeLines = await height();
    expect(threeLines).toBeGreaterThan(oneLine + 30);
    await input.fill(Array.from({ length: 12 }, (_, line) => `第 ${line + 1} 行`).join('\n'));
    const capped = await height();
    expect(capped).toBeGreaterThan(threeLines);
    expect(capped).toBeLessThan(oneLine * 4);

    // Shift+Enter is a new line, not a send.
    await input.fill('');
    await input.press('Shift+Enter');
    expect(await input.inputValue()).toBe('\n');
    expect(await widgetLog(page).locator('[data-role="user"]').count()).toBe(0);

    await expect(page.getByTestId('wub-counter').isVisible()).resolves.toBe(false);
    await input.fill('钱'.repeat(950));
    await expect.poll(() => page.getByTestId('wub-counter').innerText()).toContain('50');
    await page.screenshot({ path: screenshotPath(`widget-${screen}-counter.png`) });

    await input.fill('钱'.repeat(1010));
    await expect.poll(() => page.getByTestId('wub-counter').innerText()).toContain('10');
    await input.press('Enter');
    await page.getByTestId('wub-notice').waitFor({ state: 'visible' });
    expect(await page.getByTestId('wub-notice').innerText()).toContain('1000');
    expect(await input.inputValue()).toHaveLength(1010); // kept, to be shortened
    expect(await widgetLog(page).locator('[data-role="user"]').count()).toBe(0);
    await page.screenshot({ path: screenshotPath(`widget-${screen}-counter-over.png`) });

    // Shortened under the limit, the warning goes and the message sends.
    await input.fill('钱'.repeat(990));
    await expect.poll(() => page.getByTestId('wub-notice').isVisible()).toBe(false);
    await input.press('Enter');
    await expect.poll(() => widgetLog(page).locator('[data-role="user"]').count()).toBe(1);
    expect(await input.inputValue()).toBe('');
    await expect.poll(height).toBeLessThanOrEqual(oneLine + 1);
    await page.context().close();
  }, 60_000);

  it('counts a reply that came while the panel was closed on the launcher, with a preview, until opened', async () => {
    const page = await openPage(screen);
    await page.getByTestId('wub-input').fill('怎么解绑钱包');
    await page.evaluate(() => {
      (document.querySelector('[data-testid="wub-send"]') as HTMLButtonElement).click();
      (window as unknown as { WalletUnbindWidget: { close(): void } }).WalletUnbindWidget.close();
    });
    await page.getByTestId('wub-badge').waitFor({ state: 'visible', timeout: 10_000 });
    expect(Number(await page.getByTestId('wub-badge').innerText())).toBeGreaterThanOrEqual(1);
    expect((await page.getByTestId('wub-preview').innerText()).length).toBeGreaterThan(0);
    expect(await page.getByTestId('wub-bubble').getAttribute('aria-label')).toMatch(/\d/);
    await page.screenshot({ path: screenshotPath(`widget-${screen}-unread-badge.png`) });

    await page.getByTestId('wub-bubble').click();
    await page.getByTestId('wub-panel').waitFor({ state: 'visible' });
    expect(await page.getByTestId('wub-badge').isVisible()).toBe(false);
    expect(await page.getByTestId('wub-preview').isVisible()).toBe(false);
    await page.context().close();
  }, 30_000);

  it('turns dark when the system asks for it', async () => {
    const page = await openPage(screen);
    await ask(page, '解绑后记录还在吗'); // a user bubble, an answer and the rating on screen too
    const background = () => page.getByTestId('wub-panel').evaluate((panel) => getComputedStyle(panel).backgroundColor);
    const light = await background();
    await page.emulateMedia({ colorScheme: 'dark' });
    await expect.poll(background).not.toBe(light);
    const [r, g, b] = (await background()).match(/\d+/g)!.map(Number);
    expect(r! + g! + b!).toBeLessThan(3 * 80);
    await page.screenshot({ path: screenshotPath(`widget-${screen}-dark.png`) });
    await page.context().close();
  }, 30_000);
});

describe('the panel as a dialog', () => {
  it('is modal on a phone, and Tab and Shift+Tab stay inside it', async () => {
    const page = await openPage('phone');
    const panel = page.getByTestId('wub-panel');
    expect(await panel.getAttribute('role')).toBe('dialog');
    expect(await panel.getAttribute('aria-modal')).toBe('true');
    const focusInPanel = () => page.evaluate(() => document.querySelector('[data-testid="wub-panel"]')!.contains(document.activeElement));
    const seen = new Set<string | null>();
    for (let press = 0; press < 25; press++) {
      await page.keyboard.press('Tab');
      expect(await focusInPanel()).toBe(true);
      seen.add(await page.evaluate(() => document.activeElement?.getAttribute('data-testid') ?? document.activeElement?.className ?? null));
    }
    expect(seen).toContain('wub-input');
    for (let press = 0; press < 25; press++) {
      await page.keyboard.press('Shift+Tab');
      expect(await focusInPanel()).toBe(true);
    }
    await page.keyboard.press('Escape');
    await expect.poll(() => panel.isVisible()).toBe(false);
    await page.context().close();
  }, 60_000);

  it('is a non-modal dialog on a desktop, beside a page that stays usable', async () => {
    const page = await openPage('desktop');
    expect(await page.getByTestId('wub-panel').getAttribute('role')).toBe('dialog');
    expect(await page.getByTestId('wub-panel').getAttribute('aria-modal')).toBeNull();
    await page.context().close();
  }, 30_000);
});
