import { transitionsTaken } from '../dialogue/flowMap.js';
import type { Reply } from '../dialogue/replyRenderer.js';
import type { BotClient, BotTurn } from './botClients.js';
import type { Expectation, ScriptedConversation, ScriptStep } from './conversationScript.js';

export interface Mismatch {
  /** Which expectation, e.g. "state" or "textContains". */
  check: string;
  expected: string;
  actual: string;
}

export interface StepFailure {
  stepIndex: number;
  step: ScriptStep;
  mismatches: Mismatch[];
  /** What the bot said in the failing turn. */
  botSaid: string[];
}

export interface TranscriptLine {
  role: 'user' | 'bot';
  text: string;
}

export interface ConversationResult {
  conversation: ScriptedConversation;
  passed: boolean;
  failure?: StepFailure;
  /** A failure that is not an expectation: the bot could not be reached, an exception. */
  error?: string;
  transcript: TranscriptLine[];
  intents: string[];
  states: string[];
  transitions: string[];
  durationMs: number;
}

const asList = (value: string | string[] | undefined) => (value === undefined ? [] : Array.isArray(value) ? value : [value]);

/** Every expectation of a step checked against one turn; empty when all hold. */
export function checkTurn(expect: Expectation, turn: BotTurn): Mismatch[] {
  const mismatches: Mismatch[] = [];
  const text = turn.replies.map((reply) => reply.text).join('\n');
  const buttons = turn.replies.at(-1)?.quickReplies?.map((reply) => reply.title) ?? [];
  const fail = (check: string, expected: string, actual: string) => mismatches.push({ check, expected, actual });
  if (expect.intent !== undefined && turn.intent.name !== expect.intent) fail('intent', expect.intent, `${turn.intent.name} (${turn.intent.confidence.toFixed(2)})`);
  if (expect.minConfidence !== undefined && turn.intent.confidence < expect.minConfidence) {
    fail('minConfidence', `≥ ${expect.minConfidence}`, turn.intent.confidence.toFixed(3));
  }
  if (expect.state !== undefined && turn.state !== expect.state) fail('state', expect.state, turn.state);
  if (expect.stateStartsWith !== undefined && !turn.state.startsWith(expect.stateStartsWith)) fail('stateStartsWith', `${expect.stateStartsWith}…`, turn.state);
  const anyOf = asList(expect.textContains);
  if (anyOf.length && !anyOf.some((part) => text.includes(part))) fail('textContains', anyOf.length > 1 ? `any of: ${anyOf.join(' | ')}` : anyOf[0]!, text);
  for (const part of expect.allTextContains ?? []) if (!text.includes(part)) fail('textContains', part, text);
  const forbidden = asList(expect.textNotContains).filter((part) => text.includes(part));
  if (forbidden.length) fail('textNotContains', `none of: ${asList(expect.textNotContains).join(' | ')}`, `contains ${forbidden.join(', ')}: ${text}`);
  if (expect.regex !== undefined && !new RegExp(expect.regex, 'u').test(text)) fail('regex', `/${expect.regex}/`, text);
  const missingButtons = (expect.quickReplies ?? []).filter((title) => !buttons.includes(title));
  if (missingButtons.length) fail('quickReplies', (expect.quickReplies ?? []).join(', '), buttons.length ? buttons.join(', ') : '(no buttons)');
  if (expect.handoff !== undefined && Boolean(turn.handoff) !== expect.handoff) fail('handoff', expect.handoff ? 'handed to a human' : 'not handed off', turn.handoff ? `handed off (${turn.handoff.reason})` : 'not handed off');
  if (expect.progress !== undefined) {
    const actual = turn.progress?.step ?? null;
    if (actual !== expect.progress) fail('progress', expect.progress === null ? 'no step shown' : `step ${expect.progress}`, actual === null ? 'no step shown' : `step ${actual}`);
  }
  return mismatches;
}

/** Runs one scripted conversation in its own bot conversation; stops at the first failing step. */
export async function runConversation(client: BotClient, conversation: ScriptedConversation): Promise<ConversationResult> {
  const started = performance.now();
  const transcript: TranscriptLine[] = [];
  const intents: string[] = [];
  const states: string[] = ['idle'];
  const transitions: string[] = [];
  const result = (extra: Partial<ConversationResult> & { passed: boolean }): ConversationResult => ({
    conversation,
    transcript,
    intents,
    states,
    transitions,
    durationMs: performance.now() - started,
    ...extra,
  });
  try {
    const session = await client.open();
    let previousReplies: Reply[] = session.greeting;
    let state = 'idle';
    for (const line of session.greeting) transcript.push({ role: 'bot', text: line.text });
    for (const [stepIndex, step] of conversation.steps.entries()) {
      let text = step.text;
      let displayText: string | undefined;
      if (step.kind === 'click') {
        const button = [...previousReplies].reverse().flatMap((reply) => reply.quickReplies ?? []).find((reply) => reply.title === step.text);
        if (!button) {
          const offered = previousReplies.flatMap((reply) => reply.quickReplies ?? []).map((reply) => reply.title);
          return result({
            passed: false,
            failure: { stepIndex, step, botSaid: [], mismatches: [{ check: 'click', expected: `a button "${step.text}"`, actual: offered.length ? offered.join(', ') : '(no buttons)' }] },
          });
        }
        text = button.payload;
        displayText = button.title;
      }
      transcript.push({ role: 'user', text: displayText ?? text });
      const turn = await session.send(text, displayText);
      for (const reply of turn.replies) transcript.push({ role: 'bot', text: reply.text });
      intents.push(turn.intent.name);
      transitions.push(...transitionsTaken(state, turn.event));
      state = turn.state;
      states.push(state);
      const mismatches = checkTurn(step.expect, turn);
      if (mismatches.length) return result({ passed: false, failure: { stepIndex, step, mismatches, botSaid: turn.replies.map((reply) => reply.text) } });
      previousReplies = turn.replies;
    }
    return result({ passed: true });
  } catch (error) {
    return result({ passed: false, error: (error as Error).message });
  }
}

/** Runs conversations side by side (each in its own bot conversation), results in input order. */
export async function runConversations(client: BotClient, conversations: readonly ScriptedConversation[], concurrency = 8): Promise<ConversationResult[]> {
  const results: ConversationResult[] = new Array(conversations.length);
  let next = 0;
  const worker = async () => {
    while (next < conversations.length) {
      const index = next++;
      results[index] = await runConversation(client, conversations[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, conversations.length)) }, worker));
  return results;
}
