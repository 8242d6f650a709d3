import { describe, expect, it } from 'vitest';
import { FeatureExtractor } from '../../src/nlu/featureExtractor.js';

describe('FeatureExtractor: tokens the classifier sees', () => {
  const characters = new FeatureExtractor('charNgrams');

  it('cuts Chinese into character unigrams and bigrams, which natural\'s own tokenizers drop', () => {
    expect(characters.extract('解绑钱包')).toEqual(['解', '解绑', '绑', '绑钱', '钱', '钱包', '包']);
  });

  it('keeps English words whole and marks them apart from Chinese', () => {
    expect(characters.extract('how to unbind')).toEqual(['w:how', 'w:to', 'w:unbind']);
  });

  it('does not build bigrams across a break between Chinese runs', () => {
    expect(characters.extract('解绑 钱包')).not.toContain('绑钱');
  });

  it('keeps emoji, which are whole replies in chat', () => {
    expect(characters.extract('👌')).toEqual(['👌']);
  });

  it('returns nothing for punctuation only', () => {
    expect(characters.extract('？？？')).toEqual([]);
  });

  it('with jieba words, knows the domain words it is given', () => {
    const words = new FeatureExtractor('words', ['微信', '解绑']);
    expect(words.extract('怎么把数字钱包从微信里解绑')).toEqual(expect.arrayContaining(['w:微信', 'w:解绑', 'w:钱包']));
  });
});
