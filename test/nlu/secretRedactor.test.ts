import { beforeAll, describe, expect, it } from 'vitest';
import { loadContent } from '../../src/content/loadContent.js';
import { SecretRedactor } from '../../src/nlu/secretRedactor.js';
import { readSecretSpellings } from '../../src/nlu/redactionEvaluation.js';

const spellings = readSecretSpellings('test/security/secret_spellings.jsonl');

let redactor: SecretRedactor;

beforeAll(() => {
  redactor = new SecretRedactor(loadContent().lexicon);
});

describe('SecretRedactor: what is redacted', () => {
  it('replaces a 6-digit verification code', () => {
    expect(redactor.redact('验证码是123456')).toEqual({ text: '验证码是[验证码]', kinds: ['verificationCode'] });
  });

  it('replaces a code typed with full-width digits', () => {
    expect(redactor.redact('验证码１２３４５６')).toEqual({ text: '验证码[验证码]', kinds: ['verificationCode'] });
  });

  it.each([
    ['16 digits', '6222021234567890'],
    ['16 digits in groups', '6222 0212 3456 7890'],
    ['19 digits', '6222021234567890123'],
    ['19 digits in groups', '6222 0212 3456 7890 123'],
  ])('replaces a bank card number (%s)', (_, card) => {
    expect(redactor.redact(`我的卡号${card}怎么解绑`)).toEqual({ text: '我的卡号[卡号]怎么解绑', kinds: ['bankCard'] });
  });

  it.each(['13812345678', '138 1234 5678', '138-1234-5678'])('replaces the mobile number %s', (phone) => {
    expect(redactor.redact(`手机号${phone}收不到短信`)).toEqual({ text: '手机号[手机号]收不到短信', kinds: ['phone'] });
  });

  it('replaces a mobile number after a country code, which is no secret and stays', () => {
    expect(redactor.redact('手机号+86 138 1234 5678收不到短信')).toEqual({ text: '手机号+86 [手机号]收不到短信', kinds: ['phone'] });
  });

  it.each(['11010519491231002X', '11010519491231002x', '110105194912310021'])('replaces the 18-digit ID number %s', (id) => {
    expect(redactor.redact(`身份证${id}`)).toEqual({ text: '身份证[身份证号]', kinds: ['idNumber'] });
  });

  it('replaces a password value but keeps the cue, so the transcript shows a password was shared', () => {
    expect(redactor.redact('密码是abc123')).toEqual({ text: '密码是[密码]', kinds: ['password'] });
    expect(redactor.redact('password: hunter22')).toEqual({ text: 'password: [密码]', kinds: ['password'] });
    expect(redactor.redact('支付密码abc123')).toEqual({ text: '支付密码[密码]', kinds: ['password'] });
  });

  it.each(['验证码：482913', '好了:482913', '好了: 482913', '验证码是482913.', '验证码是４８２９１３．', '482913。'])('replaces a code after a label or before a full stop: %s', (typed) => {
    const { text, kinds } = redactor.redact(typed);
    expect(kinds).toEqual(['verificationCode']);
    expect(text).not.toMatch(/482913|４８２９１３/);
  });

  it('lists every kind found in a message with several secrets, keeping the rest as typed', () => {
    const { text, kinds } = redactor.redact('卡号6222021234567890，手机13812345678，验证码654321');
    expect(text).toBe('卡号[卡号]，手机[手机号]，验证码[验证码]');
    expect([...kinds].sort()).toEqual(['bankCard', 'phone', 'verificationCode']);
  });

  it('never leaves the original digits in the redacted text', () => {
    const secrets = ['123456', '６５４３２１', '6222 0212 3456 7890', '6222021234567890123', '+86 138 1234 5678', '11010519491231002X'];
    for (const secret of secrets) {
      const { text } = redactor.redact(`请帮我看看 ${secret} 这个`);
      const digits = secret.replace(/[^0-9０-９]/g, '');
      expect(text.replace(/[\s-]/g, '')).not.toContain(digits);
      // No run of four digits of it survives, grouped or not.
      expect(text, text).not.toMatch(/[0-9０-９](?:[\s-]?[0-9０-９]){3}/);
    }
  });
});

describe('SecretRedactor: what is left alone', () => {
  it.each([
    '余额还有1000元',
    '还有 1000 元',
    '钱包里还有2000块',
    '¥2000',
    '余额还有￥2000',
    '2025-05-12',
    '1999年绑的卡',
    '下午15:30',
    '10:30:00',
    '2024-05-12 到了',
    '价格1234.50',
    '版本8.0.1234',
    '好了，下一步！',
    '支付密码忘了怎么办',
    '等了12分钟',
    '12',
    '我要解绑钱包',
  ])('%s', (text) => {
    expect(redactor.redact(text)).toEqual({ text, kinds: [] });
  });
});

describe('SecretRedactor.strip', () => {
  it('removes the labels and keeps the words around them', () => {
    const { text } = redactor.redact('验证码123456收不到');
    expect(redactor.strip(text).replace(/\s+/g, '')).toBe('验证码收不到');
  });
});

describe('SecretRedactor: the table of secret spellings (test/security/secret_spellings.jsonl)', () => {
  it('removes every secret of every line, keeps what must stay, and names the kind found', () => {
    expect(spellings.length).toBeGreaterThanOrEqual(60);
    expect(spellings.filter((line) => !line.secrets.length).length).toBeGreaterThanOrEqual(20);
    const wrong: string[] = [];
    for (const line of spellings) {
      const { text, kinds } = redactor.redact(line.text, line.atStep ? { atStep: line.atStep } : {});
      const problems = [
        ...line.secrets.filter((secret) => text.includes(secret)).map((secret) => `kept ${secret}`),
        ...line.mustKeep.filter((kept) => !text.includes(kept)).map((kept) => `lost ${kept}`),
        ...(line.kind === 'none' ? (kinds.length ? [`found ${kinds.join(', ')}`] : []) : kinds.includes(line.kind as never) ? [] : [`found ${kinds.join(', ') || 'nothing'}, not ${line.kind}`]),
      ];
      if (problems.length) wrong.push(`${line.note} (${line.atStep ?? 'any step'}): ${problems.join('; ')} → ${text}`);
    }
    expect(wrong).toEqual([]);
  });
});

describe('SecretRedactor: spellings kept as written', () => {
  it('replaces the whole spelled secret, separators and numerals included, and nothing around it', () => {
    expect(redactor.redact('Ｈｉ，验证码是 伍捌叁-玖贰零，ＯＫ？')).toEqual({ text: 'Ｈｉ，验证码是 [验证码]，ＯＫ？', kinds: ['verificationCode'] });
  });

  it('reads numerals as digits only in runs of secret length', () => {
    for (const text of ['我在第七步了', '试了三次', '一个钱包', '还有5000零钱', '两三天了']) expect(redactor.redact(text)).toEqual({ text, kinds: [] });
  });

  it('a number at the SMS-code step is a code even as a year; elsewhere a bare year stays', () => {
    expect(redactor.redact('2019', { atStep: 'smsCode' })).toEqual({ text: '[验证码]', kinds: ['verificationCode'] });
    expect(redactor.redact('2019').kinds).toEqual([]);
  });

  it('at the password step a token mixing letters and digits is a password without any cue', () => {
    expect(redactor.redact('应该是 wang1980 吧', { atStep: 'paymentPassword' })).toEqual({ text: '应该是 [密码] 吧', kinds: ['password'] });
    expect(redactor.redact('应该是 wang1980 吧').kinds).toEqual([]);
  });
});

describe('SecretRedactor: invisible and bidi characters', () => {
  it.each([
    ['an RTL override', '\u202E'],
    ['a zero-width space', '\u200B'],
    ['a zero-width joiner', '\u200D'],
    ['a word joiner', '\u2060'],
    ['a byte-order mark', '\uFEFF'],
    ['a soft hyphen', '\u00AD'],
    ['a left-to-right mark', '\u200E'],
    ['an Arabic letter mark', '\u061C'],
    ['a first-strong isolate', '\u2068'],
  ])('%s inside a number neither hides it nor is kept', (_name, char) => {
    const { text, kinds } = redactor.redact(`卡号6222${char}0212${char}3456${char}7890，谢谢`);
    expect(text).toBe('卡号[卡号]，谢谢');
    expect(kinds).toEqual(['bankCard']);
  });

  it('removes them from text without a secret too, so the dashboard shows labels as written; variation selectors (how an emoji looks) stay', () => {
    expect(redactor.redact('\u202E你好\u200B，\u2066请问\u2069❤\uFE0F')).toEqual({ text: '你好，请问❤\uFE0F', kinds: [] });
  });
});
