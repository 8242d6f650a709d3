import { createRequire } from 'node:module';
import type { Jieba } from '@node-rs/jieba';

export type FeatureSet = 'charNgrams' | 'charTrigrams' | 'words' | 'charNgramsAndWords';

const hanRun = /\p{Script=Han}+/gu;
const latinWord = /[a-z][a-z0-9']*|[0-9]+/g;
const pictograph = /\p{Extended_Pictographic}/gu;

/**
 * Turns normalised text into the tokens the classifier sees.
 * Chinese has no spaces and natural's tokenizers drop Han characters, so Chinese runs become
 * character unigrams and bigrams (robust to typos and unseen words), optionally with jieba words;
 * English words are kept whole. The default was chosen by measurement: see README ("How the bot understands").
 */
export class FeatureExtractor {
  private readonly jieba: Jieba | undefined;

  constructor(
    readonly featureSet: FeatureSet = 'charNgrams',
    domainWords: readonly string[] = [],
  ) {
    if (featureSet === 'words' || featureSet === 'charNgramsAndWords') {
      // Loaded only for the word-based feature sets, which are kept to re-run the comparison
      // (npm run nlu:eval -- --cv 5 --features words); the default needs no native segmenter.
      const require = createRequire(import.meta.url);
      const { Jieba: JiebaSegmenter } = require('@node-rs/jieba') as typeof import('@node-rs/jieba');
      const { dict } = require('@node-rs/jieba/dict') as typeof import('@node-rs/jieba/dict.js');
      this.jieba = JiebaSegmenter.withDict(dict);
      // jieba's dictionary lacks words like 微信 and 解绑; without them it cuts 微/信 and 解/绑.
      if (domainWords.length) this.jieba.loadDict(Buffer.from(domainWords.map((word) => `${word} 100000 n`).join('\n')));
    }
  }

  extract(normalized: string): string[] {
    const features = new Set<string>();
    for (const word of normalized.match(latinWord) ?? []) features.add(`w:${word}`);
    // Emoji are whole replies in chat (👌, ❓); dropping them would leave nothing to classify.
    for (const emoji of normalized.match(pictograph) ?? []) features.add(emoji);
    for (const run of normalized.match(hanRun) ?? []) {
      if (this.featureSet !== 'words') {
        const chars = [...run];
        chars.forEach((char, index) => {
          features.add(char);
          const next = chars[index + 1];
          if (next) features.add(char + next);
          const third = chars[index + 2];
          if (next && third && this.featureSet === 'charTrigrams') features.add(char + next + third);
        });
      }
      if (this.jieba) for (const word of this.jieba.cut(run, false)) features.add(`w:${word}`);
    }
    return [...features];
  }
}
