import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { LineCounter, parseDocument, isNode, type Document } from 'yaml';
import type { z } from 'zod';
import {
  intentFileSchema,
  lexiconSchema,
  responsesFileSchema,
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
    const node = doc.getIn(pathInFile.slice(0, depth) as unknown[], true);
    if (isNode(node) && node.range) return lineCounter.linePos(node.range[0]).line;
  }
  return undefined;
}

function yamlFilesIn(dir: string): string[] {
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
  const lexicon = readYaml(lexiconFile, lexiconSchema, display(lexiconFile)).value;

  const intents: IntentFile[] = [];
  const exampleOwner = new Map<string, string>();
  for (const file of yamlFilesIn(path.join(contentDir, 'nlu'))) {
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
      throw new ContentError(display(path.join(contentDir, 'nlu')), undefined, `intent "${name}" is missing: it is part of the contract`);
    }
  }

  const responses = new Map<string, Response>();
  const knownIntents = new Set(intents.map((intent) => intent.name));
  for (const file of yamlFilesIn(path.join(contentDir, 'responses'))) {
    const parsed = readYaml(file, responsesFileSchema, display(file));
    for (const [id, response] of Object.entries(parsed.value)) {
      if (responses.has(id)) throw new ContentError(display(file), parsed.lineOf([id]), `response "${id}" is defined twice`);
      response.quickReplies?.forEach((reply, index) => {
        const intent = reply.payload.slice(1).replace(/\{.*$/, '');
        if (!knownIntents.has(intent)) {
          throw new ContentError(display(file), parsed.lineOf([id, 'quickReplies', index, 'payload']), `quick reply "${reply.title}" names unknown intent "${intent}"`);
        }
      });
      responses.set(id, response);
    }
  }
  return { intents, responses, lexicon };
}
