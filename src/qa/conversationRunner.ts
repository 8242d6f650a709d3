import { transitionsTaken } from '../dialogue/flowMap.js';
import type { Reply } from '../dialogue/replyRenderer.js';
import type { BotClient, BotTurn } from './botClients.js';
import { botiumWildcardMatch, normalizeBotiumText } from './botiumScript.js';
import type { BotReplyCheck, Expectation, ScriptedConversation, ScriptStep } from './conversationScript.js';

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

/** What the expectations read of a turn (a greeting has no more than this). */
export type CheckedTurn = Pick<BotTurn, 'replies' | 'intent' | 'state' | 'progress' | 'handoff'>;

/** Every expectation of a step checked against one turn; empty when all hold. */
export function checkTurn(expect: Expectation, turn: CheckedTurn): Mismatch[] {
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
  const forbidden = asList(expect.textNotContains).filter((part) => text.includes(part));
  if (forbidden.length) fail('textNotContains', `none of: ${asList(expect.textNotContains).join(' | ')}`, `contains ${forbidden.join(', ')}: ${text}`);
  if (expect.regex !== undefined && !new RegExp(expect.regex, 'u').test(text)) fail('regex', `/${expect.regex}/`, text);
  const missingButtons = (expect.quickReplies ?? []).filter((title) => !buttons.includes(title));
  if (missingButtons.length) fail('quickReplies', (expect.quickReplies ?? []).join(', '), buttons.length ? buttons.join(', ') : '(no buttons)');
  if (expect.handoff !== undefined && Boolean(turn.handoff) !== expect.handoff) fail('handoff', expect.handoff ? 'handed to a human' : 'not handed off', turn.handoff ? `handed off (${turn.handoff.reason})` : 'not handed off');
  if (expect.progress !== undefined) {
    // The step of an unbinding in progress; the turn that ends one reports where it ended, not a step to do.
    const running = turn.progress && (turn.progress.status ?? 'active') === 'active' ? turn.progress : undefined;
    const actual = running?.step ?? null;
    const shown = actual === null ? (turn.progress ? `no step shown (${turn.progress.status} at step ${turn.progress.step})` : 'no step shown') : `step ${actual}`;
    if (actual !== expect.progress) fail('progress', expect.progress === null ? 'no step shown' : `step ${expect.progress}`, shown);
  }
  if (expect.progressStatus !== undefined) {
    const actual = turn.progress ? (turn.progress.status ?? 'active') : null;
    if (actual !== expect.progressStatus) fail('progressStatus', expect.progressStatus ?? 'no progress', actual ?? 'no progress');
  }
  const ids = turn.replies.map((reply) => reply.id);
  const said = ids.length ? ids.join(', ') : '(no replies)';
  const says = asList(expect.says);
  if (says.length && !inOrder(says, ids)) {
    const allThere = says.every((id) => ids.includes(id));
    fail('says', says.length > 1 ? `${says.join(', ')} (in this order)` : says[0]!, allThere ? `${said} (not in this order)` : said);
  }
  const saidAnyway = asList(expect.saysNot).filter((id) => ids.includes(id));
  if (saidAnyway.length) fail('saysNot', `none of: ${asList(expect.saysNot).join(', ')}`, `said ${saidAnyway.join(', ')}: ${said}`);
  if (expect.botReplies) mismatches.push(...checkBotReplies(expect.botReplies, turn));
  return mismatches;
}

/** Whether `wanted` appears in `ids` in this order, other ids allowed between them. */
function inOrder(wanted: readonly string[], ids: readonly string[]): boolean {
  let next = 0;
  for (const id of ids) if (id === wanted[next]) next++;
  return next === wanted.length;
}

/**
 * Botium `#bot` blocks: each reads the turn's next reply, as botium-core reads the next message the
 * bot sent. Replies no block reads are not an error (botium-core's default too).
 */
function checkBotReplies(checks: readonly BotReplyCheck[], turn: CheckedTurn): Mismatch[] {
  const mismatches: Mismatch[] = [];
  checks.forEach((check, index) => {
    const reply = turn.replies[index];
    const fail = (expected: string, actual: string) => mismatches.push({ check: `#bot (${check.source})`, expected, actual });
    if (!reply) return fail(check.text.length ? `a reply matching "${check.text.join('" or "')}"` : 'a reply', `no reply ${index + 1} (the bot sent ${turn.replies.length})`);
    const text = normalizeBotiumText(reply.text);
    if (check.text.length) {
      const matched = check.text.some((expected) => botiumWildcardMatch(text, expected));
      if (matched === check.textNot) fail(`${check.textNot ? 'not ' : ''}"${check.text.join('" or "')}"`, text);
    }
    if (check.buttons) {
      const buttons = reply.quickReplies ?? [];
      const found = (expected: string) => buttons.some((button) => botiumWildcardMatch(normalizeBotiumText(button.title), expected) || botiumWildcardMatch(button.payload, expected));
      const offered = buttons.length ? buttons.map((button) => button.title).join(', ') : '(no buttons)';
      if (check.buttons.not) {
        const present = check.buttons.expected.filter(found);
        if (present.length) fail(`no buttons ${check.buttons.expected.join(', ')}`, offered);
      } else if (check.buttons.expected.length ? !check.buttons.expected.every(found) : buttons.length === 0) {
        fail(check.buttons.expected.length ? `buttons ${check.buttons.expected.join(', ')}` : 'some buttons', offered);
      }
    }
    if (check.intent && (turn.intent.name === check.intent.expected) === check.intent.not) {
      fail(`${check.intent.not ? 'not ' : ''}intent ${check.intent.expected}`, turn.intent.name);
    }
  });
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
      if (step.kind === 'greeting') {
        const greeting: CheckedTurn = { replies: session.greeting, intent: { name: 'greet', confidence: 1 }, state: 'idle', progress: null, handoff: null };
        const mismatches = checkTurn(step.expect, greeting);
        if (mismatches.length) return result({ passed: false, failure: { stepIndex, step, mismatches, botSaid: session.greeting.map((reply) => reply.text) } });
        continue;
      }
      let text = step.text;
      let displayText: string | undefined;
      if (step.kind === 'click') {
        // By title; a Botium `BUTTON` line may name the payload instead.
        const offeredButtons = [...previousReplies].reverse().flatMap((reply) => reply.quickReplies ?? []);
        const button = offeredButtons.find((reply) => reply.title === step.text) ?? offeredButtons.find((reply) => reply.payload === step.text);
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
