import { type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedTickets } from '../support/seedAnalyticsRows.js';
import { seedConversations } from '../support/seedConversations.js';
import { startTestServer, type TestServer } from '../support/testServer.js';
import { launchChromium, screenshotPath } from '../support/browser.js';

const adminToken = 'dashboard-test-token-42';
let server: TestServer;
let browser: Browser;

beforeAll(async () => {
  server = await startTestServer({ adminToken });
  await seedConversations(server.baseUrl);
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  server?.cleanup();
});

describe('the support dashboard in a real browser', () => {
  it('after signing in, shows deflection, the funnel, unanswered questions and tickets, and closes a ticket', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 1700 } });
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(`${server.baseUrl}/admin`);
    await page.getByTestId('admin-token').fill(adminToken);
    await page.getByTestId('admin-token').press('Enter');

    await expect.poll(() => page.getByTestId('admin-cards').innerText(), { timeout: 10_000 }).toContain('75.0%');
    await expect.poll(() => page.getByTestId('admin-unanswered').innerText()).toContain('asdfghjkl');
    // The seeded question the article does not answer ("解绑要手续费吗").
    expect(await page.locator('[data-card="notCovered"] .card-value').innerText()).toBe('1');
    expect(await page.getByTestId('admin-funnel').locator('canvas').count()).toBe(1);
    await expect.poll(() => page.getByTestId('admin-ticket').count()).toBe(1);
    await page.screenshot({ path: screenshotPath('dashboard.png'), fullPage: true });

    await page.getByTestId('admin-close').click();
    await expect.poll(() => page.getByTestId('admin-ticket').getAttribute('data-status')).toBe('closed');
    expect(await page.getByTestId('admin-close').isVisible()).toBe(false);
    expect((await server.store.tickets())[0]!.status).toBe('closed');
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);

  it('pages through many tickets: the first 20, then the older ones on request, and counts them all', async () => {
    const before = (await server.store.tickets()).filter((ticket) => ticket.status === 'open').length;
    seedTickets(server.store, 25);
    const page = await browser.newPage({ viewport: { width: 1280, height: 1200 } });
    await page.goto(`${server.baseUrl}/admin`);
    await page.getByTestId('admin-token').fill(adminToken);
    await page.getByTestId('admin-token').press('Enter');
    await expect.poll(() => page.getByTestId('admin-ticket').count(), { timeout: 10_000 }).toBe(20);
    expect(await page.locator('[data-card="openTickets"] .card-value').innerText()).toBe(String(before + 25));
    expect(await page.getByTestId('admin-tickets-shown').innerText()).toContain(`20 / ${before + 25}`);
    await page.getByTestId('admin-tickets-more').click();
    await expect.poll(() => page.getByTestId('admin-ticket').count()).toBe(before + 25);
    expect(await page.getByTestId('admin-tickets-more').isVisible()).toBe(false);
    const ids = await page.getByTestId('admin-ticket').evaluateAll((rows) => rows.map((row) => Number((row as HTMLElement).dataset.ticketId)));
    expect(ids).toEqual([...ids].sort((a, b) => b - a));
    expect(new Set(ids).size).toBe(ids.length);
    await page.close();
  }, 60_000);

  it('asks again for the token when it is wrong', async () => {
    const page = await browser.newPage();
    await page.goto(`${server.baseUrl}/admin`);
    await page.getByTestId('admin-token').fill('wrong-token');
    await page.getByTestId('admin-token').press('Enter');
    await expect.poll(() => page.getByTestId('admin-login').isVisible()).toBe(true);
    expect(await page.getByTestId('admin-cards').isVisible()).toBe(false);
    await page.close();
  }, 30_000);
});
