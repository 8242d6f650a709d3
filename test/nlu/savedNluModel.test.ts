import { mkdtempSync, rmSync, truncateSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadContent, type Content } from '../../src/content/loadContent.js';
import { MessageParser } from '../../src/nlu/messageParser.js';
import { defaultSoftmaxOptions } from '../../src/nlu/softmaxClassifier.js';
import { defaultClassifierOptions } from '../../src/nlu/intentClassifier.js';
import { nluModelKey, writeNluModels } from '../../src/nlu/savedNluModel.js';

/**
 * The models npm run build saves (Bayes tables, nearest-sentence index, softmax) must answer
 * exactly as the ones a server would train: otherwise a deployed bot understands users
 * differently from the one the tests and the evaluations measured.
 */
let content: Content;
let directory: string;
let trained: MessageParser;
let restored: MessageParser;

beforeAll(() => {
  content = loadContent();
  directory = mkdtempSync(path.join(os.tmpdir(), 'saved-nlu-'));
  trained = new MessageParser(content, {}, null);
  const { key, models } = trained.modelsToSave();
  writeNluModels(key, models, directory);
  restored = new MessageParser(content, {}, directory);
});

afterAll(() => rmSync(directory, { recursive: true, force: true }));

describe('the NLU models saved by npm run build', () => {
  it('are read back instead of trained when the examples are the same', () => {
    expect(trained.modelOrigin).toBe('trained');
    expect(restored.modelOrigin).toBe('saved');
  });

  it('read every message exactly as freshly trained models do', () => {
    // Messages made of pieces of the examples (whole examples are answered by lookup, before any model).
    const pieces = content.intents.flatMap((intent) => intent.examples).flatMap((example) => [example.slice(0, 3), example.slice(2), example]);
    const message = fc.array(fc.oneof(fc.constantFrom(...pieces), fc.string({ maxLength: 4 })), { minLength: 1, maxLength: 4 }).map((parts) => parts.join(''));
    fc.assert(
      fc.property(message, fc.constantFrom({}, { expectedIntents: ['affirm', 'deny'] }, { expectedIntents: ['step_help', 'go_back'] }), (text, context) => {
        expect(restored.parse(text, context)).toEqual(trained.parse(text, context));
      }),
      { numRuns: 300 },
    );
  });

  it('are not read for other examples or options, which train afresh', () => {
    const examples = [
      { tokens: ['解绑', '钱包'], intent: 'unbind' },
      { tokens: ['余额', '钱包'], intent: 'balance' },
    ];
    const options = { classifier: defaultClassifierOptions, softmax: defaultSoftmaxOptions };
    const key = nluModelKey(options, examples);
    expect(nluModelKey(options, [...examples, { tokens: ['转人工'], intent: 'human' }])).not.toBe(key);
    expect(nluModelKey(options, [{ ...examples[0]!, intent: 'other' }, examples[1]!])).not.toBe(key);
    expect(nluModelKey({ ...options, softmax: { ...defaultSoftmaxOptions, epochs: defaultSoftmaxOptions.epochs + 1 } }, examples)).not.toBe(key);
    expect(nluModelKey({ ...options, classifier: { ...defaultClassifierOptions, smoothing: 0.5 } }, examples)).not.toBe(key);
    expect(nluModelKey({ ...options, softmax: undefined }, examples)).not.toBe(key);
    const withOtherExamples = { ...content, intents: content.intents.map((intent, index) => (index === 0 ? { ...intent, examples: [...intent.examples, '一个新的例句'] } : intent)) };
    expect(new MessageParser(withOtherExamples, {}, directory).modelOrigin).toBe('trained');
  });

  it('refuse a damaged file by name instead of answering from half a model', () => {
    const damaged = mkdtempSync(path.join(os.tmpdir(), 'saved-nlu-damaged-'));
    try {
      const { key, models } = trained.modelsToSave();
      const file = writeNluModels(key, models, damaged);
      truncateSync(file, 4096);
      expect(() => new MessageParser(content, {}, damaged)).toThrow(/damaged/);
    } finally {
      rmSync(damaged, { recursive: true, force: true });
    }
  });
});
