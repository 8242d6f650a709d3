import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { LineCounter, parseDocument, isMap, isNode, isScalar, type Document } from 'yaml';
import type { z } from 'zod';
import { faqTopics } from '../../flows/events.js';
import { unbindStepCount } from '../../flows/unbindWalletMachine.js';
import { locateInSource, responsesTheBotSays, sourceDisplayName } from './flowResponses.js';
import type { RegionalWording } from '../nlu/scriptConverter.js';
import {
  intentFileSchema,
  lexiconSchema,
  responsesFileSchema,
  answerWordsSchema,
  wordingSchema,
  type AnswerWords,
  type IntentFile,
  type Lexicon,
  type Response,
} from './schemas.js';

/** Where the project's own content lives: `intents/` at the repository root. */
export const defaultContentDir = fileURLToPath(new URL('../../intents', import.meta.url));

/** The intent names QA, analytics and outside evaluation rely on. */
export const contractIntents = [
  'unbind_wallet', 'verification_help', 'records_after_unbind', 'balance_before_unbind',
  'bind_multiple', 'bind_wallet', 'rebind', 'pay_after_unbind', 'why_unbind',
  'wallet_wechat_relation', 'contact_human', 'greet', 'thanks', 'goodbye', 'out_of_scope',
  'affirm', 'deny', 'go_back', 'repeat', 'cancel',
] as const;

export interface Content {
  intents: IntentFile[];
  responses: Map<string, Response>;
  lexicon: Lexicon;
  /** How yes and no are said in Chinese answers (`intents/answers.yml`). */
  answers: AnswerWords;
  /** Where traditional replies are worded otherwise than the converter words them (`intents/wording.yml`). */
  wording: RegionalWording;
}

/** A content file that cannot be used; the message names the file and line so an editor can fix it. */
export class ContentError extends Error {
  override name = 'ContentError';
  constructor(
    readonly file: string,
    readonly line: number | undefined,
    detail: string,
  ) {
    super(`${file}${line === undefined ? '' : `:${line}`}: ${detail}`);
  }
}

export function isContentError(error: unknown): error is ContentError {
  return error instanceof ContentError;
}

interface ParsedFile<T> {
  value: T;
  lineOf(pathInFile: readonly PropertyKey[]): number | undefined;
}

function readYaml<T>(file: string, schema: z.ZodType<T>, displayName: string): ParsedFile<T> {
  if (!existsSync(file)) throw new ContentError(displayName, undefined, 'file is missing');
  const lineCounter = new LineCounter();
  const doc = parseDocument(readFileSync(file, 'utf8'), { lineCounter, uniqueKeys: true });
  const firstError = doc.errors[0];
  if (firstError) {
    const line = firstError.linePos?.[0].line;
    throw new ContentError(displayName, line, firstError.message.split('\n')[0] ?? 'invalid YAML');
  }
  const lineOf = (pathInFile: readonly PropertyKey[]) => lineOfPath(doc, lineCounter, pathInFile);
  const result = schema.safeParse(doc.toJS());
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const where = issue.path.length ? ` (at ${issue.path.join('.')})` : '';
    throw new ContentError(displayName, lineOf(issue.path), `${issue.message}${where}`);
  }
  return { value: result.data, lineOf };
}

function lineOfPath(doc: Document, lineCounter: LineCounter, pathInFile: readonly PropertyKey[]): number | undefined {
  // Walk up the path until a node exists (a missing key has no node of its own).
  for (let depth = pathInFile.length; depth >= 0; depth--) {
    const here = pathInFile.slice(0, depth);
    // A map entry is where its key is written: a block value starts on the line below it.
    const parent = depth === 0 ? undefined : depth === 1 ? doc.contents : doc.getIn(here.slice(0, -1) as unknown[], true);
    if (isMap(parent)) {
      const pair = parent.items.find((item) => isScalar(item.key) && item.key.value === here.at(-1));
      if (pair && isNode(pair.key) && pair.key.range) return lineCounter.linePos(pair.key.range[0]).line;
    }
    const node = doc.getIn(here as unknown[], true);
    if (isNode(node) && node.range) return lineCounter.linePos(node.range[0]).line;
  }
  return undefined;
}

/** Response ids that end in an intent name (`faq.rebind`, `label.rebind`): the rest must be an intent. */
const intentKeyedResponses = ['faq.', 'label.', 'ui.admin.intent.'] as const;

/** The response file an id belongs in: the one whose ids share the most leading parts with it. */
function responseFileFor(id: string, fileOfResponse: ReadonlyMap<string, string>): string | undefined {
  const parts = id.split('.');
  let best: { file: string; shared: number } | undefined;
  for (const [other, file] of fileOfResponse) {
    const otherParts = other.split('.');
    let shared = 0;
    while (shared < parts.length && parts[shared] === otherParts[shared]) shared++;
    if (shared > (best?.shared ?? 0)) best = { file, shared };
  }
  return best?.file;
}

function yamlFilesIn(dir: string, displayName: string): string[] {
  if (!existsSync(dir)) throw new ContentError(displayName, undefined, 'folder is missing');
  return readdirSync(dir)
    .filter((name) => name.endsWith('.yml') || name.endsWith('.yaml'))
    .sort()
    .map((name) => path.join(dir, name));
}

/**
 * Loads and checks every content file. A mistake stops start-up with a ContentError naming the
 * file and line, rather than surfacing later as a confused bot.
 */
export function loadContent(contentDir: string = defaultContentDir): Content {
  const display = (file: string) => path.relative(path.dirname(contentDir), file);

  const lexiconFile = path.join(contentDir, 'lexicon.yml');
  const nluDir = path.join(contentDir, 'nlu');
  const responsesDir = path.join(contentDir, 'responses');
  const lexicon = readYaml(lexiconFile, lexiconSchema, display(lexiconFile)).value;
  const answersFile = path.join(contentDir, 'answers.yml');
  const answers = readYaml(answersFile, answerWordsSchema, display(answersFile)).value;
  const wordingFile = path.join(contentDir, 'wording.yml');
  const wording = readYaml(wordingFile, wordingSchema, display(wordingFile)).value;

  const intents: IntentFile[] = [];
  const exampleOwner = new Map<string, string>();
  for (const file of yamlFilesIn(nluDir, display(nluDir))) {
    const parsed = readYaml(file, intentFileSchema, display(file));
    const intent = parsed.value;
    if (path.basename(file, path.extname(file)) !== intent.name) {
      throw new ContentError(display(file), parsed.lineOf(['name']), `intent "${intent.name}" must live in a file named ${intent.name}.yml`);
    }
    if (intents.some((other) => other.name === intent.name)) {
      throw new ContentError(display(file), parsed.lineOf(['name']), `intent "${intent.name}" is defined twice`);
    }
    intent.examples.forEach((example, index) => {
      const key = example.trim().toLowerCase();
      const owner = exampleOwner.get(key);
      if (owner) {
        throw new ContentError(display(file), parsed.lineOf(['examples', index]), `duplicate example "${example}" (also in ${owner})`);
      }
      exampleOwner.set(key, display(file));
    });
    intents.push(intent);
  }
  for (const name of contractIntents) {
    if (!intents.some((intent) => intent.name === name)) {
      throw new ContentError(display(nluDir), undefined, `intent "${name}" is missing: it is part of the contract`);
    }
  }

  const responses = new Map<string, Response>();
  const fileOfResponse = new Map<string, string>();
  const knownIntents = new Set(intents.map((intent) => intent.name));
  const verificationMethods = Object.keys(lexicon.verificationMethods);
  for (const file of yamlFilesIn(responsesDir, display(responsesDir))) {
    const parsed = readYaml(file, responsesFileSchema, display(file));
    for (const [id, response] of Object.entries(parsed.value)) {
      if (responses.has(id)) throw new ContentError(display(file), parsed.lineOf([id]), `response "${id}" is defined twice`);
      const prefix = intentKeyedResponses.find((candidate) => id.startsWith(candidate));
      if (prefix) {
        const intent = id.slice(prefix.length);
        if (!knownIntents.has(intent)) {
          throw new ContentError(display(file), parsed.lineOf([id]), `response "${id}" is for unknown intent "${intent}" (no ${intent}.yml in ${display(nluDir)})`);
        }
        // The flows route only their FAQ topics to faq.<topic>; any other such answer would never be said.
        if (prefix === 'faq.' && !(faqTopics as readonly string[]).includes(intent)) {
          throw new ContentError(display(file), parsed.lineOf([id]), `response "${id}" answers "${intent}", which is not an FAQ topic of the flows (faqTopics in flows/events.ts)`);
        }
      }
      response.quickReplies?.forEach((reply, index) => {
        const where = parsed.lineOf([id, 'quickReplies', index, 'payload']);
        const intent = reply.payload.slice(1).replace(/\{.*$/, '');
        if (!knownIntents.has(intent)) {
          throw new ContentError(display(file), where, `quick reply "${reply.title}" names unknown intent "${intent}"`);
        }
        const json = reply.payload.slice(1 + intent.length);
        if (json) {
          // The parser drops what it cannot read, so a bad payload would quietly act as a bare /intent.
          let method: unknown;
          let step: unknown;
          try {
            ({ method, step } = JSON.parse(json) as { method?: unknown; step?: unknown });
          } catch {
            throw new ContentError(display(file), where, `quick reply "${reply.title}" carries invalid JSON ${json}`);
          }
          if (step !== undefined) {
            if (!Number.isInteger(step) || (step as number) < 1 || (step as number) > unbindStepCount) {
              throw new ContentError(display(file), where, `quick reply "${reply.title}" names step ${JSON.stringify(step)}; steps are 1 to ${unbindStepCount}`);
            }
            return;
          }
          if (method === undefined) throw new ContentError(display(file), where, `quick reply "${reply.title}" carries ${json} but no "method" or "step"`);
          if (typeof method !== 'string' || !verificationMethods.includes(method)) {
            throw new ContentError(display(file), where, `quick reply "${reply.title}" names unknown verification method ${JSON.stringify(method)} (known: ${verificationMethods.join(', ')})`);
          }
        }
      });
      responses.set(id, response);
      fileOfResponse.set(id, display(file));
    }
  }

  // Every id the flows can say must exist now, not when a user first reaches that turn.
  for (const said of responsesTheBotSays({ intents: [...knownIntents], verificationMethods })) {
    if (responses.has(said.key)) continue;
    const { file, line } = locateInSource(said);
    const home = responseFileFor(said.key, fileOfResponse) ?? `a file in ${display(responsesDir)}`;
    throw new ContentError(
      sourceDisplayName(file),
      line,
      `${said.speaker} says response "${said.key}"${said.via ? ` (${said.via})` : ''}, which no file in ${display(responsesDir)} defines: add it to ${home}`,
    );
  }
  return { intents, responses, lexicon, answers, wording };
}
