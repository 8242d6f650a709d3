import { beforeAll, describe, expect, it } from 'vitest';
import { seedConversations } from '../support/seedConversations.js';
import { serveDuringTests } from '../support/testServer.js';

const adminToken = 'test-admin-token-0123456789';

describe('admin routes are off without ADMIN_TOKEN', () => {
  const server = serveDuringTests();

  it.each(['/admin', '/admin/', '/api/admin/analytics', '/api/admin/tickets'])('%s answers 404, not an open dashboard', async (path) => {
    const response = await fetch(server.baseUrl + path, { headers: { authorization: `Bearer ${adminToken}` } });
    expect(response.status).toBe(404);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('admin_disabled');
  });
});

describe('admin API with ADMIN_TOKEN', () => {
  const server = serveDuringTests({ adminToken });
  let seeded: Awaited<ReturnType<typeof seedConversations>>;
  const admin = (path: string, init: RequestInit = {}) =>
    fetch(server.baseUrl + path, { ...init, headers: { authorization: `Bearer ${adminToken}`, ...(init.body ? { 'content-type': 'application/json' } : {}) } });

  beforeAll(async () => {
    seeded = await seedConversations(server.baseUrl);
  });

  it('refuses a missing token with 401 and a wrong one with 403', async () => {
    expect((await fetch(`${server.baseUrl}/api/admin/analytics`)).status).toBe(401);
    expect((await fetch(`${server.baseUrl}/api/admin/analytics`, { headers: { authorization: 'Bearer nope' } })).status).toBe(403);
  });

  it('reports deflection, resolution, satisfaction and fallbacks for the seeded conversations', async () => {
    const analytics = (await (await admin('/api/admin/analytics')).json()) as {
      totals: Record<string, unknown> & { ratings: { helpful: number; notHelpful: number; satisfaction: number }; questions: { answered: number; notCovered: number } };
      daily: { conversations: number }[];
    };
    expect(analytics.totals).toMatchObject({ conversations: 5, engaged: 4, handedOff: 1, deflectionRate: 0.75, resolved: 2, resolutionRate: 0.5 });
    expect(analytics.totals.ratings).toEqual({ helpful: 1, notHelpful: 0, satisfaction: 1 });
    expect(analytics.totals.fallbacks).toBe(2);
    expect(analytics.totals.questions).toEqual({ answered: 2, notCovered: 1 });
    expect(analytics.daily.reduce((sum, day) => sum + day.conversations, 0)).toBe(5);
  });

  it('shows the unbinding funnel and verification outcomes by method', async () => {
    const analytics = (await (await admin('/api/admin/analytics')).json()) as {
      funnel: { stage: string; reached: number; droppedHere: number; cancelledHere: number }[];
      verification: { method: string; attempted: number; passed: number; failed: number; handedOff: number }[];
    };
    const stage = (name: string) => analytics.funnel.find((entry) => entry.stage === name)!;
    expect(stage('started').reached).toBe(2);
    expect(stage('step7').reached).toBe(2);
    expect(stage('step7').droppedHere).toBe(1);
    expect(stage('completed').reached).toBe(1);
    // The handed-off conversation stopped at step 7 without cancelling.
    expect(analytics.funnel.every((entry) => entry.cancelledHere === 0)).toBe(true);
    expect(analytics.verification).toEqual([
      { method: 'sms', attempted: 1, passed: 1, failed: 0, handedOff: 0 },
      { method: 'biometric', attempted: 1, passed: 0, failed: 1, handedOff: 1 },
      { method: 'securityQuestion', attempted: 0, passed: 0, failed: 0, handedOff: 0 },
    ]);
  });

  it('lists what the bot could not answer and exports it as JSONL for training', async () => {
    const analytics = (await (await admin('/api/admin/analytics')).json()) as { unanswered: { text: string; count: number }[]; topIntents: { intent: string }[] };
    expect(analytics.unanswered.map((entry) => entry.text)).toEqual(expect.arrayContaining(['asdfghjkl', '微信怎么注销账号']));
    expect(analytics.topIntents.map((entry) => entry.intent)).toContain('affirm');
    const exported = await admin('/api/admin/unanswered.jsonl');
    expect(exported.headers.get('content-disposition')).toMatch(/attachment; filename="?unanswered-\d{4}-\d{2}-\d{2}-\d{4}-\d{2}-\d{2}\.jsonl"?$/);
    const lines = (await exported.text()).trim().split('\n').map((line) => JSON.parse(line) as { text: string; intent: string });
    expect(lines).toEqual(expect.arrayContaining([expect.objectContaining({ text: 'asdfghjkl', intent: 'out_of_scope' })]));
  });

  it('refuses a malformed date range', async () => {
    const response = await admin('/api/admin/analytics?from=yesterday');
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('invalid_range');
  });

  it.each(['2024-02-30', '2023-02-29', '2024-13-01', '2024-04-31', '2024-00-10'])('refuses the impossible date %s with a 400 that names it', async (day) => {
    const response = await admin(`/api/admin/analytics?from=${day}`);
    expect(response.status).toBe(400);
    const { error } = (await response.json()) as { error: { code: string; message: string } };
    expect(error.code).toBe('invalid_range');
    expect(error.message).toContain(day);
  });

  it('reads a wide range (0000-01-01 to 9999-12-31) as everything up to today', async () => {
    const response = await admin('/api/admin/analytics?from=0000-01-01&to=9999-12-31');
    expect(response.status).toBe(200);
    const analytics = (await response.json()) as { range: { from: string; to: string }; totals: { conversations: number } };
    expect(analytics.totals.conversations).toBe(5);
    expect(analytics.range).toEqual({ from: '0000-01-01', to: new Date().toISOString().slice(0, 10) });
    expect((await admin('/api/admin/analytics?from=2024-02-29&to=9999-12-31')).status).toBe(200);
  });

  it('lists the open ticket with its redacted transcript, and closes it', async () => {
    const open = (await (await admin('/api/admin/tickets')).json()) as { tickets: { id: number; conversationId: string; reason: string; step: number; transcript: { role: string; text: string }[] }[] };
    expect(open.tickets).toHaveLength(1);
    const [ticket] = open.tickets;
    expect(ticket).toMatchObject({ conversationId: seeded.handedOff.id, reason: 'verification_failed', step: 7 });
    expect(ticket!.transcript.some((line) => line.role === 'user')).toBe(true);
    const closed = await admin(`/api/admin/tickets/${ticket!.id}/close`, { method: 'POST', body: '{}' });
    expect(((await closed.json()) as { ticket: { status: string } }).ticket.status).toBe('closed');
    expect(((await (await admin('/api/admin/tickets')).json()) as { tickets: unknown[] }).tickets).toHaveLength(0);
    expect(((await (await admin('/api/admin/tickets?status=closed')).json()) as { tickets: unknown[] }).tickets).toHaveLength(1);
    expect((await admin('/api/admin/tickets/999/close', { method: 'POST', body: '{}' })).status).toBe(404);
  });

  it('serves the dashboard and Chart.js from the project', async () => {
    expect(await (await fetch(`${server.baseUrl}/admin/`)).text()).toContain('admin.js');
    const chart = await fetch(`${server.baseUrl}/admin/vendor/chart.umd.js`);
    expect(chart.status).toBe(200);
    expect((await chart.text()).length).toBeGreaterThan(100_000);
  });

  it('exposes Prometheus metrics: messages, latency, intents, fallbacks, handoffs', async () => {
    const text = await (await fetch(`${server.baseUrl}/metrics`)).text();
    expect(text).toMatch(/^chatbot_messages_total \d+/m);
    expect(Number(/^chatbot_messages_total (\d+)/m.exec(text)![1])).toBeGreaterThanOrEqual(28);
    expect(text).toContain('chatbot_turn_duration_seconds_bucket');
    expect(text).toMatch(/chatbot_intents_total\{intent="unbind_wallet"\} \d+/);
    expect(text).toMatch(/^chatbot_fallbacks_total [1-9]/m);
    expect(text).toMatch(/chatbot_handoffs_total\{reason="verification_failed"\} 1/);
  });
});
