import { type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/testServer.js';
import { launchChromium, screenshotPath, typeMessage, widgetLog } from '../support/browser.js';

/**
 * A message the server refuses over the websocket (too fast, or input it does not accept) is not
 * shown as sent: its bubble goes, its text comes back to the input, and the ui.yml text for the
 * error code says why — as the widget already does for refused REST requests.
 */

let server: TestServer;
let browser: Browser;
let uiTexts: Record<string, string>;

beforeAll(async () => {
  // Two messages per conversation back to back, then one every 30 s; nothing else limited.
  server = await startTestServer({
    rateLimits: { perAddress: { perMinute: 0, burst: 0 }, perConversation: { perMinute: 2, burst: 2 }, socketsPerAddress: 0 },
  });
  uiTexts = ((await (await fetch(`${server.baseUrl}/api/ui`)).json()) as { texts: Record<string, string> }).texts;
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  server?.cleanup();
});

interface SocketFrames {
  sent: Record<string, unknown>[];
  received: Record<string, unknown>[];
}

/** The demo page in a fresh browser profile (so a new conversation), its socket open and bound. */
async function openDemoPage(): Promise<{ page: Page; frames: SocketFrames; pageErrors: string[] }> {
  const context = await browser.newContext({ viewport: { width: 420, height: 760 } });
  const page = await context.newPage();
  const frames: SocketFrames = { sent: [], received: [] };
  const pageErrors: string[] = [];
  page.on('pageerror', (error) => pageErrors.push(error.message));
  page.on('websocket', (socket) => {
    socket.on('framesent', ({ payload }) => frames.sent.push(JSON.parse(payload.toString()) as Record<string, unknown>));
    socket.on('framereceived', ({ payload }) => frames.received.push(JSON.parse(payload.toString()) as Record<string, unknown>));
  });
  await page.goto(server.baseUrl + '/');
  await page.getByTestId('wub-panel').waitFor({ state: 'visible' });
  await expect.poll(() => page.getByTestId('wub-log').locator('[data-role="bot"]').count()).toBe(1);
  // Messages go over REST until the socket is ready; these tests are about the socket.
  await expect.poll(() => frames.received.some((frame) => frame.type === 'ready'), { timeout: 10_000 }).toBe(true);
  return { page, frames, pageErrors };
}

const userBubbles = (page: Page) => widgetLog(page).locator('[data-role="user"]').allInnerTexts();
const errorFrames = (frames: SocketFrames) => frames.received.filter((frame) => frame.type === 'error');

/** The user lines the server stored, read with the conversation the widget keeps in localStorage. */
async function storedUserLines(page: Page): Promise<string[]> {
  const stored = await page.evaluate((key) => localStorage.getItem(key), `wub.conversation.${server.baseUrl}`);
  const { id, token } = JSON.parse(stored ?? 'null') as { id: string; token: string };
  const response = await fetch(`${server.baseUrl}/api/conversations/${id}`, { headers: { authorization: `Bearer ${token}` } });
  const { transcript } = (await response.json()) as { transcript: { role: string; text: string }[] };
  return transcript.filter((entry) => entry.role === 'user').map((entry) => entry.text);
}

describe('messages the server refuses over the websocket', () => {
  it('past the rate limit: the third of three quick messages comes back to the input with the rate-limit notice', async () => {
    const { page, frames, pageErrors } = await openDemoPage();
    const rateLimitedText = uiTexts['ui.widget.error.rate_limited'];
    expect(rateLimitedText).toBeTruthy();

    // Typed one after the other without waiting for answers.
    await typeMessage(page, '我要解绑钱包');
    await typeMessage(page, '没有余额');
    await typeMessage(page, '我已经打开微信了');

    await expect.poll(() => errorFrames(frames).map((frame) => frame.code), { timeout: 10_000 }).toEqual(['rate_limited']);
    expect(frames.sent.filter((frame) => frame.type === 'message').map((frame) => frame.text)).toEqual(['我要解绑钱包', '没有余额', '我已经打开微信了']);
    await expect.poll(() => page.getByTestId('wub-notice').innerText()).toBe(rateLimitedText);
    expect(await page.getByTestId('wub-notice').getAttribute('data-kind')).toBe('error');
    await expect.poll(() => page.getByTestId('wub-input').inputValue()).toBe('我已经打开微信了');
    // The two taken messages were answered (step 1 of the unbinding); the refused one is not on screen.
    await expect.poll(() => page.getByTestId('wub-progress').innerText(), { timeout: 10_000 }).toContain('第 1 / 7 步');
    expect(await userBubbles(page)).toEqual(['我要解绑钱包', '没有余额']);
    expect(await page.getByTestId('wub-typing').isVisible()).toBe(false);
    await page.screenshot({ path: screenshotPath('refused-rate-limited.png') });

    // A refused tap on a quick reply leaves no bubble and offers the buttons again.
    const nextStep = page.getByTestId('wub-quick-replies').getByRole('button', { name: '好了，下一步', exact: true });
    await nextStep.click();
    await expect.poll(() => errorFrames(frames).length).toBe(2);
    await expect.poll(() => nextStep.isVisible()).toBe(true);
    expect(await userBubbles(page)).toEqual(['我要解绑钱包', '没有余额']);
    expect(await page.getByTestId('wub-input').inputValue()).toBe('我已经打开微信了');

    // The server has exactly what the screen shows, also after a reload.
    expect(await storedUserLines(page)).toEqual(['我要解绑钱包', '没有余额']);
    await page.reload();
    await expect.poll(() => page.getByTestId('wub-progress').innerText(), { timeout: 10_000 }).toContain('第 1 / 7 步');
    expect(await userBubbles(page)).toEqual(['我要解绑钱包', '没有余额']);
    expect(pageErrors).toEqual([]);
    await page.context().close();
  }, 60_000);

  it('input the server does not accept comes back to the input with its notice, and the next message goes through', async () => {
    const { page, frames, pageErrors } = await openDemoPage();
    const refusedText = 'how\u0007are you';
    await typeMessage(page, refusedText);
    await expect.poll(() => errorFrames(frames).map((frame) => frame.code), { timeout: 10_000 }).toEqual(['control_characters']);
    await expect.poll(() => page.getByTestId('wub-notice').innerText()).toBe(uiTexts['ui.widget.error.control_characters']);
    await expect.poll(() => page.getByTestId('wub-input').inputValue()).toBe(refusedText);
    expect(await userBubbles(page)).toEqual([]);
    // The greeting's buttons are offered again.
    expect(await page.getByTestId('wub-quick-replies').getByRole('button').count()).toBeGreaterThan(0);

    await typeMessage(page, '我要解绑钱包');
    await expect.poll(() => page.getByTestId('wub-log').locator('[data-role="bot"]').last().innerText(), { timeout: 10_000 }).toContain('余额');
    expect(await page.getByTestId('wub-notice').isVisible()).toBe(false);
    expect(await userBubbles(page)).toEqual(['我要解绑钱包']);
    expect(await storedUserLines(page)).toEqual(['我要解绑钱包']);
    expect(pageErrors).toEqual([]);
    await page.context().close();
  }, 60_000);
});
