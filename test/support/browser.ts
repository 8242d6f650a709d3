import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';

/**
 * Debian's chromium (apt-get install chromium), headless: nothing is downloaded at test time.
 * CHROMIUM_PATH points elsewhere when needed.
 */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic'],
  });
}

/**
 * Chromium for the enclosing file or describe block: launched before its tests, closed after them
 * (before a server set up earlier with serveDuringTests stops, since after-hooks run in reverse).
 * The returned object reads through to the browser once it runs.
 */
export function chromiumDuringTests(): Browser {
  let running: Browser | undefined;
  beforeAll(async () => {
    running = await launchChromium();
  }, 60_000);
  afterAll(async () => {
    await running?.close();
  });
  return new Proxy({} as Browser, {
    get: (_target, key) => {
      if (!running) throw new Error('the browser is used before it was launched (outside a test?)');
      const value = running[key as keyof Browser];
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(running) : value;
    },
  });
}

/** The widget's message list, and its newest bot message. */
export const widgetLog = (page: Page) => page.getByTestId('wub-log');
export const lastBotText = (page: Page) => widgetLog(page).locator('[data-role="bot"]').last();

/** Taps the quick reply with exactly this title. */
export async function clickQuickReply(page: Page, title: string): Promise<void> {
  await page.getByTestId('wub-quick-replies').getByRole('button', { name: title, exact: true }).click();
}

/** Types a message into the widget and sends it with Enter, as a user would. */
export async function typeMessage(page: Page, text: string): Promise<void> {
  await page.getByTestId('wub-input').fill(text);
  await page.getByTestId('wub-input').press('Enter');
}

/** Where a test's screenshot goes (test-results/, made on first use), to be looked at after a run. */
export function screenshotPath(name: string): string {
  const dir = path.resolve('test-results');
  mkdirSync(dir, { recursive: true });
  return path.join(dir, name);
}

/** The two screens the widget is tested on: a phone (touch) and a desktop. */
export const phoneAndDesktop = [
  { name: 'phone', viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true },
  { name: 'desktop', viewport: { width: 1366, height: 900 }, isMobile: false, hasTouch: false },
] as const;
export type TestScreen = (typeof phoneAndDesktop)[number];
