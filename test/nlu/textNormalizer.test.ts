import { beforeAll, describe, expect, it } from 'vitest';
import { loadContent } from '../../src/content/loadContent.js';
import { TextNormalizer, detectScript, foldWidth, toSimplified, toTraditional } from '../../src/nlu/textNormalizer.js';

let normalizer: TextNormalizer;

beforeAll(() => {
  normalizer = new TextNormalizer(loadContent().lexicon);
});

describe('foldWidth', () => {
  it('turns full-width letters, digits and punctuation into their ASCII forms', () => {
    expect(foldWidth('ＷｅＣｈａｔ，１２３')).toBe('WeChat,123');
  });

  it('turns the ideographic space into a plain space and leaves Chinese alone', () => {
    expect(foldWidth('解绑\u3000钱包')).toBe('解绑 钱包');
  });
});

describe('TextNormalizer', () => {
  it('folds full-width text and lower-cases it before applying the lexicon', () => {
    expect(normalizer.normalize('ＷｅＣｈａｔ，１２３')).toBe('微信,123');
  });

  it('lower-cases Latin text that is not a lexicon word', () => {
    expect(normalizer.normalize('My ABC Xyz')).toBe('my abc xyz');
  });

  it('collapses runs of whitespace and trims', () => {
    expect(normalizer.normalize('  解绑 \t  钱包  ')).toBe('解绑 钱包');
  });

  it('turns traditional characters into simplified ones', () => {
    expect(normalizer.normalize('解綁錢包')).toBe('解绑钱包');
    expect(normalizer.normalize('怎麼綁定')).toBe('怎么绑定');
  });

  it.each(['vx', 'wx', 'VX', '威信', 'WeChat', 'wechat', 'we chat'])('rewrites %s to 微信', (variant) => {
    expect(normalizer.normalize(`${variant}钱包`)).toBe('微信钱包');
  });

  it.each(['解除绑定', '取消绑定', '解帮'])('rewrites %s to 解绑, the longer variant winning over 绑定', (variant) => {
    expect(normalizer.normalize(`${variant}钱包`)).toBe('解绑钱包');
  });

  it('rewrites English variants only as whole words', () => {
    expect(normalizer.normalize('pay')).toBe('支付');
    expect(normalizer.normalize('wechat pay')).toBe('微信 支付');
    expect(normalizer.normalize('paypal')).toBe('paypal');
    expect(normalizer.normalize('I use PayPal')).toBe('i use paypal');
    expect(normalizer.normalize('cardboard')).toBe('cardboard');
  });

  it('leaves digits that merely contain a numeric variant alone', () => {
    // "88" and "886" are chat slang for 再见, but only on their own: amounts and years keep their digits.
    expect(normalizer.normalize('88')).toBe('再见');
    expect(normalizer.normalize('余额还有1888元')).toBe('余额还有1888元');
    expect(normalizer.normalize('我1988年开的户')).toBe('我1988年开的户');
  });

  it('does not rewrite a canonical word by its own variant', () => {
    expect(normalizer.normalize('人工客服')).toBe('人工客服');
    expect(normalizer.normalize('转人工')).toBe('转人工客服');
    expect(normalizer.normalize('解绑')).toBe('解绑');
  });

  it('is idempotent, so training and user text meet in the same form', () => {
    for (const text of ['ＷｅＣｈａｔ解除綁定錢包', 'vx 人工', '怎麼解帮 wallet']) {
      const once = normalizer.normalize(text);
      expect(normalizer.normalize(once)).toBe(once);
    }
  });
});

describe('detectScript', () => {
  it('recognises traditional Chinese', () => {
    expect(detectScript('怎麼解綁錢包')).toBe('traditional');
  });

  it('recognises simplified Chinese', () => {
    expect(detectScript('怎么解绑钱包')).toBe('simplified');
  });

  it.each(['ok', '好', '我', '123', ''])('cannot tell from %j', (text) => {
    expect(detectScript(text)).toBeUndefined();
  });
});

describe('toTraditional / toSimplified', () => {
  it('converts simplified to traditional', () => {
    expect(toTraditional('解绑钱包')).toBe('解綁錢包');
    expect(toTraditional('怎么解绑')).toBe('怎麼解綁');
  });

  it('round-trips through traditional', () => {
    expect(toSimplified(toTraditional('怎么解绑钱包'))).toBe('怎么解绑钱包');
  });
});
