import type { Browser, BrowserContext, Page, WebSocketRoute } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseServiceHours } from '../../src/support/serviceHours.js';
import { adminToken, agentCall, createAgent, openAgentStream, until, type AgentCredentials, type StreamEvent } from '../support/agentClient.js';
import { lastBotText, launchChromium, screenshotPath, typeMessage, widgetLog } from '../support/browser.js';
import { createConversation, sendMessage, startTestServer, type TestServer } from '../support/testServer.js';

/**
 * The user's side of a live handoff, in Chromium: the widget on a phone (390 px) and a desktop
 * (1366 px), the agent working through the REST agent API with their own token.
 */

/**
 * The agent stream's event for the user's line with this text: the agent's own lines are
 * message.created events of the same conversation too, so the conversation alone is not enough.
 */
const userLineOf = (conversationId: string, text: string) => (event: StreamEvent) => {
  const line = event.data['message'] as { role?: string; text?: string } | undefined;
  return event.event === 'message.created' && event.data.conversationId === conversationId && line?.role === 'user' && line.text === text;
};

let server: TestServer;
let browser: Browser;
const allDay = parseServiceHours('00:00-24:00', 'Asia/Shanghai');

beforeAll(async () => {
  server = await startTestServer({ adminToken, serviceHours: allDay });
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  server?.cleanup();
});

const phone = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 };
const desktop = { viewport: { width: 1366, height: 900 } };

interface UserPage {
  context: BrowserContext;
  page: Page;
  /** Cuts the widget's websocket and refuses new ones until `restore`. */
  cutSocket(): void;
  restoreSocket(): void;
  /** Paths of the REST requests the widget made. */
  requests: string[];
}

async function openWidget(target: TestServer, options: typeof phone | typeof desktop): Promise<UserPage> {
  const context = await browser.newContext(options);
  const page = await context.newPage();
  let blocked = false;
  let open: { page: WebSocketRoute; server: WebSocketRoute } | undefined;
  await page.routeWebSocket(/\/ws$/, (ws) => {
    if (blocked) return void ws.close();
    open = { page: ws, server: ws.connectToServer() };
  });
  const requests: string[] = [];
  page.on('request', (request) => {
    const url = new URL(request.url());
    if (url.pathname.startsWith('/api/')) requests.push(url.pathname + url.search);
  });
  await page.goto(target.baseUrl + '/');
  await page.getByTestId('wub-panel').waitFor({ state: 'visible' });
  await expect.poll(() => widgetLog(page).innerText()).toContain('微信钱包解绑助手');
  return {
    context,
    page,
    requests,
    cutSocket() {
      blocked = true;
      void open?.server.close();
      void open?.page.close();
    },
    restoreSocket() {
      blocked = false;
    },
  };
}

const conversationIdOf = (page: Page) =>
  page.evaluate(() => {
    const key = Object.keys(localStorage).find((name) => name.startsWith('wub.conversation.'))!;
    return (JSON.parse(localStorage.getItem(key)!) as { id: string }).id;
  });

const banner = (page: Page) => page.getByTestId('wub-handoff');
const notes = (page: Page) => widgetLog(page).getByTestId('wub-note');
const agentBubbles = (page: Page) => widgetLog(page).locator('[data-role="agent"]');

async function shoot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: screenshotPath(name) });
}

describe('live handoff in the widget', () => {
  for (const [label, options] of [
    ['390 px phone', phone],
    ['1366 px desktop', desktop],
  ] as const) {
    it(`${label}: waits honestly in the queue, talks with the agent live, survives a reload and a dropped socket, and gets the bot back after the resolve`, async () => {
      const size = options.viewport.width;
      const agent: AgentCredentials = await createAgent(server.baseUrl, '小林');
      const stream = await openAgentStream(server.baseUrl, agent); // the agent is online
      // Someone is already waiting: the user is second in the queue.
      const earlier = await createConversation(server.baseUrl);
      await sendMessage(server.baseUrl, earlier, { text: '转人工' });
      const user = await openWidget(server, options);
      const { page } = user;
      try {
        await typeMessage(page, '转人工');
        await expect.poll(() => banner(page).isVisible()).toBe(true);
        await expect.poll(() => banner(page).innerText()).toContain('你前面还有 1 位');
        expect(await banner(page).innerText()).toContain('服务时间 00:00-24:00');
        expect(await page.getByTestId('wub-handoff-cancel').innerText()).toBe('不等了，回到机器人');
        // Someone is online: the calm pulse, not the still clock of "nobody online".
        expect(await banner(page).locator('.wub-handoff-pulse').count()).toBe(1);
        expect(await lastBotText(page).innerText()).toContain('你前面还有 1 位');
        // The bot's bubbles say who wrote them, with a time.
        expect(await widgetLog(page).locator('.wub-row--bot.wub-row--first [data-testid="wub-sender"]').first().innerText()).toBe('智能助手');
        expect(await widgetLog(page).getByTestId('wub-time').last().innerText()).toMatch(/^\d{2}:\d{2}$/);
        await shoot(page, `handoff-waiting-${size}.png`);

        // The one ahead leaves the queue (another agent resolves it): the user moves up, live.
        const id = await conversationIdOf(page);
        const other = await createAgent(server.baseUrl, '阿美');
        expect((await agentCall(server.baseUrl, other, 'POST', `/conversations/${earlier.id}/claim`)).status).toBe(200);
        await expect.poll(() => banner(page).innerText()).toContain('下一位就是你');
        expect((await agentCall(server.baseUrl, other, 'POST', `/conversations/${earlier.id}/resolve`)).status).toBe(200);

        // 小林 claims it: a note in the conversation, the banner names who answers, the waiting buttons go.
        expect((await agentCall(server.baseUrl, agent, 'POST', `/conversations/${id}/claim`)).status).toBe(200);
        await expect.poll(() => notes(page).allInnerTexts()).toContain('客服 小林 已接入');
        await expect.poll(() => banner(page).innerText()).toContain('客服 小林 正在为你服务');
        expect(await page.getByTestId('wub-handoff-cancel').isVisible()).toBe(false);
        expect(await page.getByTestId('wub-quick-replies').isVisible()).toBe(false);

        // The agent types, then answers: the dots with their face, then their bubble with name and avatar.
        expect((await agentCall(server.baseUrl, agent, 'POST', `/conversations/${id}/typing`)).status).toBe(204);
        await expect.poll(() => page.getByTestId('wub-agent-typing').isVisible()).toBe(true);
        expect(await page.getByTestId('wub-typing').isVisible()).toBe(false); // not the bot's dots
        await shoot(page, `handoff-agent-typing-${size}.png`);
        const reply = '你好，我是客服小林。请问你现在卡在第几步？';
        expect((await agentCall(server.baseUrl, agent, 'POST', `/conversations/${id}/messages`, { text: reply })).status).toBe(201);
        await expect.poll(() => agentBubbles(page).last().innerText()).toBe(reply);
        expect(await page.getByTestId('wub-agent-typing').isVisible()).toBe(false);
        const agentRow = widgetLog(page).locator('.wub-row--agent').last();
        expect(await agentRow.getByTestId('wub-sender').innerText()).toBe('客服 小林');
        expect(await agentRow.locator('.wub-avatar').innerText()).toBe('小');
        const [agentColour, botColour] = await Promise.all([
          agentBubbles(page).last().evaluate((node) => getComputedStyle(node).backgroundColor),
          lastBotText(page).evaluate((node) => getComputedStyle(node).backgroundColor),
        ]);
        expect(agentColour).not.toBe(botColour);
        await shoot(page, `handoff-agent-${size}.png`);

        // The user answers: the agent's inbox hears the typing, then the message, and the agent's GET has it.
        await page.getByTestId('wub-input').pressSequentially('第 7 步', { delay: 30 });
        await until(() => stream.events.some((event) => event.event === 'typing' && event.data.conversationId === id));
        await page.getByTestId('wub-input').press('Enter');
        await until(() => stream.events.some(userLineOf(id, '第 7 步')));
        const detail = (await (await agentCall(server.baseUrl, agent, 'GET', `/conversations/${id}`)).json()) as { transcript: { role: string; text: string }[] };
        expect(detail.transcript.at(-1)).toMatchObject({ role: 'user', text: '第 7 步' });
        // No bot reply to a message for the agent, and no "no reply" notice either.
        expect(await page.getByTestId('wub-typing').isVisible()).toBe(false);
        expect(await lastBotText(page).innerText()).toContain('你前面还有 1 位');

        // A secret typed to the agent still gets the bot's warning, which is not the agent leaving.
        await typeMessage(page, '我的手机号13812345678');
        await expect.poll(() => lastBotText(page).innerText()).toContain('不要把验证码');
        expect(await notes(page).allInnerTexts()).toEqual(['客服 小林 已接入']);
        expect(await banner(page).innerText()).toContain('客服 小林 正在为你服务');

        // A reload: history, names, the note and the banner come back from the server.
        await page.reload();
        await page.getByTestId('wub-panel').waitFor({ state: 'visible' });
        await expect.poll(() => agentBubbles(page).last().innerText()).toBe(reply);
        expect(await notes(page).allInnerTexts()).toEqual(['客服 小林 已接入']);
        await expect.poll(() => banner(page).innerText()).toContain('客服 小林 正在为你服务');
        expect(await widgetLog(page).locator('[data-role="user"]').last().innerText()).not.toContain('13812345678');
        expect(await widgetLog(page).locator('[data-role="user"]').nth(-2).innerText()).toBe('第 7 步');

        // The socket drops while the agent writes: after the reconnect the gap is read with ?after=<seq>.
        await expect.poll(() => page.getByTestId('wub-notice').isVisible()).toBe(false);
        user.cutSocket();
        await expect.poll(() => page.getByTestId('wub-notice').innerText()).toContain('正在重新连接');
        const missed = '第 7 步请先换一种验证方式试试。';
        expect((await agentCall(server.baseUrl, agent, 'POST', `/conversations/${id}/messages`, { text: missed })).status).toBe(201);
        user.restoreSocket();
        await expect.poll(() => agentBubbles(page).last().innerText(), { timeout: 15_000 }).toBe(missed);
        expect(user.requests.some((path) => path.startsWith(`/api/conversations/${id}?after=`))).toBe(true);
        expect(await agentBubbles(page).count()).toBe(2); // nothing twice

        // The user says thanks and the agent resolves right away: the user is told (the note before the
        // bot's line), the banner goes, and the bot answers the next question.
        await typeMessage(page, '好的，谢谢');
        await until(() => stream.events.some(userLineOf(id, '好的，谢谢')));
        expect((await agentCall(server.baseUrl, agent, 'POST', `/conversations/${id}/resolve`)).status).toBe(200);
        await expect.poll(() => notes(page).allInnerTexts()).toContain('客服 小林 已离开对话，接下来由智能助手为你服务');
        await expect.poll(() => lastBotText(page).innerText()).toContain('客服已结束本次服务');
        const order = await widgetLog(page).evaluate((log) =>
          [...log.children].map((child) => (child.matches('[data-testid="wub-note"]') ? 'note' : child.className.includes('wub-row--bot') ? 'bot' : 'other')).slice(-2),
        );
        expect(order).toEqual(['note', 'bot']);
        await expect.poll(() => banner(page).isVisible()).toBe(false);
        await shoot(page, `handoff-resolved-${size}.png`);
        await typeMessage(page, '解绑后购物记录还在吗');
        await expect.poll(() => widgetLog(page).locator('[data-role="bot"]').nth(-2).innerText()).toContain('支付记录、消费历史和账单');

        // After a reload the two notes stand where they stood.
        await page.reload();
        await page.getByTestId('wub-panel').waitFor({ state: 'visible' });
        await expect.poll(() => notes(page).allInnerTexts()).toEqual(['客服 小林 已接入', '客服 小林 已离开对话，接下来由智能助手为你服务']);
        expect(await banner(page).isVisible()).toBe(false);
      } finally {
        await stream.close();
        await user.context.close();
      }
    }, 90_000);
  }

  it('390 px phone: nobody online says so with the hours and no waiting animation, and 不等了 brings the bot back', async () => {
    // A server no agent has ever called: nobody can answer now.
    const lonely = await startTestServer({ adminToken, serviceHours: allDay });
    const user = await openWidget(lonely, phone);
    const { page } = user;
    try {
      await typeMessage(page, '转人工');
      await expect.poll(() => banner(page).isVisible()).toBe(true);
      await expect.poll(() => banner(page).innerText()).toContain('现在没有人工客服在线');
      expect(await banner(page).innerText()).toContain('服务时间 00:00-24:00');
      expect(await banner(page).locator('.wub-handoff-pulse').count()).toBe(0);
      expect(await lastBotText(page).innerText()).toContain('微信客服');
      await shoot(page, 'handoff-nobody-390.png');

      await page.getByTestId('wub-handoff-cancel').click();
      await expect.poll(() => lastBotText(page).innerText()).toContain('已取消排队');
      await expect.poll(() => banner(page).isVisible()).toBe(false);
      expect(await widgetLog(page).locator('[data-role="user"]').last().innerText()).toBe('不等了，回到机器人');
      await typeMessage(page, '解绑后购物记录还在吗');
      await expect.poll(() => widgetLog(page).locator('[data-role="bot"]').nth(-2).innerText()).toContain('支付记录、消费历史和账单');
    } finally {
      await user.context.close();
      await lonely.stop();
      lonely.cleanup();
    }
  }, 60_000);
});
