import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SoftmaxClassifier, type SoftmaxOptions } from './softmaxClassifier.js';

/**
 * The softmax model trained by `npm run build` (dist/nlu/), named by a hash of the options and of
 * every training example's features and intent. Training it takes about a second at each start;
 * reading it back takes milliseconds (bench/RESULTS.md). A model is used only when its hash is the
 * hash of what this process would train on, so edited examples, lexicon or options train afresh.
 * Training is seeded, so a restored model answers exactly as a freshly trained one.
 */

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
export const savedModelDir = path.join(repoRoot, 'dist', 'nlu');

type Examples = readonly { tokens: readonly string[]; intent: string }[];

export function softmaxKey(options: SoftmaxOptions, examples: Examples): string {
  const hash = createHash('sha256').update(JSON.stringify(options));
  for (const { tokens, intent } of examples) hash.update(`${intent}\t${tokens.join('\u0001')}\n`);
  return hash.digest('hex').slice(0, 32);
}

const fileFor = (key: string) => path.join(savedModelDir, `softmax-${key}.bin`);

/** The saved model for this key, or a freshly trained one when there is none. */
export function trainedSoftmax(options: SoftmaxOptions, examples: Examples, key = softmaxKey(options, examples)): SoftmaxClassifier {
  const file = fileFor(key);
  if (!existsSync(file)) return new SoftmaxClassifier(options).train(examples);
  const bytes = readFileSync(file);
  const headerLength = bytes.readUInt32LE(0);
  const header = JSON.parse(bytes.subarray(4, 4 + headerLength).toString('utf8')) as { labels: string[]; vocabulary: string[] };
  // Copied out: a Float64Array needs an offset that is a multiple of 8.
  const numbers = new Float64Array(bytes.buffer.slice(bytes.byteOffset + 4 + headerLength, bytes.byteOffset + bytes.length));
  const classes = header.labels.length;
  const weights = numbers.subarray(0, header.vocabulary.length * classes);
  const bias = numbers.subarray(header.vocabulary.length * classes);
  return SoftmaxClassifier.restore(options, { ...header, weights, bias });
}

/** Writes the model under its key (whole or not at all: written aside, then renamed). */
export function writeSoftmax(key: string, model: SoftmaxClassifier): string {
  const { labels, vocabulary, weights, bias } = model.save();
  const header = Buffer.from(JSON.stringify({ labels, vocabulary }), 'utf8');
  const length = Buffer.alloc(4);
  length.writeUInt32LE(header.length);
  mkdirSync(savedModelDir, { recursive: true });
  const file = fileFor(key);
  writeFileSync(`${file}.tmp`, Buffer.concat([length, header, Buffer.from(weights.buffer, weights.byteOffset, weights.byteLength), Buffer.from(bias.buffer, bias.byteOffset, bias.byteLength)]));
  renameSync(`${file}.tmp`, file);
  return file;
}
