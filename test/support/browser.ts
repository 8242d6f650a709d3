import { chromium, type Browser } from 'playwright-core';

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
