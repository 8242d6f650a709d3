import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ExampleMatcher, SavedMatcher } from './exampleMatcher.js';
import type { ClassifierOptions, IntentClassifier, SavedBayes, TokenizedExample } from './intentClassifier.js';
import type { SavedSoftmax, SoftmaxClassifier, SoftmaxOptions } from './softmaxClassifier.js';

/**
 * The trained models `npm run build` saves in dist/nlu/: natural's Bayes tables, the
 * nearest-sentence index and the softmax weights, in one file named by a hash of the options and
 * of every training example's features and intent. Training them takes about a second at each
 * start; reading them back takes milliseconds (bench/RESULTS.md). A file is used only when its hash
 * is the hash of what this process would train on, so edited examples, lexicon or options train
 * afresh. Every model is deterministic (the softmax is seeded), so restored models answer exactly
 * as freshly trained ones.
 */

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
export const savedModelDir = path.join(repoRoot, 'dist', 'nlu');

export interface NluModels {
  bayes: SavedBayes;
  matcher: SavedMatcher;
  /** absent when the parser runs without the softmax (softmaxWeight 0) */
  softmax?: SavedSoftmax;
}

export interface NluTrainingOptions {
  classifier: ClassifierOptions;
  /** undefined when no softmax is trained */
  softmax: SoftmaxOptions | undefined;
}

export function nluModelKey(options: NluTrainingOptions, examples: readonly TokenizedExample[]): string {
  // The format's version is part of the name: a file of an older layout is never read as this one.
  const hash = createHash('sha256').update(JSON.stringify({ format: 1, ...options }));
  for (const { tokens, intent } of examples) hash.update(`${intent}\t${tokens.join('\u0001')}\n`);
  return hash.digest('hex').slice(0, 32);
}

const fileFor = (directory: string, key: string) => path.join(directory, `nlu-${key}.bin`);

type NumberArray = Float64Array | Int32Array | Uint8Array;
const arrayKinds = { f64: Float64Array, i32: Int32Array, u8: Uint8Array } as const;
type ArrayKind = keyof typeof arrayKinds;
const kindOf = (array: NumberArray): ArrayKind => (array instanceof Float64Array ? 'f64' : array instanceof Int32Array ? 'i32' : 'u8');

/**
 * The file: a little-endian u32 header length, a JSON header (the models with every typed array
 * replaced by `{ array: n }`, and each array's kind and length), then the arrays, each starting at a
 * multiple of 8 bytes so it can be viewed in place.
 */
interface Header {
  models: unknown;
  arrays: { kind: ArrayKind; length: number }[];
}

/** Writes the models under their key (whole or not at all: written aside, then renamed). */
export function writeNluModels(key: string, models: NluModels, directory = savedModelDir): string {
  const arrays: NumberArray[] = [];
  const described = JSON.stringify(models, (_name, value: unknown) => {
    if (value instanceof Float64Array || value instanceof Int32Array || value instanceof Uint8Array) return { array: arrays.push(value) - 1 };
    return value;
  });
  // The header is written around the models' JSON as it is (the shape of `Header`), not parsed back to be written again.
  const layout: Header['arrays'] = arrays.map((array) => ({ kind: kindOf(array), length: array.length }));
  const headerBytes = Buffer.from(`{"models":${described},"arrays":${JSON.stringify(layout)}}`, 'utf8');
  const parts: Buffer[] = [];
  const length = Buffer.alloc(4);
  length.writeUInt32LE(headerBytes.length);
  parts.push(length, headerBytes);
  let offset = 4 + headerBytes.length;
  for (const array of arrays) {
    const padding = (8 - (offset % 8)) % 8;
    parts.push(Buffer.alloc(padding), Buffer.from(array.buffer, array.byteOffset, array.byteLength));
    offset += padding + array.byteLength;
  }
  mkdirSync(directory, { recursive: true });
  const file = fileFor(directory, key);
  writeFileSync(`${file}.tmp`, Buffer.concat(parts));
  renameSync(`${file}.tmp`, file);
  return file;
}

/** A saved model file that is not what its header says: the server names it instead of half-reading it. */
export class DamagedModelError extends Error {
  override name = 'DamagedModelError';
}

/** The models saved under this key, or undefined when there are none (then the caller trains). */
export function readNluModels(key: string, directory = savedModelDir): NluModels | undefined {
  const file = fileFor(directory, key);
  if (!existsSync(file)) return undefined;
  // One copy into a buffer of our own: a typed array's offset must be a multiple of its element size.
  const bytes = new Uint8Array(readFileSync(file));
  const damaged = (why: string) => new DamagedModelError(`${file} is damaged (${why}): delete it, or run npm run build again`);
  if (bytes.length < 4) throw damaged('shorter than its header');
  const headerLength = new DataView(bytes.buffer).getUint32(0, true);
  if (4 + headerLength > bytes.length) throw damaged('shorter than its header');
  let header: Header;
  try {
    header = JSON.parse(Buffer.from(bytes.buffer, 4, headerLength).toString('utf8')) as Header;
  } catch {
    throw damaged('its header is not JSON');
  }
  let offset = 4 + headerLength;
  const layout = header.arrays.map(({ kind, length }) => {
    offset += (8 - (offset % 8)) % 8;
    const start = offset;
    offset += length * arrayKinds[kind].BYTES_PER_ELEMENT;
    return { kind, start, length };
  });
  if (offset !== bytes.length) throw damaged(`${bytes.length} bytes where its header describes ${offset}`);
  const arrays = layout.map(({ kind, start, length }) => new arrayKinds[kind](bytes.buffer, start, length));
  const placeArrays = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(placeArrays);
    if (value === null || typeof value !== 'object') return value;
    if ('array' in value && typeof value.array === 'number') return arrays[value.array];
    return Object.fromEntries(Object.entries(value).map(([name, inner]) => [name, placeArrays(inner)]));
  };
  return placeArrays(header.models) as NluModels;
}

/** What a trained parser hands `npm run build` to save. */
export interface TrainedModels {
  classifier: IntentClassifier;
  matcher: ExampleMatcher;
  softmax: SoftmaxClassifier | undefined;
}

export function savedFormOf({ classifier, matcher, softmax }: TrainedModels): NluModels {
  return { bayes: classifier.save(), matcher: matcher.save(), ...(softmax ? { softmax: softmax.save() } : {}) };
}
