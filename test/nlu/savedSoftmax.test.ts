import { rmSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SoftmaxClassifier, defaultSoftmaxOptions } from '../../src/nlu/softmaxClassifier.js';
import { softmaxKey, trainedSoftmax, writeSoftmax } from '../../src/nlu/savedSoftmax.js';

const examples = [
  { tokens: ['解绑', '钱包'], intent: 'unbind' },
  { tokens: ['余额', '钱包'], intent: 'balance' },
  { tokens: ['记录', '还在'], intent: 'records' },
  { tokens: ['解绑', '记录'], intent: 'records' },
];

describe('the softmax model saved by npm run build', () => {
  it('answers exactly as the model trained afresh, once written and read back', () => {
    const options = { ...defaultSoftmaxOptions, seed: 1 + Math.floor(Math.random() * 1e6) };
    const key = softmaxKey(options, examples);
    const trained = new SoftmaxClassifier(options).train(examples);
    const file = writeSoftmax(key, trained);
    try {
      const restored = trainedSoftmax(options, examples, key);
      for (const tokens of [['解绑'], ['余额', '多少'], ['记录', '钱包', '解绑'], []]) expect(restored.rank(tokens)).toEqual(trained.rank(tokens));
    } finally {
      rmSync(file, { force: true });
    }
  });

  it('is named by every example and option, so other examples never read it', () => {
    const key = softmaxKey(defaultSoftmaxOptions, examples);
    expect(softmaxKey(defaultSoftmaxOptions, [...examples, { tokens: ['转人工'], intent: 'human' }])).not.toBe(key);
    expect(softmaxKey(defaultSoftmaxOptions, examples.map((example, index) => (index === 0 ? { ...example, intent: 'other' } : example)))).not.toBe(key);
    expect(softmaxKey({ ...defaultSoftmaxOptions, epochs: 31 }, examples)).not.toBe(key);
  });
});
