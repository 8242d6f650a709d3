import { type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { parseServiceHours } from '../../src/support/serviceHours.js';
import { adminToken, createAgent, type AgentCredentials } from '../support/agentClient.js';
import { lastBotText, launchChromium, screenshotPath, typeMessage, widgetLog } from '../support/browser.js';
import { createConversation, sendMessage, startTestServer, type Conversation, type TestServer } from '../support/testServer.js';

interface Line {
  role: string;
  text: string;
  agentName?: string;
  seq: number;
}
interface UserView {
  transcript: Line[];
  handoff: { status: string; agentName?: string } | null;
}

let server: TestServer;
let browser: Browser;
let xiaolin: AgentCredentials;
let xiaowang: AgentCredentials;
const sockets: WebSocket[] = [];

beforeAll(async () => {
  server = await startTestServer({ adminToken, serviceHours: parseServiceHours('00:00-24:00') });
  xiaolin = await createAgent(server.baseUrl, '小林');
  xiaowang = await createAgent(server.baseUrl, '小王');
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  for (const ws of sockets) ws.close();
  await browser?.close();
  await server?.stop();
  server?.cleanup();
});

/** What the user's own client reads back: GET /api/conversations/{id}. */
async function userView(conversation: Conversation): Promise<UserView> {
  const response = await fetch(`${server.baseUrl}/api/conversations/${conversation.id}`, { headers: { authorization: `Bearer ${conversation.token}` } });
  expect(response.status).toBe(200);
  return (await response.json()) as UserView;
}

async function say(conversation: Conversation, text: string): Promise<void> {
  expect((await sendMessage(server.baseUrl, conversation, { text })).status).toBe(200);
}

/** The user's widget socket, to send "the user is typing" as the widget does. */
async function userSocket(conversation: Conversation): Promise<WebSocket> {
  const ws = new WebSocket(server.wsUrl);
  sockets.push(ws);
  const frames: { type: string }[] = [];
  ws.on('message', (data) => frames.push(JSON.parse(data.toString()) as { type: string }));
  await new Promise((resolve) => ws.once('open', resolve));
  ws.send(JSON.stringify({ type: 'hello', conversation: conversation.id, token: conversation.token }));
  await expect.poll(() => frames.some((frame) => frame.type === 'ready')).toBe(true);
  return ws;
}

async function signIn(page: Page, token: string): Promise<void> {
  await page.goto(`${server.baseUrl}/admin`);
  await page.getByTestId('admin-token').fill(token);
  await page.getByTestId('admin-token').press('Enter');
}

/** Script errors, failed requests and labels missing from /api/ui; `allowed` failures are expected ones. */
function watchErrors(page: Page, allowed?: RegExp): string[] {
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  page.on('console', (message) => {
    if (allowed?.test(message.text())) return;
    if (message.type() === 'error' || (message.type() === 'warning' && message.text().includes('no text for'))) errors.push(message.text());
  });
  return errors;
}

const viewport = { width: 1366, height: 900 };

describe('the agent inbox in a real browser', () => {
  it('an agent sees a handoff arrive live, claims it, talks with the user, uses the suggestion and resolves; a second agent finds it taken', async () => {
    const page = await browser.newPage({ viewport });
    const errors = watchErrors(page);
    await signIn(page, xiaolin.token);
    await expect.poll(() => page.getByTestId('agent-inbox').isVisible(), { timeout: 10_000 }).toBe(true);
    await expect.poll(() => page.getByTestId('admin-who').innerText()).toBe('客服 小林');
    // Analytics stay the admin's.
    expect(await page.getByTestId('admin-cards').isVisible()).toBe(false);
    expect(await page.getByTestId('inbox-item').count()).toBe(0);
    await expect.poll(() => page.locator('#inbox').getAttribute('data-live')).toBe('true');
    await page.screenshot({ path: screenshotPath('agent-inbox-1-empty.png') });

    // The user asks for a human: the conversation appears without a reload.
    const user = await createConversation(server.baseUrl);
    await say(user, '我要解绑钱包');
    await say(user, '转人工');
    await expect.poll(() => page.getByTestId('inbox-item').count(), { timeout: 10_000 }).toBe(1);
    const item = page.getByTestId('inbox-item').first();
    expect(await item.innerText()).toContain('用户要求转人工');
    await expect.poll(() => item.innerText()).toMatch(/已等待 \d+ 秒/);
    expect(await page.getByTestId('inbox-tab-waiting').innerText()).toContain('1');
    await item.click();
    await expect.poll(() => page.getByTestId('inbox-transcript').innerText()).toContain('转人工');
    expect(await page.getByTestId('inbox-claim').isVisible()).toBe(true);
    expect(await page.getByTestId('inbox-reply').isVisible()).toBe(false);
    await page.screenshot({ path: screenshotPath('agent-inbox-2-waiting.png') });

    // A second agent whose view has not caught up (its live stream held back) opens the same conversation.
    const other = await browser.newPage({ viewport });
    const otherErrors = watchErrors(other, /status of 409/); // the claim it loses
    await other.route('**/api/agent/events', () => undefined);
    await signIn(other, xiaowang.token);
    await expect.poll(() => other.getByTestId('inbox-item').count(), { timeout: 10_000 }).toBe(1);
    await other.getByTestId('inbox-item').first().click();
    await expect.poll(() => other.getByTestId('inbox-claim').isVisible()).toBe(true);

    // 小林 claims it; the reply box opens.
    await page.getByTestId('inbox-claim').click();
    await expect.poll(() => page.getByTestId('inbox-conv-status').innerText()).toBe('你在接待');
    expect(await page.getByTestId('inbox-reply').isVisible()).toBe(true);
    expect(await page.getByTestId('inbox-tab-mine').getAttribute('aria-selected')).toBe('true');
    await expect.poll(() => page.getByTestId('inbox-item').count()).toBe(1);
    expect((await userView(user)).handoff).toMatchObject({ status: 'assigned', agentName: '小林' });

    // 小王 clicks claim a moment later: the server says 409 and the page says who has it.
    await other.getByTestId('inbox-claim').click();
    await expect.poll(() => other.getByTestId('inbox-conv-notice').innerText()).toContain('另一位客服已经接入');
    await expect.poll(() => other.getByTestId('inbox-conv-status').innerText()).toBe('客服 小林 接待中');
    expect(await other.getByTestId('inbox-claim').isVisible()).toBe(false);
    expect(await other.getByTestId('inbox-reply').isVisible()).toBe(false);
    await other.screenshot({ path: screenshotPath('agent-inbox-3-taken-by-other.png') });

    // Shift+Enter is a new line; Enter sends; typing is sent to the widget while the agent writes.
    const input = page.getByTestId('inbox-reply-input');
    const typingSent = page.waitForRequest((request) => request.url().endsWith(`/api/agent/conversations/${user.id}/typing`) && request.method() === 'POST');
    await input.click();
    await page.keyboard.type('你好，我是客服小林。');
    await page.keyboard.press('Shift+Enter');
    await page.keyboard.type('请问卡在哪一步了？');
    await typingSent;
    expect(await input.inputValue()).toBe('你好，我是客服小林。\n请问卡在哪一步了？');
    await page.screenshot({ path: screenshotPath('agent-inbox-4-claimed.png') });
    await page.keyboard.press('Enter');
    await expect.poll(() => input.inputValue()).toBe('');
    await expect.poll(() => page.getByTestId('inbox-transcript').locator('[data-role="agent"]').count()).toBe(1);
    expect(await page.getByTestId('inbox-transcript').locator('[data-role="agent"]').innerText()).toContain('客服 小林');
    const afterReply = await userView(user);
    expect(afterReply.transcript.at(-1)).toMatchObject({ role: 'agent', agentName: '小林', text: '你好，我是客服小林。\n请问卡在哪一步了？' });

    // The user types (the widget's typing frame), then answers: both show up live.
    const ws = await userSocket(user);
    ws.send(JSON.stringify({ type: 'typing' }));
    await expect.poll(() => page.getByTestId('inbox-user-typing').isVisible()).toBe(true);
    expect(await page.getByTestId('inbox-user-typing').innerText()).toBe('用户正在输入…');
    await say(user, '解绑以后还能用微信支付吗');
    await expect.poll(() => page.getByTestId('inbox-transcript').locator('[data-role="user"]').last().innerText()).toContain('解绑以后还能用微信支付吗');
    expect(await page.getByTestId('inbox-user-typing').isVisible()).toBe(false);
    // No bot reply while an agent holds the conversation.
    expect((await userView(user)).transcript.at(-1)).toMatchObject({ role: 'user' });

    // The bot's article-grounded answer to that message, offered as a reply.
    await expect.poll(() => page.getByTestId('inbox-suggestion').isVisible()).toBe(true);
    const suggestion = await page.getByTestId('inbox-suggestion-text').innerText();
    expect(suggestion.length).toBeGreaterThan(10);
    await page.screenshot({ path: screenshotPath('agent-inbox-5-user-answer-suggestion.png') });
    await page.getByTestId('inbox-use-suggestion').click();
    expect(await input.inputValue()).toBe(suggestion);
    await expect.poll(() => page.evaluate(() => document.activeElement?.id)).toBe('reply-input');
    await page.keyboard.type('还有别的问题吗？');
    await page.keyboard.press('Enter');
    await expect.poll(() => page.getByTestId('inbox-transcript').locator('[data-role="agent"]').count()).toBe(2);
    // Answered: the suggestion steps aside until the user writes again.
    expect(await page.getByTestId('inbox-suggestion').isVisible()).toBe(false);
    const sent = (await userView(user)).transcript.at(-1)!;
    expect(sent).toMatchObject({ role: 'agent', agentName: '小林' });
    expect(sent.text).toBe(`${suggestion}还有别的问题吗？`);

    // Resolve: the user is told and the bot answers again.
    await page.getByTestId('inbox-resolve').click();
    await expect.poll(() => page.getByTestId('inbox-conv-status').innerText()).toBe('已结束');
    expect(await page.getByTestId('inbox-conv-notice').innerText()).toContain('用户已收到通知');
    expect(await page.getByTestId('inbox-reply').isVisible()).toBe(false);
    expect(await page.getByTestId('inbox-resolve').isVisible()).toBe(false);
    await page.screenshot({ path: screenshotPath('agent-inbox-6-resolved.png') });
    const resolved = await userView(user);
    expect(resolved.handoff).toMatchObject({ status: 'resolved' });
    expect(resolved.transcript.at(-1)).toMatchObject({ role: 'bot' });
    await page.getByTestId('inbox-tab-resolved').click();
    await expect.poll(() => page.getByTestId('inbox-item').count()).toBe(1);

    expect(errors).toEqual([]);
    expect(otherErrors).toEqual([]);
    await other.close();
    await page.close();
  }, 90_000);

  it('says when live updates drop, reconnects by itself and catches up with what happened meanwhile', async () => {
    const page = await browser.newPage({ viewport });
    const errors = watchErrors(page, /ERR_FAILED|net::/);
    let release = () => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    let streams = 0;
    await page.route('**/api/agent/events', async (route) => {
      streams += 1;
      if (streams > 1) return route.continue();
      await held; // the first stream hangs, then breaks
      return route.abort('connectionreset');
    });
    await signIn(page, xiaowang.token);
    await expect.poll(() => page.getByTestId('agent-inbox').isVisible(), { timeout: 10_000 }).toBe(true);
    expect(await page.getByTestId('inbox-item').count()).toBe(0);

    // A handoff while the stream is down: nothing tells the page yet.
    const user = await createConversation(server.baseUrl);
    await say(user, '转人工');
    release();
    await expect.poll(() => page.getByTestId('inbox-live-status').innerText()).toContain('实时更新已断开');
    await page.screenshot({ path: screenshotPath('agent-inbox-8-reconnecting.png') });
    // Back after the first retry (1 s): the notice goes and the missed conversation is there.
    await expect.poll(() => page.locator('#inbox').getAttribute('data-live'), { timeout: 10_000 }).toBe('true');
    expect(await page.getByTestId('inbox-live-status').isVisible()).toBe(false);
    await expect.poll(() => page.getByTestId('inbox-item').count()).toBe(1);
    expect(streams).toBe(2);
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);

  it('the admin creates an agent (token shown once), sees it listed and disables it; the disabled token no longer signs in', async () => {
    const page = await browser.newPage({ viewport });
    // Signing in asks the agent API first (agents sign in far more often): the admin token gets one 401 there.
    const errors = watchErrors(page, /status of 401/);
    await signIn(page, adminToken);
    await expect.poll(() => page.getByTestId('admin-agents').isVisible(), { timeout: 10_000 }).toBe(true);
    await expect.poll(() => page.getByTestId('admin-who').innerText()).toBe('管理员');
    expect(await page.getByTestId('agent-inbox').isVisible()).toBe(false);
    // The earlier tests' handoffs in the admin's figures: two requested, one resolved by 小林.
    await expect.poll(() => page.locator('[data-stat="requested"] dd').innerText()).toBe('2');
    expect(await page.locator('[data-stat="resolvedByAgent"] dd').innerText()).toBe('1');
    expect(await page.getByTestId('admin-handoffs').locator('tr', { hasText: '小林' }).innerText()).toMatch(/小林\s+1\s+1\s+2/);
    await page.getByTestId('admin-agent-name').fill('小赵');
    await page.getByTestId('admin-agent-create').click();
    await expect.poll(() => page.getByTestId('admin-agent-token-box').isVisible()).toBe(true);
    const token = await page.getByTestId('admin-agent-token').innerText();
    expect(token.length).toBeGreaterThan(20);
    expect(await page.getByTestId('admin-agent-token-box').innerText()).toContain('只显示这一次');
    await expect.poll(() => page.getByTestId('admin-agent-row').count()).toBe(3);
    expect(await page.getByTestId('admin-agent-row').first().innerText()).toContain('小赵');
    await page.getByTestId('admin-agents').scrollIntoViewIfNeeded();
    await page.screenshot({ path: screenshotPath('agent-inbox-7-admin-agents.png'), fullPage: true });

    await page.getByTestId('admin-agent-token-done').click();
    expect(await page.getByTestId('admin-agent-token-box').isVisible()).toBe(false);
    const row = page.getByTestId('admin-agent-row').filter({ hasText: '小赵' });
    await row.getByTestId('admin-agent-disable').click();
    expect(await row.getByTestId('admin-agent-disable').innerText()).toContain('确认停用');
    await row.getByTestId('admin-agent-disable').click();
    await expect.poll(() => page.getByTestId('admin-agent-row').filter({ hasText: '小赵' }).getAttribute('data-disabled')).toBe('true');
    expect(errors).toEqual([]);
    await page.close();

    const agentPage = await browser.newPage({ viewport });
    await signIn(agentPage, token);
    await expect.poll(() => agentPage.locator('#login-notice').innerText(), { timeout: 10_000 }).toContain('令牌无效');
    expect(await agentPage.getByTestId('admin-login').isVisible()).toBe(true);
    expect(await agentPage.getByTestId('agent-inbox').isVisible()).toBe(false);
    await agentPage.close();
  }, 60_000);

  it('side by side: the user\'s widget on a phone and the agent\'s inbox, from 转人工 to the bot answering again', async () => {
    const agent = await createAgent(server.baseUrl, '小周');
    const inboxPage = await browser.newPage({ viewport });
    const errors = watchErrors(inboxPage);
    await signIn(inboxPage, agent.token);
    await expect.poll(() => inboxPage.locator('#inbox').getAttribute('data-live'), { timeout: 10_000 }).toBe('true');
    const waitingBefore = await inboxPage.getByTestId('inbox-item').count();

    const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
    const widget = await phone.newPage();
    await widget.goto(`${server.baseUrl}/`);
    await widget.getByTestId('wub-panel').waitFor({ state: 'visible' });
    await typeMessage(widget, '转人工');
    await expect.poll(() => inboxPage.getByTestId('inbox-item').count(), { timeout: 10_000 }).toBe(waitingBefore + 1);
    // The newest handoff is the last of the waiting list (oldest first).
    await inboxPage.getByTestId('inbox-item').last().click();
    await inboxPage.getByTestId('inbox-claim').click();
    await expect.poll(() => inboxPage.getByTestId('inbox-conv-status').innerText()).toBe('你在接待');
    await expect.poll(() => widgetLog(widget).innerText(), { timeout: 10_000 }).toContain('小周');

    await inboxPage.getByTestId('inbox-reply-input').fill('你好，我是客服小周，请问哪一步卡住了？');
    await inboxPage.getByTestId('inbox-reply-input').press('Enter');
    await expect.poll(() => widgetLog(widget).innerText(), { timeout: 10_000 }).toContain('请问哪一步卡住了');
    await widget.screenshot({ path: screenshotPath('agent-inbox-side-1-widget-reply.png') });

    await typeMessage(widget, '第三步找不到解绑按钮');
    await expect.poll(() => inboxPage.getByTestId('inbox-transcript').locator('[data-role="user"]').last().innerText(), { timeout: 10_000 }).toContain('第三步找不到解绑按钮');
    await inboxPage.screenshot({ path: screenshotPath('agent-inbox-side-2-inbox.png') });

    await inboxPage.getByTestId('inbox-resolve').click();
    await expect.poll(() => inboxPage.getByTestId('inbox-conv-status').innerText()).toBe('已结束');
    await expect.poll(() => widgetLog(widget).innerText(), { timeout: 10_000 }).toContain('客服已结束本次服务');
    await typeMessage(widget, '解绑后还能用微信支付吗');
    // The article's answer (then the bot's usual offer to walk through the steps).
    await expect.poll(() => widgetLog(widget).locator('[data-role="bot"]', { hasText: '微信支付' }).count(), { timeout: 10_000 }).toBeGreaterThan(0);
    await expect.poll(() => lastBotText(widget).innerText()).not.toBe('');
    await widget.screenshot({ path: screenshotPath('agent-inbox-side-3-widget-bot-again.png') });
    expect(errors).toEqual([]);
    await phone.close();
    await inboxPage.close();
  }, 60_000);
});
