import path from 'node:path';
import {
  filesEndingWith,
  normalizeBotiumText,
  parseBotiumConvo,
  parseBotiumUtterances,
  readText,
  ScriptSyntaxError,
  type BotiumBlock,
  type BotiumCall,
} from './botiumScript.js';
import { ScriptError, type BotReplyCheck, type ScriptStep, type ScriptedConversation } from './conversationScript.js';

interface Partial {
  blocks: BotiumBlock[];
  display: string;
}

interface Located extends BotiumBlock {
  display: string;
}

/** A `#me` step whose text names an utterance: it runs once per phrasing. */
interface Phrased {
  step: ScriptStep;
  utterance?: { name: string; phrasings: string[] };
}

/**
 * Turns Botium convo files into runnable conversations, as botium-core runs them: partial convos
 * expanded in place, one conversation per utterance phrasing (every combination, Botium's "all"
 * expansion, named `name/UTT-L1`), each `#bot` block reading the next reply of the turn.
 */
export class BotiumLoader {
  private partials: Map<string, Partial> | undefined;
  private utterances: Map<string, string[]> | undefined;

  constructor(
    private readonly folders: readonly string[],
    private readonly display: (file: string) => string,
  ) {}

  load(file: string): ScriptedConversation[] {
    const display = this.display(file);
    const parsed = this.parse(file, display);
    const name = parsed.name || path.basename(file);
    const blocks = this.expandIncludes(parsed.blocks.map((block) => ({ ...block, display })), [], false);
    const phrased = this.steps(blocks);
    if (!phrased.some(({ step }) => step.kind !== 'greeting')) throw new ScriptError(`${display}: no #me messages`);
    return expandUtterances(name, file, phrased);
  }

  private parse(file: string, display: string) {
    try {
      return parseBotiumConvo(readText(file), display);
    } catch (error) {
      if (error instanceof ScriptSyntaxError) throw new ScriptError(error.message);
      throw error;
    }
  }

  /** `INCLUDE name` lines and `#include` blocks put the partial convo's blocks there; its #begin/#end are left out. */
  private expandIncludes(blocks: Located[], trail: string[], inPartial: boolean): Located[] {
    return blocks.flatMap((block) => {
      let names: string[];
      const kept: Located[] = [];
      if (block.sender === 'include') {
        names = [...(block.channel ? [block.channel] : []), ...(block.messageText ?? '').split('\n').map((line) => line.trim()).filter(Boolean)];
      } else {
        const includes = block.logicHooks.filter((hook) => hook.name === 'INCLUDE');
        for (const hook of includes) if (hook.args.length !== 1) throw new ScriptError(`${block.display}:${hook.line}: INCLUDE takes one partial convo name`);
        names = includes.map((hook) => hook.args[0]!);
        const interacts = Boolean(block.messageText) || block.asserters.length > 0 || block.userInputs.length > 0 || block.logicHooks.some((hook) => hook.name !== 'INCLUDE');
        if ((names.length === 0 || interacts) && !(inPartial && (block.sender === 'begin' || block.sender === 'end'))) {
          kept.push({ ...block, logicHooks: block.logicHooks.filter((hook) => hook.name !== 'INCLUDE') });
        }
      }
      for (const name of names) {
        if (trail.includes(name)) throw new ScriptError(`${block.display}:${block.line}: partial convo "${name}" includes itself (${[...trail, name].join(' → ')})`);
        const partial = this.partial(name);
        if (!partial) {
          const known = [...(this.partials?.keys() ?? [])];
          throw new ScriptError(`${block.display}:${block.line}: no partial convo "${name}" (*.pconvo.txt${known.length ? `; there are: ${known.join(', ')}` : ''})`);
        }
        kept.push(...this.expandIncludes(partial.blocks.map((inner) => ({ ...inner, display: partial.display })), [...trail, name], true));
      }
      return kept;
    });
  }

  private steps(blocks: Located[]): Phrased[] {
    const steps: Phrased[] = [];
    for (const block of blocks) {
      const at = `${block.display}:${block.line}`;
      if (block.optional) throw new ScriptError(`${at}: optional (?) steps are not supported`);
      refuseUnsupported(block, at);
      if (block.sender === 'begin' || block.sender === 'end') continue; // setup and teardown: botium-core sends and checks nothing there
      if (block.sender === 'me') {
        const button = block.userInputs.find((input) => input.name === 'BUTTON');
        if (button) {
          if (!button.args[0]) throw new ScriptError(`${at}: BUTTON needs a button's title or payload`);
          steps.push({ step: { kind: 'click', text: button.args[0], expect: {}, source: at } });
          continue;
        }
        const text = block.messageText?.trim() ? block.messageText : undefined;
        if (!text) throw new ScriptError(`${at}: #me without a message`);
        const utterance = this.utterance(text);
        if (utterance?.phrasings.length === 0) throw new ScriptError(`${at}: utterance "${utterance.name}" has no phrasings`);
        steps.push({ step: { kind: 'user', text, expect: {}, source: at }, ...(utterance ? { utterance } : {}) });
        continue;
      }
      // #bot: before any #me it reads the greeting.
      if (steps.length === 0) steps.push({ step: { kind: 'greeting', text: '', expect: {}, source: at } });
      const last = steps.at(-1)!.step;
      last.expect.botReplies = [...(last.expect.botReplies ?? []), this.botCheck(block, at)];
    }
    return steps;
  }

  private botCheck(block: Located, at: string): BotReplyCheck {
    const check: BotReplyCheck = { text: [], textNot: block.not, source: at };
    if (block.messageText) {
      const expected = normalizeBotiumText(block.messageText);
      if (expected.split('*').length - 1 > 10) throw new ScriptError(`${at}: at most 10 wildcards (*) in one line`);
      check.text = (this.utterance(expected)?.phrasings ?? [expected]).map(normalizeBotiumText);
    }
    for (const asserter of block.asserters) {
      if (asserter.name === 'BUTTONS') check.buttons = { expected: asserter.args.filter(Boolean), not: asserter.not };
      if (asserter.name === 'INTENT') {
        if (!asserter.args[0]) throw new ScriptError(`${block.display}:${asserter.line}: INTENT needs an intent name`);
        check.intent = { expected: asserter.args[0], not: asserter.not };
      }
    }
    return check;
  }

  /** A text that names an utterance (`UTT_NAME`, or `UTT_NAME arg…` filling its `%s`), as botium-core resolves it. */
  private utterance(text: string): { name: string; phrasings: string[] } | undefined {
    const utterances = this.loadUtterances();
    const exact = utterances.get(text);
    if (exact) return { name: text, phrasings: exact };
    const [name = '', ...args] = text.split(' ');
    const phrasings = utterances.get(name);
    if (!phrasings) return undefined;
    return { name, phrasings: phrasings.map((phrasing) => fillPlaceholders(phrasing, args)) };
  }

  private partial(name: string): Partial | undefined {
    if (!this.partials) {
      this.partials = new Map();
      for (const file of this.filesEndingWith('.pconvo.txt')) {
        const display = this.display(file);
        const parsed = this.parse(file, display);
        const partialName = parsed.name || path.basename(file);
        const other = this.partials.get(partialName);
        if (other) throw new ScriptError(`${display}:1: partial convo "${partialName}" is also defined in ${other.display}`);
        this.partials.set(partialName, { blocks: parsed.blocks, display });
      }
    }
    return this.partials.get(name);
  }

  private loadUtterances(): Map<string, string[]> {
    if (!this.utterances) {
      this.utterances = new Map();
      for (const file of this.filesEndingWith('.utterances.txt')) {
        const { name, phrasings } = parseBotiumUtterances(readText(file));
        if (!name) throw new ScriptError(`${this.display(file)}:1: the first line must name the utterance`);
        // The same name in two files: botium-core merges the phrasings.
        this.utterances.set(name, [...new Set([...(this.utterances.get(name) ?? []), ...phrasings])]);
      }
    }
    return this.utterances;
  }

  private filesEndingWith(suffix: string): string[] {
    return [...new Set(this.folders.flatMap((folder) => filesEndingWith(path.resolve(folder), suffix)))];
  }
}

const supported: Record<string, readonly string[]> = { asserter: ['BUTTONS', 'INTENT'], 'user input': ['BUTTON'], 'logic hook': ['INCLUDE'] };

/** A call we cannot honour is refused: passing without checking it would be a lie. */
function refuseUnsupported(block: BotiumBlock, at: string): void {
  const calls: [string, BotiumCall[]][] = [
    ['asserter', block.asserters],
    ['user input', block.userInputs],
    ['logic hook', block.logicHooks.filter((hook) => hook.name !== 'INCLUDE')],
  ];
  for (const [kind, list] of calls) {
    for (const call of list) {
      const inBeginEnd = block.sender === 'begin' || block.sender === 'end';
      if (inBeginEnd || !supported[kind]!.includes(call.name)) {
        throw new ScriptError(`${at}: the Botium ${kind} ${call.name} is not supported here (supported: BUTTONS and INTENT in #bot, BUTTON in #me, INCLUDE anywhere)`);
      }
    }
  }
  if (block.messageText && /^\s*[[{]/.test(block.messageText) && isJson(block.messageText)) throw new ScriptError(`${at}: JSON messages (sourceData) are not supported`);
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** `%s` placeholders filled in order, as Node's util.format does for botium-core's utterance arguments. */
function fillPlaceholders(phrasing: string, args: string[]): string {
  const rest = [...args];
  const filled = phrasing.replace(/%s/g, (whole) => (rest.length ? rest.shift()! : whole));
  return rest.length ? `${filled} ${rest.join(' ')}` : filled;
}

/** One conversation per combination of phrasings of the utterances its `#me` steps name. */
function expandUtterances(name: string, file: string, phrased: Phrased[]): ScriptedConversation[] {
  let variants: { name: string; steps: ScriptStep[] }[] = [{ name, steps: [] }];
  for (const { step, utterance } of phrased) {
    if (!utterance) {
      variants = variants.map((variant) => ({ name: variant.name, steps: [...variant.steps, step] }));
      continue;
    }
    const width = String(utterance.phrasings.length).length;
    variants = variants.flatMap((variant) =>
      utterance.phrasings.map((text, index) => ({
        name: utterance.phrasings.length > 1 ? `${variant.name}/${utterance.name}-L${String(index + 1).padStart(width, '0')}` : variant.name,
        steps: [...variant.steps, { ...step, text }],
      })),
    );
  }
  // Each variant gets its own copies: the runner may not share expectation objects between them.
  return variants.map((variant) => ({ name: variant.name, file, steps: variant.steps.map((step) => ({ ...step, expect: { ...step.expect } })) }));
}
