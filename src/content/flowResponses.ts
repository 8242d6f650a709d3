import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AnyStateMachine } from 'xstate';
import { conversationMachine } from '../../flows/conversationMachine.js';
import { faqTopics } from '../../flows/events.js';
import { troubleshootingTips } from '../../flows/verificationMachine.js';

/**
 * Which response ids the bot can say, read from the flow machines themselves, so start-up can
 * refuse content that lacks one instead of failing mid-conversation with MissingResponseError.
 */

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const flowsDir = path.join(repoRoot, 'flows');
/** The engine says a few responses outside the machines (the greeting, the secret warning). */
const dialogueEngineFile = path.join(repoRoot, 'src', 'dialogue', 'dialogueEngine.ts');

export interface SaidResponse {
  /** The response id, as in `intents/responses/*.yml`. */
  key: string;
  /** Who says it, for the error message. */
  speaker: 'the flow' | 'the dialogue engine';
  /** The source file that makes the bot say it. */
  file: string;
  /** How the id comes about when the source does not spell it out. */
  via?: string;
  /** Better place to point at than the id itself: the id that was extended, or the action that builds it. */
  anchor?: string;
}

/** What the content defines that some ids are built from. */
export interface ContentFacts {
  intents: readonly string[];
  verificationMethods: readonly string[];
}

type Said = Pick<SaidResponse, 'key'> & Partial<Pick<SaidResponse, 'via' | 'anchor'>>;

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const asList = (value: unknown): unknown[] => (value === undefined ? [] : Array.isArray(value) ? value : [value]);
const keyParam = (params: unknown): string | undefined => (isRecord(params) && typeof params.key === 'string' ? params.key : undefined);

/**
 * The flows' speaking actions. `say` and `sayWithStep` name the id in their params; the others
 * compute it at run time, so their ids are expanded here from the same data the flows draw on.
 */
const speakingActions: Record<string, (params: unknown, facts: ContentFacts) => Said[]> = {
  say: (params) => {
    const key = keyParam(params);
    return key ? [{ key }] : [];
  },
  sayWithStep: (params) => {
    const key = keyParam(params);
    return key ? [{ key }, { key: `${key}.beforeSteps`, via: `what "${key}" becomes before step 1`, anchor: key }] : [];
  },
  answerFaq: () => [
    ...faqTopics.map((topic) => ({ key: `faq.${topic}`, via: `the answer to FAQ topic "${topic}"` })),
    { key: 'offer.walkthrough', via: 'the offer of the steps after an answer', anchor: 'offer.walkthrough' },
  ],
  repeatLastAnswer: () => [...faqTopics.map((topic) => ({ key: `faq.${topic}`, via: `the answer to FAQ topic "${topic}"` })), { key: 'noFlowActive' }],
  // The clarifying question offers the two candidate intents (any intent) as buttons titled label.<intent>.
  clarify: (_, facts) => [
    { key: 'clarify' },
    { key: 'fallback' },
    ...facts.intents.map((intent) => ({
      key: `label.${intent}`,
      via: `the button for intent "${intent}" when the bot asks which of two meanings was meant`,
      anchor: 'clarify',
    })),
  ],
  sayMethodGuide: (_, facts) =>
    facts.verificationMethods.map((method) => ({ key: `verify.guide.${method}`, via: `the guide for verification method "${method}"` })),
  // A handoff says whether someone can answer now; its end says how it ended.
  handOff: () => [{ key: 'handoff.created' }, { key: 'handoff.nobodyAvailable', via: 'the handoff when nobody can answer now' }],
  leaveQueue: () => [{ key: 'handoff.left' }],
  sayReleased: () => [{ key: 'handoff.resolved' }, { key: 'handoff.handedBack' }],
  sayCurrentTip: () =>
    Object.entries(troubleshootingTips).flatMap(([method, tips]) => tips.map((key) => ({ key, via: `a troubleshooting tip for "${method}"` }))),
};

/** Actions a transition runs: a target string has none; `{ actions }` or a list of such transitions. */
function transitionActions(transition: unknown): unknown[] {
  if (Array.isArray(transition)) return transition.flatMap(transitionActions);
  return isRecord(transition) ? asList(transition.actions) : [];
}

/** Every action a state node and its descendants name: entry, exit and every kind of transition. */
function nodeActions(config: Record<string, unknown>): unknown[] {
  const found = [...asList(config.entry), ...asList(config.exit), ...transitionActions(config.always)];
  for (const transitions of [config.on, config.after]) {
    if (isRecord(transitions)) for (const transition of Object.values(transitions)) found.push(...transitionActions(transition));
  }
  for (const invoke of asList(config.invoke)) {
    if (isRecord(invoke)) for (const outcome of ['onDone', 'onError', 'onSnapshot']) found.push(...transitionActions(invoke[outcome]));
  }
  if (isRecord(config.states)) {
    for (const child of Object.values(config.states)) if (isRecord(child)) found.push(...nodeActions(child));
  }
  return found;
}

/** One machine per file, named after its id (house style): `verification` lives in flows/verificationMachine.ts. */
const machineFile = (machine: AnyStateMachine) => path.join(flowsDir, `${machine.id}Machine.ts`);

function machineSays(machine: AnyStateMachine, facts: ContentFacts, seen: Set<string>): SaidResponse[] {
  if (seen.has(machine.id)) return [];
  seen.add(machine.id);
  const file = machineFile(machine);
  const said: SaidResponse[] = [];
  for (const action of nodeActions(machine.config as unknown as Record<string, unknown>)) {
    // Inline functions cannot be read; the flows name their actions and set them up in setup().
    const type = typeof action === 'string' ? action : isRecord(action) && typeof action.type === 'string' ? action.type : undefined;
    const expand = type === undefined ? undefined : speakingActions[type];
    if (!expand) continue;
    for (const one of expand(isRecord(action) ? action.params : undefined, facts)) said.push({ ...one, speaker: 'the flow', file });
  }
  // Child flows speak through their parent, so what they say counts too.
  for (const child of Object.values(machine.implementations.actors)) {
    if (isRecord(child) && 'config' in child && 'implementations' in child) said.push(...machineSays(child as unknown as AnyStateMachine, facts, seen));
  }
  return said;
}

/** The engine's own `key: '…'` literals; it is plain code, not a machine, so its source is read. */
function engineSays(): SaidResponse[] {
  if (!existsSync(dialogueEngineFile)) return [];
  const text = readFileSync(dialogueEngineFile, 'utf8');
  return [...text.matchAll(/\bkey:\s*(['"])([\w.]+)\1/g)].map((match) => ({ key: match[2]!, speaker: 'the dialogue engine', file: dialogueEngineFile }));
}

/** Every response id the bot can say, once each, in the order the machines mention them. */
export function responsesTheBotSays(facts: ContentFacts): SaidResponse[] {
  const all = [...machineSays(conversationMachine, facts, new Set()), ...engineSays()];
  const byKey = new Map<string, SaidResponse>();
  for (const said of all) if (!byKey.has(said.key)) byKey.set(said.key, said);
  return [...byKey.values()];
}

/** A file as the error names it: relative to the repository root (flows/conversationMachine.ts). */
export const sourceDisplayName = (file: string) => path.relative(repoRoot, file);

const sourceCache = new Map<string, string | undefined>();
function sourceText(file: string): string | undefined {
  if (!sourceCache.has(file)) sourceCache.set(file, existsSync(file) ? readFileSync(file, 'utf8') : undefined);
  return sourceCache.get(file);
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const lineAt = (text: string, index: number) => text.slice(0, index).split('\n').length;

/** The line where `id` is written as a string literal, or built by a template literal such as `unbind.step${number}`. */
function lineMentioning(file: string, id: string): number | undefined {
  const text = sourceText(file);
  if (text === undefined) return undefined;
  const literal = new RegExp(`(['"\`])${escapeRegExp(id)}\\1`).exec(text);
  if (literal) return lineAt(text, literal.index);
  for (const template of text.matchAll(/`([^`\n]*\$\{[^`\n]*)`/g)) {
    const parts = template[1]!.split(/\$\{[^}]*\}/);
    // `${a}.${b}` would match almost any id; only templates with some fixed words say which id they build.
    if (!parts.some((part) => /[a-z]/i.test(part))) continue;
    if (new RegExp(`^${parts.map(escapeRegExp).join('.+')}$`).test(id)) return lineAt(text, template.index);
  }
  return undefined;
}

/**
 * Where to send the editor for a response the bot says: the line in its source that names (or
 * builds) the id, looking first in the file that says it and then in the other flow files.
 */
export function locateInSource(said: SaidResponse): { file: string; line: number | undefined } {
  const flowFiles = existsSync(flowsDir) ? readdirSync(flowsDir).filter((name) => name.endsWith('.ts')).sort().map((name) => path.join(flowsDir, name)) : [];
  const files = [said.file, ...flowFiles.filter((file) => file !== said.file)];
  for (const needle of said.anchor ? [said.anchor, said.key] : [said.key]) {
    for (const file of files) {
      const line = lineMentioning(file, needle);
      if (line !== undefined) return { file, line };
    }
  }
  return { file: existsSync(said.file) ? said.file : flowsDir, line: undefined };
}
