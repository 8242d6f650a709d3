import * as OpenCC from 'opencc-js';
import STPhrases from 'opencc-js/dict/STPhrases';
import STPhrasesGenerated from 'opencc-js/dict/STPhrases_GeneratedFromRegionalPhrases';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadContent, type Content } from '../../src/content/loadContent.js';
import { ScriptConverter, convertSimplified, labelsInScript } from '../../src/nlu/scriptConverter.js';

let content: Content;
let converter: ScriptConverter;
beforeAll(() => {
  content = loadContent();
  converter = new ScriptConverter(content.wording);
});

/** Everything the bot and the widget say, in simplified as the team writes it. */
const allTexts = () => [...content.responses.values()].flatMap((response) => [response.text, ...(response.quickReplies ?? []).map((button) => button.title)]);

describe('converting replies to traditional with regional wording', () => {
  it('shares one phrase table between its conversions and converts exactly as OpenCC does', () => {
    // The shared segmenter takes any match longer than one character for a phrase.
    for (const dict of [STPhrases, STPhrasesGenerated]) {
      expect(dict.split('|').filter((entry) => [...entry.split(' ')[0]!].length < 2)).toEqual([]);
    }
    const texts = [...allTexts(), '𠮷野家的短信', '⿰氵青里面的信息'];
    for (const [target, to] of [['tw-characters', 'tw'], ['hant-tw', 'twp'], ['hant-hk', 'hkp']] as const) {
      const opencc = OpenCC.Converter({ from: 'cn', to });
      expect(texts.filter((text) => convertSimplified(text, target) !== opencc(text)), target).toEqual([]);
    }
  });

  it('uses Taiwan wording by default: 微信 stays, 钱包 → 錢包, 消息 → 訊息, 信息 → 資訊, 短信 → 簡訊', () => {
    expect(converter.convert('微信钱包', 'hant-tw')).toBe('微信錢包');
    expect(converter.convert('这条消息里的敏感信息', 'hant-tw')).toBe('這條訊息裡的敏感資訊');
    expect(converter.convert('短信验证码', 'hant-tw')).toBe('簡訊驗證碼');
    expect(converter.convert('软件界面', 'hant-tw')).toBe('軟體介面');
  });

  it('uses Hong Kong wording for hant-hk where the two differ', () => {
    expect(converter.convert('短信验证码', 'hant-hk')).toBe('短訊驗證碼');
    expect(converter.convert('软件', 'hant-hk')).toBe('軟件');
    expect(converter.convert('微信钱包', 'hant-hk')).toBe('微信錢包');
  });

  it('puts the team’s overrides in as written (intents/wording.yml), converting the text around them', () => {
    // OpenCC alone: 繫結, 賬戶, 識別.
    expect(convertSimplified('重新绑定微信账户', 'hant-tw')).toBe('重新繫結微信賬戶');
    expect(converter.convert('重新绑定微信账户', 'hant-tw')).toBe('重新綁定微信帳戶');
    expect(converter.convert('指纹/面部识别', 'hant-tw')).toBe('指紋/面部辨識');
    expect(converter.convert('现在没有人工客服在线', 'hant-tw')).toBe('現在沒有人工客服在線上');
    expect(converter.convert('微信账户里的信息', 'hant-hk')).toBe('微信賬戶裏的資料');
    const custom = new ScriptConverter({ 'hant-tw': { 钱包: 'X', 微信钱包: 'Y' } });
    expect(custom.convert('微信钱包和钱包', 'hant-tw')).toBe('Y和X'); // the longer phrase wins
  });

  it('leaves simplified text as it is', () => {
    expect(converter.convert('解绑后记录还在吗', 'hans')).toBe('解绑后记录还在吗');
  });

  it('converts the widget’s labels to each script, placeholders and the language tag included', () => {
    const widget = Object.fromEntries([...content.responses].filter(([id]) => id.startsWith('ui.widget.')).map(([id, response]) => [id, response.text]));
    const tw = labelsInScript(widget, 'hant-tw', content.wording);
    const hk = labelsInScript(widget, 'hant-hk', content.wording);
    expect(Object.keys(tw)).toEqual(Object.keys(widget));
    expect(labelsInScript(widget, 'hans', content.wording)).toEqual(widget);
    expect(tw['ui.widget.lang']).toBe('zh-TW');
    expect(hk['ui.widget.lang']).toBe('zh-HK');
    expect(tw['ui.widget.progress']).toBe('第 {step} / {total} 步');
    expect(tw['ui.widget.send']).toBe('傳送');
    expect(hk['ui.widget.send']).toBe('發送');
    expect(tw['ui.widget.connectionLost']).toBe('網路連線失敗，請檢查網路後再試。');
    expect(hk['ui.widget.connectionLost']).toBe('網絡連接失敗，請檢查網絡後再試。');
    for (const [key, text] of Object.entries(tw)) expect(text.match(/\{\w+\}/g), key).toEqual(widget[key]!.match(/\{\w+\}/g));
  });
});
