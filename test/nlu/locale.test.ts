import { describe, expect, it } from 'vitest';
import { canonicalLocale, openingScript, readsTraditional, replyScriptFor } from '../../src/nlu/locale.js';

describe('locales', () => {
  it('keeps a BCP 47 tag in its canonical form and refuses what is not one', () => {
    expect(canonicalLocale('zh-hk')).toBe('zh-HK');
    expect(canonicalLocale('zh-hant-tw')).toBe('zh-Hant-TW');
    expect(canonicalLocale('en-US')).toBe('en-US');
    for (const bad of ['', 'zh_TW', '*', 'chinese please', 'zh-TW-x-'.padEnd(36, 'a')]) expect(canonicalLocale(bad), bad).toBeUndefined();
  });

  it.each([
    ['zh-TW', true],
    ['zh-HK', true],
    ['zh-MO', true],
    ['zh-Hant', true],
    ['zh-Hant-CN', true],
    ['yue-HK', true],
    ['zh-CN', false],
    ['zh', false],
    ['zh-SG', false],
    ['zh-Hans-HK', false],
    ['zh-US', false],
    ['en-HK', false],
    [undefined, false],
  ] as const)('%s reads traditional: %s', (locale, traditional) => {
    expect(readsTraditional(locale)).toBe(traditional);
    expect(openingScript(locale)).toBe(traditional ? 'traditional' : 'simplified');
  });

  it('words traditional replies for Hong Kong and Macau, for Taiwan otherwise; simplified stays simplified', () => {
    expect(replyScriptFor('traditional', 'zh-HK')).toBe('hant-hk');
    expect(replyScriptFor('traditional', 'zh-MO')).toBe('hant-hk');
    expect(replyScriptFor('traditional', 'zh-Hant-HK')).toBe('hant-hk');
    expect(replyScriptFor('traditional', 'zh-TW')).toBe('hant-tw');
    expect(replyScriptFor('traditional', 'zh-CN')).toBe('hant-tw');
    expect(replyScriptFor('traditional', undefined)).toBe('hant-tw');
    expect(replyScriptFor('simplified', 'zh-HK')).toBe('hans');
  });
});
