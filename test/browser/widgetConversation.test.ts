import Database from 'better-sqlite3';
import { type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/testServer.js';
import { launchChromium, phoneAndDesktop, screenshotPath, typeMessage, widgetLog } from '../support/browser.js';

/**
 * The conversation chrome of the widget (issue 14), in Chromium on a phone and a desktop: "新对话"
 * asks first when something would be lost and keeps the old conversation readable, bubbles are
 * grouped by day, and the rating sits under the answer it rates with a way on after "没帮助".
 */

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

const viewports = phoneAndDesktop;

type Device = (typeof viewports)[number];

async function openPage(device: Device, before?: (page: Page) => Promise<void>): Promise<Page> {
  const context = await browser.newContext({ viewport: device.viewport, isMobile: device.isMobile, hasTouch: device.hasTouch, deviceScaleFactor: 2 });
  const page = await context.newPage();
  page.on('dialog', (dialog) => {
    throw new Error(`the widget used a browser dialog: ${dialog.message()}`);
  });
  await before?.(page);
  await page.goto(server.baseUrl + '/?open=1');
  await openPanel(page);
  return page;
}

async function openPanel(page: Page): Promise<void> {
  if (!(await page.getByTestId('wub-panel').isVisible())) await page.getByTestId('wub-bubble').click();
  await page.getByTestId('wub-panel').waitFor({ state: 'visible' });
  await expect.poll(() => widgetLog(page).innerText()).toContain('微信钱包解绑助手');
}

const bubbles = (page: Page, where: string) => page.locator(`${where} [data-testid="wub-message"]`);
const focusedTestId = (page: Page) => page.evaluate(() => document.activeElement?.getAttribute('data-testid'));

for (const device of viewports) {
  describe(`the widget's conversation chrome (${device.name}, ${device.viewport.width} px)`, () => {
    it('asks before "新对话" drops a flow in progress, and keeps the old conversation readable above the new one, also after a reload', async () => {
      const page = await openPage(device);
      // Only the greeting: nothing to lose, so no question.
      await page.getByTestId('wub-new').click();
      expect(await page.getByTestId('wub-confirm').count()).toBe(0);
      await expect.poll(() => bubbles(page, '[data-testid="wub-log"]').count()).toBe(1);
      expect(await page.getByTestId('wub-previous-separator').count()).toBe(0);

      await typeMessage(page, '怎么解绑钱包');
      await expect.poll(() => widgetLog(page).innerText()).toContain('余额');
      await page.getByTestId('wub-new').click();
      const dialog = page.getByRole('alertdialog', { name: '开始新对话？' });
      await dialog.waitFor({ state: 'visible' });
      expect(await focusedTestId(page)).toBe('wub-confirm-cancel');
      await page.screenshot({ path: screenshotPath(`widget-conversation-confirm-${device.name}.png`) });

      // 取消 keeps everything; so does Esc, which closes the question and not the panel.
      await dialog.getByRole('button', { name: '取消' }).click();
      expect(await page.getByTestId('wub-confirm').count()).toBe(0);
      expect(await widgetLog(page).innerText()).toContain('怎么解绑钱包');
      await page.getByTestId('wub-new').click();
      await dialog.waitFor({ state: 'visible' });
      await page.keyboard.press('Escape');
      expect(await page.getByTestId('wub-confirm').count()).toBe(0);
      expect(await page.getByTestId('wub-panel').isVisible()).toBe(true);
      expect(await widgetLog(page).innerText()).toContain('怎么解绑钱包');
      await expect.poll(() => page.getByTestId('wub-quick-replies').isVisible()).toBe(true);

      await page.getByTestId('wub-new').click();
      await dialog.getByRole('button', { name: '开始新对话' }).click();
      // A new greeting in the log; the old bubbles above the separator, without their buttons.
      await expect.poll(() => bubbles(page, '[data-testid="wub-log"]').count()).toBe(1);
      expect(await widgetLog(page).innerText()).not.toContain('怎么解绑钱包');
      expect(await page.getByTestId('wub-previous').innerText()).toContain('怎么解绑钱包');
      expect(await page.getByTestId('wub-previous').locator('button').count()).toBe(0);
      expect(await page.getByTestId('wub-previous-separator').innerText()).toBe('以上是之前的对话');
      const order = await page.evaluate(() => {
        const of = (id: string) => document.querySelector(`[data-testid="${id}"]`)!;
        return [
          of('wub-previous').compareDocumentPosition(of('wub-previous-separator')) & Node.DOCUMENT_POSITION_FOLLOWING,
          of('wub-previous-separator').compareDocumentPosition(of('wub-log')) & Node.DOCUMENT_POSITION_FOLLOWING,
        ];
      });
      expect(order.every(Boolean)).toBe(true);
      // The quick replies on screen are the new greeting's, not the old question's about the balance.
      expect(await page.getByTestId('wub-quick-replies').innerText()).not.toContain('没有余额');
      expect(await page.getByTestId('wub-progress').isVisible()).toBe(false);
      await page.screenshot({ path: screenshotPath(`widget-conversation-previous-${device.name}.png`) });

      await page.reload();
      await openPanel(page);
      await expect.poll(() => page.getByTestId('wub-previous').innerText().catch(() => '')).toContain('怎么解绑钱包');
      expect(await widgetLog(page).innerText()).not.toContain('怎么解绑钱包');

      // A previous conversation the server no longer has (deleted, expired) is skipped and forgotten.
      const previousKey = `wub.previousConversation.${server.baseUrl}`;
      await page.evaluate((key) => localStorage.setItem(key, JSON.stringify({ id: 'no-such-conversation', token: 'no-such-token' })), previousKey);
      await page.reload();
      await openPanel(page);
      await expect.poll(() => page.evaluate((key) => localStorage.getItem(key), previousKey)).toBeNull();
      expect(await page.getByTestId('wub-previous').count()).toBe(0);
      expect(await page.getByTestId('wub-notice').isVisible()).toBe(false);
      await page.context().close();
    }, 90_000);

    it('puts the day between the bubbles of different days: a date, "昨天", "今天"', async () => {
      // A conversation begun days ago, continued yesterday (its stored times rewritten), and today.
      const created = await (await fetch(`${server.baseUrl}/api/conversations`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' })).json();
      const sent = await fetch(`${server.baseUrl}/api/conversations/${created.id}/messages`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${created.token}` },
        body: JSON.stringify({ text: '解绑后记录还在吗' }),
      });
      expect(sent.status).toBe(200);
      const today = new Date();
      const daysAgo = (days: number) => new Date(today.getFullYear(), today.getMonth(), today.getDate() - days, 10, 30).toISOString();
      // The running server holds the database: rewrite it between a stop and a restart on the same file.
      const { databaseFile, port } = server;
      await server.stop();
      const db = new Database(databaseFile);
      db.prepare('UPDATE transcript SET at = ? WHERE conversation_id = ? AND seq = 1').run(daysAgo(5), created.id);
      db.prepare('UPDATE transcript SET at = ? WHERE conversation_id = ? AND seq > 1').run(daysAgo(1), created.id);
      db.close();
      server = await startTestServer({ databaseFile, port });

      const page = await openPage(device, async (page) => {
        await page.addInitScript(
          ([key, value]) => localStorage.setItem(key, value),
          [`wub.conversation.${server.baseUrl}`, JSON.stringify({ id: created.id, token: created.token })] as const,
        );
      });
      await expect.poll(() => widgetLog(page).innerText()).toContain('解绑后记录还在吗');
      await typeMessage(page, '解绑后还能用微信支付吗');
      await expect.poll(() => widgetLog(page).locator('[data-role="bot"]').count()).toBeGreaterThan(2);
      const days = await widgetLog(page).getByTestId('wub-day').allInnerTexts();
      expect(days.slice(1)).toEqual(['昨天', '今天']);
      expect(days[0]).toMatch(/^(\d{4}年)?\d{1,2}月\d{1,2}日$/);
      // Each day's bubbles come after its label.
      const placed = await page.evaluate(() => {
        const log = document.querySelector('[data-testid="wub-log"]')!;
        return [...log.children]
          .map((node) => (node.matches('[data-testid="wub-day"]') ? (node as HTMLElement).innerText : node.querySelector('[data-role="user"]')?.textContent ?? null))
          .filter(Boolean);
      });
      expect(placed.slice(1)).toEqual(['昨天', '解绑后记录还在吗', '今天', '解绑后还能用微信支付吗']);
      // The answer right after the question shares its time: one time under the run of bot bubbles.
      const lastRunTimes = await page.evaluate(() => {
        const rows = [...document.querySelectorAll('[data-testid="wub-log"] .wub-row')];
        const lastUser = rows.map((row) => row.classList.contains('wub-row--user')).lastIndexOf(true);
        return rows.slice(lastUser + 1).map((row) => row.querySelectorAll('[data-testid="wub-time"]').length);
      });
      expect(lastRunTimes.reduce((sum, count) => sum + count, 0)).toBe(1);
      expect(lastRunTimes.at(-1)).toBe(1);
      await page.context().close();
    }, 60_000);

    it('shows the rating under the FAQ answer asked mid-flow, and offers a way on after "没帮助" that leads to a person', async () => {
      const page = await openPage(device);
      await typeMessage(page, '怎么解绑钱包');
      await expect.poll(() => widgetLog(page).innerText()).toContain('余额');
      await typeMessage(page, '解绑后零钱还在吗');
      const rating = page.getByTestId('wub-rating');
      await rating.waitFor({ state: 'visible', timeout: 10_000 });
      // Directly under the answer, not under the reminder of the step that follows it.
      const around = await rating.evaluate((row) => ({
        before: row.previousElementSibling?.querySelector('[data-role="bot"]')?.textContent ?? '',
        after: row.nextElementSibling?.querySelector('[data-role="bot"]')?.textContent ?? '',
      }));
      expect(around.before).toContain('余额');
      expect(around.before).not.toContain('开始之前先确认一下');
      expect(around.after).toContain('开始之前先确认一下');
      await page.screenshot({ path: screenshotPath(`widget-conversation-rating-${device.name}.png`) });

      const ratingSent = page.waitForRequest((request) => request.url().endsWith('/rating'));
      await page.getByTestId('wub-rate-not-helpful').click();
      const sent = (await ratingSent).postDataJSON() as { helpful: boolean; answerSeq: number };
      expect(sent.helpful).toBe(false);
      // The seq of the answer itself, as the server stored the turn.
      const conversationId = await page.evaluate((key) => JSON.parse(localStorage.getItem(key)!).id, `wub.conversation.${server.baseUrl}`);
      const lines = await server.store.transcript(conversationId);
      expect(lines.find((line) => line.seq === sent.answerSeq)?.text).toContain('余额');
      expect(lines.find((line) => line.seq === sent.answerSeq)?.text).not.toContain('开始之前先确认一下');

      await rating.getByTestId('wub-rate-rephrase').waitFor({ state: 'visible' });
      expect(await rating.getByRole('button', { name: '换个说法问' }).count()).toBe(1);
      expect(await rating.getByRole('button', { name: '转人工客服' }).count()).toBe(1);
      await page.screenshot({ path: screenshotPath(`widget-conversation-not-helpful-${device.name}.png`) });

      await rating.getByRole('button', { name: '换个说法问' }).click();
      expect(await focusedTestId(page)).toBe('wub-input');
      expect(await page.getByTestId('wub-input').getAttribute('placeholder')).not.toBe('比如：钱包怎么解绑');

      await rating.getByRole('button', { name: '转人工客服' }).click();
      await expect.poll(() => widgetLog(page).locator('[data-role="user"]').last().innerText()).toBe('转人工客服');
      await page.getByTestId('wub-handoff').waitFor({ state: 'visible', timeout: 10_000 });
      await page.context().close();
    }, 60_000);
  });
}

/** What the user's bubbles say, and how many bot lines a tab shows. */
const userBubbles = (page: Page) => widgetLog(page).locator('[data-role="user"]').allInnerTexts();
const botLines = async (page: Page) => (await widgetLog(page).locator('[data-role="bot"]').count());

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
