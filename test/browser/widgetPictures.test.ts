import { type Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { serveDuringTests } from '../support/testServer.js';
import { chromiumDuringTests, phoneAndDesktop, screenshotPath, typeMessage, widgetLog } from '../support/browser.js';

/**
 * The step pictures (issue 14, item 4), in Chromium on a phone and a desktop: each step's message
 * carries its picture, readable where it is and larger on a tap; what the picture rings is what the
 * message says to tap (step 6's help rings the "…" menu on a page without the button, as its text
 * says); and the progress strip names the spot in words instead of pointing at a picture that may
 * have scrolled away.
 */

const server = serveDuringTests();
const browser = chromiumDuringTests();

async function openPage(device: (typeof phoneAndDesktop)[number]): Promise<Page> {
  const context = await browser.newContext({ viewport: device.viewport, isMobile: device.isMobile, hasTouch: device.hasTouch, deviceScaleFactor: 2 });
  const page = await context.newPage();
  await page.goto(server.baseUrl + '/?open=1');
  if (!(await page.getByTestId('wub-panel').isVisible())) await page.getByTestId('wub-bubble').click();
  await expect.poll(() => widgetLog(page).locator('[data-role="bot"]').count()).toBeGreaterThan(0);
  return page;
}

/** Sends a message and waits for the bot's answer to it. */
async function say(page: Page, text: string): Promise<void> {
  const before = await widgetLog(page).locator('[data-role="bot"]').count();
  await typeMessage(page, text);
  await expect.poll(() => widgetLog(page).locator('[data-role="bot"]').count(), { timeout: 10_000 }).toBeGreaterThan(before);
}

interface PictureReport {
  name: string;
  messageText: string;
  /** The labels drawn in the picture, with their size on screen in CSS px. */
  labels: { text: string; px: number }[];
  /** The labels inside the orange ring. */
  ringed: string[];
  /** Small dots (the "…" menu) inside the ring. */
  ringedDots: number;
}

/** What each picture in the transcript draws, measured where it is shown. */
function pictures(page: Page): Promise<PictureReport[]> {
  return page.evaluate(() =>
    [...document.querySelectorAll<HTMLElement>('[data-testid="wub-log"] [data-testid="wub-picture"]')].map((button) => {
      const drawing = button.querySelector('svg') as SVGSVGElement;
      const scale = drawing.getScreenCTM()!.a;
      const ring = drawing.querySelector('.wub-sk-target rect')!.getBoundingClientRect();
      const inside = (box: DOMRect) => {
        const x = box.left + box.width / 2;
        const y = box.top + box.height / 2;
        return x >= ring.left && x <= ring.right && y >= ring.top && y <= ring.bottom;
      };
      const texts = [...drawing.querySelectorAll('text')];
      const bubble = button.closest('[data-testid="wub-message"]') as HTMLElement;
      return {
        name: button.dataset.picture ?? '',
        messageText: bubble.firstChild?.textContent ?? '',
        labels: texts.map((text) => ({ text: text.textContent ?? '', px: Number(text.getAttribute('font-size')) * scale })),
        ringed: texts.filter((text) => inside(text.getBoundingClientRect())).map((text) => text.textContent ?? ''),
        ringedDots: [...drawing.querySelectorAll('circle')].filter((dot) => Number(dot.getAttribute('r')) < 1.5 && inside(dot.getBoundingClientRect())).length,
      };
    }),
  );
}

for (const device of phoneAndDesktop) {
  describe(`the step pictures (${device.name}, ${device.viewport.width} px)`, () => {
    it('sit inside each step’s message, readable there, and ring what the message says to tap', async () => {
      const page = await openPage(device);
      await say(page, '怎么解绑钱包');
      await say(page, '没有余额');
      await say(page, '好了');
      // The strip says in words what to tap, and holds no picture of its own.
      await expect.poll(() => page.getByTestId('wub-progress').innerText()).toContain('我');
      expect(await page.getByTestId('wub-progress').locator('svg').count()).toBe(0);
      for (let step = 3; step <= 6; step++) await say(page, '好了');
      await say(page, '找不到'); // step 6's help
      await say(page, '好了'); // step 7
      await page.screenshot({ path: screenshotPath(`widget-${device.name}-step-pictures.png`) });

      const shown = await pictures(page);
      expect(shown.map((picture) => picture.name)).toEqual(['step1', 'step2', 'step3', 'step4', 'step5', 'step6', 'step6Menu', 'step7']);
      for (const picture of shown) {
        const step = Number(picture.name.slice(4, 5));
        if (picture.name !== 'step6Menu') expect(picture.messageText).toContain(`第 ${step} 步`);
        // Every label is at least 10 px on screen (the old strip drew them about 4 px high).
        for (const label of picture.labels) expect(label.px, `${picture.name} “${label.text}”`).toBeGreaterThanOrEqual(10);
        if (picture.name === 'step6Menu') {
          // "如果页面上没有“解绑”按钮，看看右上角的“…”菜单": no button drawn, the menu ringed.
          expect(picture.messageText).toContain('…');
          expect(picture.labels.map((label) => label.text)).not.toContain('解绑');
          expect(picture.ringedDots).toBe(3);
          expect(picture.ringed).toEqual([]);
        } else {
          // What is ringed is named in the message (服务/支付 as both of its names).
          expect(picture.ringed.length, picture.name).toBe(1);
          for (const name of picture.ringed[0]!.split('/')) expect(picture.messageText, picture.name).toContain(name);
        }
      }

      // History after a reload draws the same pictures in the same messages.
      await page.reload();
      await expect.poll(async () => (await pictures(page)).map((picture) => picture.name)).toEqual(shown.map((picture) => picture.name));
      await page.context().close();
    }, 60_000);

    it('opens large on a tap, over the panel, and closes back to the message', async () => {
      const page = await openPage(device);
      await say(page, '怎么解绑钱包');
      await say(page, '没有余额');
      await say(page, '好了');
      const thumbnail = widgetLog(page).locator('[data-picture="step2"]');
      const small = (await thumbnail.locator('svg').boundingBox())!;

      await thumbnail.click();
      const viewer = page.getByTestId('wub-viewer');
      await viewer.waitFor({ state: 'visible' });
      expect(await viewer.getAttribute('role')).toBe('dialog');
      expect(await viewer.getAttribute('aria-modal')).toBe('true');
      expect(await page.evaluate(() => document.activeElement?.getAttribute('data-testid'))).toBe('wub-viewer-close');
      const large = (await viewer.getByRole('img').boundingBox())!;
      expect(large.height).toBeGreaterThanOrEqual(small.height * 2.5);
      // The whole phone is on screen, inside the panel.
      const panel = (await page.getByTestId('wub-panel').boundingBox())!;
      expect(large.y).toBeGreaterThanOrEqual(panel.y);
      expect(large.y + large.height).toBeLessThanOrEqual(panel.y + panel.height);
      const labelPx = await viewer.getByRole('img').evaluate((drawing: SVGSVGElement) =>
        Math.min(...[...drawing.querySelectorAll('text')].map((text) => Number(text.getAttribute('font-size')) * drawing.getScreenCTM()!.a)),
      );
      expect(labelPx).toBeGreaterThanOrEqual(24);
      expect(await viewer.innerText()).toContain('我');
      await page.screenshot({ path: screenshotPath(`widget-${device.name}-picture-enlarged.png`) });

      // Tab stays on the viewer's one control; Esc closes the picture and leaves the panel open.
      await page.keyboard.press('Tab');
      expect(await page.evaluate(() => document.activeElement?.getAttribute('data-testid'))).toBe('wub-viewer-close');
      await page.keyboard.press('Escape');
      await expect.poll(() => viewer.count()).toBe(0);
      expect(await page.getByTestId('wub-panel').isVisible()).toBe(true);
      expect(await page.evaluate(() => document.activeElement?.getAttribute('data-picture'))).toBe('step2');

      // A tap anywhere on the enlarged picture puts it away too, as in chat apps' photo viewers.
      await thumbnail.click();
      await viewer.waitFor({ state: 'visible' });
      if (device.hasTouch) await viewer.getByRole('img').tap();
      else await viewer.getByRole('img').click();
      await expect.poll(() => viewer.count()).toBe(0);
      await page.context().close();
    }, 60_000);
  });
}
