import { readFileSync } from 'node:fs';
import type { LabelledText } from './evaluation.js';

export class JsonlError extends Error {
  override name = 'JsonlError';
}

/** Reads `{"text": "...", "intent": "..."}` lines; a bad line is reported with its number, not skipped. */
export function readLabelledJsonl(file: string): LabelledText[] {
  let raw: string;
  try {
    raw = readFileSync(file, 'utf8');
  } catch (error) {
    throw new JsonlError(`cannot read ${file}: ${(error as Error).message}`);
  }
  const cases: LabelledText[] = [];
  raw.split(/\r?\n/).forEach((line, index) => {
    if (!line.trim()) return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      throw new JsonlError(`${file}:${index + 1}: not valid JSON`);
    }
    const { text, intent } = (value ?? {}) as Record<string, unknown>;
    if (typeof text !== 'string' || !text.trim() || typeof intent !== 'string' || !intent.trim()) {
      throw new JsonlError(`${file}:${index + 1}: each line needs a non-empty "text" and "intent" string`);
    }
    cases.push({ text, intent });
  });
  if (cases.length === 0) throw new JsonlError(`${file}: no examples`);
  return cases;
}
