/** What a support agent's tools do over the agent API: for the live-handoff tests. */
export const adminToken = 'test-admin-token';

export interface AgentCredentials {
  id: string;
  name: string;
  token: string;
}

export async function createAgent(baseUrl: string, name: string): Promise<AgentCredentials> {
  const response = await fetch(`${baseUrl}/api/admin/agents`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${adminToken}` },
    body: JSON.stringify({ name }),
  });
  if (response.status !== 201) throw new Error(`create agent: ${response.status} ${await response.text()}`);
  return (await response.json()) as AgentCredentials;
}

export function agentCall(baseUrl: string, agent: Pick<AgentCredentials, 'token'>, method: string, path: string, body?: unknown) {
  return fetch(`${baseUrl}/api/agent${path}`, {
    method,
    headers: { authorization: `Bearer ${agent.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

export interface StreamEvent {
  event: string;
  data: { conversationId: string } & Record<string, unknown>;
}

/** `GET /api/agent/events` read as the dashboard reads it: fetch and a stream reader. */
export async function openAgentStream(baseUrl: string, agent: Pick<AgentCredentials, 'token'>) {
  const controller = new AbortController();
  const response = await fetch(`${baseUrl}/api/agent/events`, { headers: { authorization: `Bearer ${agent.token}` }, signal: controller.signal });
  const events: StreamEvent[] = [];
  let comments = 0;
  let ended = false;
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  const reading = (async () => {
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true });
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          if (block.startsWith(':')) comments++;
          const event = /^event: (.+)$/m.exec(block)?.[1];
          const data = /^data: (.+)$/m.exec(block)?.[1];
          if (event && data) events.push({ event, data: JSON.parse(data) as StreamEvent['data'] });
        }
      }
    } catch {
      // aborted
    }
    ended = true;
  })();
  return {
    response,
    events,
    comments: () => comments,
    ended: () => ended,
    async close() {
      controller.abort();
      await reading;
    },
  };
}

export async function until(condition: () => boolean | Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
