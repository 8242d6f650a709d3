import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';
import { BotiumLoader } from './botiumLoader.js';
import { progressStatuses } from '../dialogue/unbindingProgress.js';

/** What a QA engineer expects of the bot's turn after one user step. */
const expectationSchema = z
  .object({
    intent: z.string().optional(),
    minConfidence: z.number().min(0).max(1).optional(),
    state: z.string().optional(),
    stateStartsWith: z.string().optional(),
    textContains: z.union([z.string(), z.array(z.string()).min(1)]).optional(),
    textNotContains: z.union([z.string(), z.array(z.string()).min(1)]).optional(),
    regex: z.string().optional(),
    quickReplies: z.array(z.string()).optional(),
    handoff: z.boolean().optional(),
    /** The step of the unbinding in progress, or null when none is (outside it, or on the turn it ended). */
    progress: z.number().int().min(1).nullable().optional(),
    /** How the turn's progress stands: `active`, or how the unbinding ended on this turn; null when the turn has none. */
    progressStatus: z.enum(progressStatuses).nullable().optional(),
    /** Response ids (`unbind.step2`) that must be among the turn's replies, in this order. */
    says: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).optional(),
    /** Response ids none of which may be among the turn's replies. */
    saysNot: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).optional(),
  })
  .strict();

const phrasings = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]);

const stepSchema = z.union([
  z.object({ user: phrasings, expect: expectationSchema.optional() }).strict(),
  z.object({ click: z.string().min(1), expect: expectationSchema.optional() }).strict(),
  z.object({ include: z.string().min(1) }).strict(),
]);

const conversationSchema = z.object({ name: z.string().min(1), steps: z.array(stepSchema).min(1) }).strict();
const scriptFileSchema = z.object({ conversations: z.array(conversationSchema).min(1) }).strict();
const fragmentFileSchema = z.object({ steps: z.array(stepSchema).min(1) }).strict();

/** A Botium `#bot` block: it reads the turn's next reply and checks it. */
export interface BotReplyCheck {
  /** Botium wildcard texts, any one of which the reply must match (an utterance's phrasings); empty: any reply. */
  text: string[];
  /** `!`: the reply must match none of them. */
  textNot: boolean;
  /** `BUTTONS a|b`: each must match one of the reply's buttons (by title or payload); `[]`: some button. */
  buttons?: { expected: string[]; not: boolean };
  /** `INTENT name`: the intent the message was read as. */
  intent?: { expected: string; not: boolean };
  /** "imported.convo.txt:5", the `#bot` line. */
  source: string;
}

export type Expectation = z.infer<typeof expectationSchema> & {
  /** From Botium `#bot` blocks after this message: one per reply, in order. */
  botReplies?: BotReplyCheck[];
};
type RawStep = z.infer<typeof stepSchema>;

/** One step as it runs: a typed message or a click, where it was written, and what to check. */
export interface ScriptStep {
  /** `greeting` sends nothing: its expectations are checked against the conversation's greeting (Botium's opening `#bot`). */
  kind: 'user' | 'click' | 'greeting';
  text: string;
  expect: Expectation;
  /** "happy_paths/sms.yml:12" (or the fragment's file and line when included). */
  source: string;
}

export interface ScriptedConversation {
  /** The conversation's name, with "(phrasing 2/3)" when a step lists several phrasings. */
  name: string;
  file: string;
  steps: ScriptStep[];
}

/** A script that cannot be run; the message names the file and line. */
export class ScriptError extends Error {
  override name = 'ScriptError';
}

interface LocatedStep {
  raw: RawStep;
  source: string;
}

function readYaml<T>(file: string, schema: z.ZodType<T>, display: string): { value: T; lineOf(pathInFile: (string | number)[]): number | undefined } {
  const lineCounter = new LineCounter();
  const doc = parseDocument(readFileSync(file, 'utf8'), { lineCounter });
  if (doc.errors[0]) throw new ScriptError(`${display}:${doc.errors[0].linePos?.[0].line ?? '?'}: ${doc.errors[0].message.split('\n')[0]}`);
  const lineOf = (pathInFile: (string | number)[]) => {
    for (let depth = pathInFile.length; depth >= 0; depth--) {
      const node = doc.getIn(pathInFile.slice(0, depth), true) as { range?: [number, number, number] } | undefined;
      if (node?.range) return lineCounter.linePos(node.range[0]).line;
    }
    return undefined;
  };
  const result = schema.safeParse(doc.toJS());
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const where = issue.path.filter((part): part is string | number => typeof part !== 'symbol');
    throw new ScriptError(`${display}:${lineOf(where) ?? '?'}: ${issue.message} (at ${where.join('.') || 'top level'})`);
  }
  return { value: result.data, lineOf };
}

/** Loads scripts from files and folders (recursively); `fragments/` folders hold includes, not conversations. */
export class ScriptLoader {
  private readonly fragmentCache = new Map<string, LocatedStep[]>();

  constructor(private readonly root: string) {}

  load(targets: readonly string[]): ScriptedConversation[] {
    const files = targets.flatMap((target) => this.scriptFiles(path.resolve(target)));
    if (files.length === 0) throw new ScriptError(`no conversation files (*.yml, *.convo.txt) in ${targets.join(', ')}`);
    const conversations = files.flatMap((file) => (file.endsWith('.convo.txt') ? this.botium(targets).load(file) : this.loadYaml(file)));
    const seen = new Map<string, string>();
    for (const conversation of conversations) {
      const other = seen.get(conversation.name);
      if (other) throw new ScriptError(`${this.display(conversation.file)}: conversation name "${conversation.name}" is also used in ${other}`);
      seen.set(conversation.name, this.display(conversation.file));
    }
    return conversations;
  }

  private display(file: string): string {
    return path.relative(this.root, file) || file;
  }

  private scriptFiles(target: string): string[] {
    let stats;
    try {
      stats = statSync(target);
    } catch {
      throw new ScriptError(`${target}: no such file or folder`);
    }
    if (stats.isFile()) return [target];
    return readdirSync(target)
      .sort()
      .flatMap((name) => {
        const full = path.join(target, name);
        if (statSync(full).isDirectory()) return name === 'fragments' ? [] : this.scriptFiles(full);
        return name.endsWith('.yml') || name.endsWith('.yaml') || name.endsWith('.convo.txt') ? [full] : [];
      });
  }

  private loadYaml(file: string): ScriptedConversation[] {
    const display = this.display(file);
    const { value, lineOf } = readYaml(file, scriptFileSchema, display);
    return value.conversations.flatMap((conversation, index) => {
      const located = conversation.steps.map((raw, stepIndex) => ({ raw, source: `${display}:${lineOf(['conversations', index, 'steps', stepIndex])}` }));
      return expandPhrasings(conversation.name, file, this.resolveIncludes(located, file, []));
    });
  }

  private resolveIncludes(steps: LocatedStep[], file: string, trail: string[]): LocatedStep[] {
    return steps.flatMap((step) => {
      if (!('include' in step.raw)) return [step];
      const name = step.raw.include;
      if (trail.includes(name)) throw new ScriptError(`${step.source}: fragment "${name}" includes itself (${[...trail, name].join(' → ')})`);
      return this.resolveIncludes(this.fragment(name, step.source), file, [...trail, name]);
    });
  }

  private fragment(name: string, includedFrom: string): LocatedStep[] {
    const cached = this.fragmentCache.get(name);
    if (cached) return cached;
    const file = path.join(this.root, 'fragments', `${name}.yml`);
    let parsed;
    try {
      parsed = readYaml(file, fragmentFileSchema, this.display(file));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new ScriptError(`${includedFrom}: no fragment ${this.display(file)}`);
      throw error;
    }
    const steps = parsed.value.steps.map((raw, index) => ({ raw, source: `${this.display(file)}:${parsed.lineOf(['steps', index])}` }));
    this.fragmentCache.set(name, steps);
    return steps;
  }

  private botiumLoader: BotiumLoader | undefined;

  /** Partial convos and utterances are found under the root and under the folders being run (a file's own folder). */
  private botium(targets: readonly string[]): BotiumLoader {
    const folders = targets.map((target) => (statSync(target).isFile() ? path.dirname(path.resolve(target)) : path.resolve(target)));
    this.botiumLoader ??= new BotiumLoader([this.root, ...folders], (file) => this.display(file));
    return this.botiumLoader;
  }
}

/** A conversation whose steps list several phrasings runs once per phrasing (variant k uses the k-th, or the last). */
function expandPhrasings(name: string, file: string, steps: LocatedStep[]): ScriptedConversation[] {
  const options = steps.map((step) => ('user' in step.raw ? (Array.isArray(step.raw.user) ? step.raw.user : [step.raw.user]) : []));
  const variants = Math.max(1, ...options.map((list) => list.length));
  return Array.from({ length: variants }, (_, variant) => ({
    name: variants > 1 ? `${name} (phrasing ${variant + 1}/${variants})` : name,
    file,
    steps: steps.map((step, index): ScriptStep => {
      const raw = step.raw;
      if ('click' in raw) return { kind: 'click', text: raw.click, expect: { ...(raw.expect ?? {}) }, source: step.source };
      if (!('user' in raw)) throw new ScriptError(`${step.source}: unresolved include`);
      const list = options[index]!;
      return { kind: 'user', text: list[Math.min(variant, list.length - 1)]!, expect: { ...(raw.expect ?? {}) }, source: step.source };
    }),
  }));
}
