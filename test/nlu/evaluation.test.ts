import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { evaluate, kFolds, type LabelledText } from '../../src/nlu/evaluation.js';
import { JsonlError, readLabelledJsonl } from '../../src/nlu/labelledJsonl.js';

describe('evaluate', () => {
  // Seven cases, predictions chosen so every number below can be worked out by hand.
  const cases: LabelledText[] = [
    { text: 'a1', intent: 'A' },
    { text: 'a2', intent: 'A' },
    { text: 'a3', intent: 'A' },
    { text: 'a4', intent: 'A' },
    { text: 'b1', intent: 'B' },
    { text: 'b2', intent: 'B' },
    { text: 'c1', intent: 'C' },
  ];
  const predictions: Record<string, string> = { a1: 'A', a2: 'A', a3: 'B', a4: 'B', b1: 'B', b2: 'A', c1: 'X' };
  const report = evaluate(cases, (text) => predictions[text]!);

  it('counts accuracy over all cases', () => {
    expect(report.total).toBe(7);
    expect(report.correct).toBe(3);
    expect(report.accuracy).toBeCloseTo(3 / 7, 10);
  });

  it('scores precision and recall per intent', () => {
    // A: tp 2, fp 1 (b2), fn 2 (a3, a4). B: tp 1, fp 2 (a3, a4), fn 1 (b2). C: never right.
    expect(report.perIntent.A).toEqual({
      precision: expect.closeTo(2 / 3, 10),
      recall: expect.closeTo(1 / 2, 10),
      f1: expect.closeTo(4 / 7, 10),
      support: 4,
    });
    expect(report.perIntent.B?.precision).toBeCloseTo(1 / 3, 10);
    expect(report.perIntent.B?.recall).toBeCloseTo(1 / 2, 10);
    expect(report.perIntent.B?.f1).toBeCloseTo(2 / 5, 10);
    expect(report.perIntent.B?.support).toBe(2);
    expect(report.perIntent.C).toEqual({ precision: 0, recall: 0, f1: 0, support: 1 });
  });

  it('averages F1 over the tested intents only, not a stray predicted label', () => {
    expect(report.perIntent.X).toEqual({ precision: 0, recall: 0, f1: 0, support: 0 });
    expect(report.macroF1).toBeCloseTo((4 / 7 + 2 / 5 + 0) / 3, 10);
  });

  it('lists confusions most frequent first, with the sentences', () => {
    expect(report.confusions[0]).toEqual({ expected: 'A', predicted: 'B', count: 2, examples: ['a3', 'a4'] });
    expect(report.confusions.slice(1)).toEqual(
      expect.arrayContaining([
        { expected: 'B', predicted: 'A', count: 1, examples: ['b2'] },
        { expected: 'C', predicted: 'X', count: 1, examples: ['c1'] },
      ]),
    );
    expect(report.confusions).toHaveLength(3);
  });

  it('gives 1 everywhere and no confusions for perfect predictions', () => {
    const perfect = evaluate(cases, (text) => cases.find((c) => c.text === text)!.intent);
    expect(perfect.accuracy).toBe(1);
    expect(perfect.macroF1).toBe(1);
    expect(perfect.confusions).toEqual([]);
  });

  it('reports 0 rather than NaN for an empty set', () => {
    const empty = evaluate([], () => 'A');
    expect(empty).toMatchObject({ total: 0, correct: 0, accuracy: 0, macroF1: 0, confusions: [] });
  });
});

describe('kFolds', () => {
  const examples: LabelledText[] = [
    ...Array.from({ length: 7 }, (_, i) => ({ text: `a${i}`, intent: 'A' })),
    ...Array.from({ length: 5 }, (_, i) => ({ text: `b${i}`, intent: 'B' })),
    { text: 'c0', intent: 'C' },
  ];
  const folds = kFolds(examples, 3);

  it('makes k folds that together hold every example exactly once', () => {
    expect(folds).toHaveLength(3);
    const all = folds.flat();
    expect(all).toHaveLength(examples.length);
    expect(new Set(all).size).toBe(examples.length);
    for (const example of examples) expect(all).toContain(example);
  });

  it('spreads each intent evenly: fold sizes per intent differ by at most one', () => {
    for (const intent of ['A', 'B', 'C']) {
      const sizes = folds.map((fold) => fold.filter((example) => example.intent === intent).length);
      expect(Math.max(...sizes) - Math.min(...sizes), `${intent}: ${sizes.join(', ')}`).toBeLessThanOrEqual(1);
    }
  });

  it('gives the same folds on every run', () => {
    expect(kFolds(examples, 3)).toEqual(folds);
  });
});

describe('readLabelledJsonl', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'jsonl-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  const write = (name: string, content: string) => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, content);
    return file;
  };
  const errorFrom = (action: () => unknown): Error => {
    try {
      action();
    } catch (error) {
      return error as Error;
    }
    throw new Error('expected an error');
  };

  it('reads text and intent from each line, skipping blank lines and CRLF endings', () => {
    const file = write('ok.jsonl', '{"text": "我要解绑", "intent": "unbind_wallet"}\r\n\r\n{"text": "你好", "intent": "greet", "note": 1}\n');
    expect(readLabelledJsonl(file)).toEqual([
      { text: '我要解绑', intent: 'unbind_wallet' },
      { text: '你好', intent: 'greet' },
    ]);
  });

  it('names the file and line of a line that is not JSON', () => {
    const file = write('broken.jsonl', '{"text": "a", "intent": "A"}\n\n{"text": "b", "intent": \n{"text": "c", "intent": "C"}\n');
    const error = errorFrom(() => readLabelledJsonl(file));
    expect(error).toBeInstanceOf(JsonlError);
    expect(error.message).toContain(`${file}:3:`);
  });

  it('names the line of an entry without an intent', () => {
    const file = write('missing.jsonl', '{"text": "a", "intent": "A"}\n{"text": "b"}\n');
    const error = errorFrom(() => readLabelledJsonl(file));
    expect(error).toBeInstanceOf(JsonlError);
    expect(error.message).toContain(`${file}:2:`);
  });

  it('refuses a file with no examples and a file that does not exist', () => {
    expect(() => readLabelledJsonl(write('empty.jsonl', '\n\n'))).toThrow(JsonlError);
    expect(() => readLabelledJsonl(path.join(dir, 'nope.jsonl'))).toThrow(JsonlError);
  });
});
