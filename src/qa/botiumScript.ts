import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';

/**
 * Botium's text formats, read the way botium-core reads them (its CompilerTxt, Convo and
 * ScriptingProvider): `.convo.txt` conversations, `.pconvo.txt` partial conversations included with
 * `INCLUDE name`, and `.utterances.txt` lists of phrasings. Matching is Botium's default,
 * wildcardIgnoreCase. What botium-core supports and we do not is refused with the line it is on,
 * rather than silently passing.
 */

export type BotiumSender = 'begin' | 'include' | 'me' | 'bot' | 'end';
const senders: readonly string[] = ['begin', 'include', 'me', 'bot', 'end'];

/** One `#sender` block as botium-core compiles it. */
export interface BotiumBlock {
  sender: BotiumSender;
  /** `#me channel`: the word after the sender (for `#include`, a partial convo's name). */
  channel: string | null;
  /** The block's text lines, joined with "\n", without a leading `!`/`?`; null when it has none. */
  messageText: string | null;
  /** The first text line started with `!`: the reply must not match. */
  not: boolean;
  /** The first text line started with `?` (Botium's optional step). */
  optional: boolean;
  asserters: BotiumCall[];
  logicHooks: BotiumCall[];
  userInputs: BotiumCall[];
  /** The line of the `#sender` tag, 1-based. */
  line: number;
}

export interface BotiumCall {
  name: string;
  args: string[];
  not: boolean;
  line: number;
}

export interface BotiumFile {
  /** The first line before any block; botium-core then uses the file name. */
  name: string | undefined;
  description: string | undefined;
  blocks: BotiumBlock[];
}

// The names botium-core registers by default; a line starting with one is a call, not text.
const asserterNames = new Set(
  'BUTTONS BUTTONS_COUNT BUTTONS_COUNT_REC MEDIA MEDIA_COUNT MEDIA_COUNT_REC CARDS CARDS_COUNT CARDS_COUNT_REC PAUSE_ASSERTER JSON_PATH JSON_PATH_COUNT RESPONSE_LENGTH FORMS ENTITIES ENTITY_VALUES ENTITY_CONTENT INTENT INTENT_UNIQUE INTENT_CONFIDENCE TEXT_CONTAINS_ANY TEXT_CONTAINS_ANY_IC TEXT_CONTAINS_ALL TEXT_CONTAINS_ALL_IC TEXT_WILDCARD_ANY TEXT_WILDCARD_ANY_IC TEXT_WILDCARD_ALL TEXT_WILDCARD_ALL_IC TEXT_WILDCARDEXACT_ANY TEXT_WILDCARDEXACT_ANY_IC TEXT_WILDCARDEXACT_ALL TEXT_WILDCARDEXACT_ALL_IC TEXT_REGEXP_ANY TEXT_REGEXP_ANY_IC TEXT_REGEXP_ALL TEXT_REGEXP_ALL_IC TEXT_EQUALS TEXT_EQUALS_IC TEXT TEXT_IC TEXT_WER BOT_CONSUMED BOT_UNCONSUMED_COUNT'.split(' '),
);
const logicHookNames = new Set(
  'PAUSE WAITFORBOT SET_SCRIPTING_MEMORY CLEAR_SCRIPTING_MEMORY ASSIGN_SCRIPTING_MEMORY UPDATE_CUSTOM SKIP_BOT_UNCONSUMED INCLUDE CONDITIONAL_STEP_TIME_BASED CONDITIONAL_STEP_BUSINESS_HOURS CONDITIONAL_STEP_CAPABILITY_VALUE_BASED CONDITIONAL_STEP_JSON_PATH_BASED CONVO_STEP_PARAMETERS ORDERED_LIST_TO_BUTTON'.split(' '),
);
const userInputNames = new Set(['BUTTON', 'MEDIA', 'FORM']);

/** Botium's argument list: `|`-separated, `\|` for a literal bar, each trimmed. */
const splitArgs = (text: string) => (text ? text.replace(/\\\|/g, '\u0000').split('|').map((part) => part.replace(/\u0000/g, '|').trim()) : []);

/** Parses `.convo.txt` / `.pconvo.txt` text into blocks, as botium-core's text compiler does. */
export function parseBotiumConvo(source: string, display: string): BotiumFile {
  const lines = source.split(/\r\n|\r|\n/);
  const file: BotiumFile = { name: undefined, description: undefined, blocks: [] };
  let current: { sender: BotiumSender; channel: string | null; line: number } | undefined;
  let pending: { text: string; line: number }[] = [];
  const close = () => {
    if (current) file.blocks.push(parseBlock(current, pending, display));
    else if (pending.length) {
      file.name = pending[0]!.text;
      if (pending.length > 1) file.description = pending.slice(1).map((entry) => entry.text).join('\n');
    }
  };
  lines.forEach((text, index) => {
    // A tag is `#` and a known sender right at the start of the line; `#me channel` names a channel.
    const word = text.startsWith('#') ? text.slice(1).split(' ')[0]! : '';
    if (!senders.includes(word)) {
      pending.push({ text, line: index + 1 });
      return;
    }
    close();
    const rest = text.slice(1).trim();
    const space = rest.indexOf(' ');
    current = { sender: word as BotiumSender, channel: space > 0 ? rest.slice(space + 1).trim() : null, line: index + 1 };
    pending = [];
  });
  close();
  return file;
}

function parseBlock(tag: { sender: BotiumSender; channel: string | null; line: number }, lines: { text: string; line: number }[], display: string): BotiumBlock {
  const block: BotiumBlock = { ...tag, messageText: null, not: false, optional: false, asserters: [], logicHooks: [], userInputs: [] };
  const text: string[] = [];
  let blankRun: string[] = [];
  for (const { text: raw, line } of lines) {
    let logic = raw;
    let optional = false;
    let not = false;
    if (logic.startsWith('?')) {
      optional = !logic.startsWith('??');
      logic = logic.slice(1);
    }
    if (logic.startsWith('!')) {
      not = !logic.startsWith('!!');
      logic = logic.slice(1);
    }
    const name = logic.split(' ')[0]!;
    const call = () => ({ name, args: splitArgs(logic.slice(name.length + 1)), not, line });
    if (optional && (asserterNames.has(name) || logicHookNames.has(name))) throw new ScriptSyntaxError(`${display}:${line}: optional (?) calls are not supported`);
    if (tag.sender !== 'me' && asserterNames.has(name)) block.asserters.push(call());
    else if (tag.sender === 'me' && userInputNames.has(name)) block.userInputs.push(call());
    else if (logicHookNames.has(name)) block.logicHooks.push(call());
    else if (raw.trim()) {
      // Blank lines count only when text follows them: trailing blank lines are dropped.
      text.push(...blankRun, raw);
      blankRun = [];
    } else if (text.length) blankRun.push(raw);
    else text.push(raw);
  }
  // A block of blank lines only has an empty text, which checks nothing (as in botium-core).
  if (text.length === 0) return block;
  let first = text[0]!;
  if (first.startsWith('?')) {
    block.optional = !first.startsWith('??');
    first = first.slice(1);
  }
  if (first.startsWith('!')) {
    block.not = !first.startsWith('!!');
    first = first.slice(1);
  }
  text[0] = first;
  block.messageText = text.join('\n').replace(/[\n\t\r]+$/, '');
  return block;
}

/** An `.utterances.txt` file: the first line names it, each following line is one phrasing. */
export function parseBotiumUtterances(source: string): { name: string; phrasings: string[] } {
  const [first = '', ...rest] = source.split(/\r\n|\r|\n/);
  // botium-core keeps blank lines as (empty) phrasings; an empty message is never meant, so they are dropped.
  return { name: first.trim(), phrasings: rest.map((line) => line.replace(/[\n\t\r]+$/, '')).filter((line) => line.trim()) };
}

/** A mistake in a Botium file; the loader turns it into a ScriptError. */
export class ScriptSyntaxError extends Error {
  override name = 'ScriptSyntaxError';
}

/** Botium's text normalisation (on by default): markup removed, whitespace collapsed, trimmed. */
export function normalizeBotiumText(text: string): string {
  return text
    .replace(/<\/?p[^>]*>|<br[^>]*>/g, ' ')
    .replace(/<[^>]*>/g, '')
    // eslint-disable-next-line no-control-regex
    .replace(/[\x00-\x1F\x7F]/g, ' ')
    .replace(/&amp;/g, '&')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&#39;/g, "'")
    .replace(/&quot;/g, '"')
    .replace(/\s+/g, ' ')
    .trim();
}

/**
 * Botium's default matching mode, wildcardIgnoreCase: the reply matches when it contains the
 * expected text, ignoring case, each `*` standing for any text (at most 10 of them).
 */
export function botiumWildcardMatch(reply: string, expected: string): boolean {
  const pattern = expected.split('*').map((part) => part.replace(/[-\\^$+?.()|[\]{}]/g, '\\$&')).join('.*');
  return new RegExp(pattern, 'i').test(reply);
}

/** Every file under `folder` (recursively) whose name ends with `suffix`. */
export function filesEndingWith(folder: string, suffix: string): string[] {
  let names: string[];
  try {
    names = readdirSync(folder).sort();
  } catch {
    return [];
  }
  return names.flatMap((name) => {
    const full = path.join(folder, name);
    if (statSync(full).isDirectory()) return name === 'node_modules' ? [] : filesEndingWith(full, suffix);
    return name.endsWith(suffix) ? [full] : [];
  });
}

export const readText = (file: string) => readFileSync(file, 'utf8');
