import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { z } from 'zod';

const scriptFile = new URL('./unbindingWithDigressions.yml', import.meta.url);

const scriptSchema = z
  .object({
    messages: z.array(z.object({ text: z.string().min(1), displayText: z.string().min(1).optional(), state: z.string().min(1) }).strict()).min(1),
  })
  .strict();

export interface ScriptStep {
  text: string;
  displayText?: string;
  /** Where the conversation must be after this message. */
  state: string;
  /** The request body, as sent: `{"text": …, "displayText"?: …}`. */
  body: string;
}

/** The conversation every benchmark client walks (bench/unbindingWithDigressions.yml). */
export function loadConversationScript(): ScriptStep[] {
  const { messages } = scriptSchema.parse(parse(readFileSync(scriptFile, 'utf8')));
  return messages.map(({ text, displayText, state }) =>
    displayText === undefined ? { text, state, body: JSON.stringify({ text }) } : { text, displayText, state, body: JSON.stringify({ text, displayText }) },
  );
}

export interface Conversation {
  id: string;
  token: string;
}

const requestTimeoutMs = 10_000;

export async function createConversation(baseUrl: string): Promise<Conversation> {
  const response = await fetch(`${baseUrl}/api/conversations`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{}',
    signal: AbortSignal.timeout(requestTimeoutMs),
  });
  if (response.status !== 201) throw new Error(`POST /api/conversations answered ${response.status}: ${await response.text()}`);
  const { id, token } = (await response.json()) as Conversation;
  return { id, token };
}

/** `count` new conversations, `parallel` requests at a time. */
export async function createConversations(baseUrl: string, count: number, parallel = 16): Promise<Conversation[]> {
  const conversations: Conversation[] = [];
  while (conversations.length < count) {
    const batch = Math.min(parallel, count - conversations.length);
    conversations.push(...(await Promise.all(Array.from({ length: batch }, () => createConversation(baseUrl)))));
  }
  return conversations;
}

export interface TurnAnswer {
  status: number;
  body: string;
  ms: number;
}

/** One REST turn, timed from sending the request to having read the whole answer. */
export async function sendTurn(baseUrl: string, conversation: Conversation, body: string): Promise<TurnAnswer> {
  const started = performance.now();
  const response = await fetch(`${baseUrl}/api/conversations/${conversation.id}/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${conversation.token}` },
    body,
    signal: AbortSignal.timeout(requestTimeoutMs),
  });
  const text = await response.text();
  return { status: response.status, body: text, ms: performance.now() - started };
}

export interface WalkedStep extends ScriptStep {
  replies: number;
  responseBytes: number;
  responseBody: string;
}

export class ScriptMismatchError extends Error {
  override name = 'ScriptMismatchError';
}

/**
 * Walks the script twice on a new conversation and checks every state, so the load that follows
 * is known to exercise the whole flow (and the script to loop cleanly) rather than a fallback.
 */
export async function walkScript(baseUrl: string, script: readonly ScriptStep[]): Promise<WalkedStep[]> {
  const conversation = await createConversation(baseUrl);
  const walked: WalkedStep[] = [];
  for (let round = 0; round < 2; round++) {
    for (const [index, step] of script.entries()) {
      const answer = await sendTurn(baseUrl, conversation, step.body);
      if (answer.status !== 200) throw new ScriptMismatchError(`step ${index + 1} (${step.text}) answered ${answer.status}: ${answer.body}`);
      const result = JSON.parse(answer.body) as { state: string; replies: unknown[] };
      if (result.state !== step.state) {
        throw new ScriptMismatchError(`round ${round + 1}, step ${index + 1} (${step.text}): expected state ${step.state}, got ${result.state}`);
      }
      if (round === 0) walked.push({ ...step, replies: result.replies.length, responseBytes: Buffer.byteLength(answer.body), responseBody: answer.body });
      else if (walked[index]!.replies !== result.replies.length) {
        throw new ScriptMismatchError(`step ${index + 1} (${step.text}) gave ${walked[index]!.replies} replies, then ${result.replies.length} in the second round`);
      }
    }
  }
  return walked;
}

/**
 * `turns` REST turns one after another (no concurrency), walking the script on new conversations;
 * creating the conversations is not timed. Returns each turn's latency in ms.
 */
export async function sequentialTurns(baseUrl: string, script: readonly ScriptStep[], turns: number): Promise<{ samples: number[]; failures: number }> {
  const samples: number[] = [];
  let failures = 0;
  let conversation = await createConversation(baseUrl);
  for (let turn = 0; turn < turns; turn++) {
    const index = turn % script.length;
    if (index === 0 && turn > 0) conversation = await createConversation(baseUrl);
    const step = script[index]!;
    const answer = await sendTurn(baseUrl, conversation, step.body);
    if (answer.status !== 200 || (JSON.parse(answer.body) as { state?: string }).state !== step.state) failures++;
    samples.push(answer.ms);
  }
  return { samples, failures };
}
