import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadContent, type Content } from '../../src/content/loadContent.js';
import { evaluate } from '../../src/nlu/evaluation.js';
import { readLabelledJsonl } from '../../src/nlu/labelledJsonl.js';
import { MessageParser, type ParseResult } from '../../src/nlu/messageParser.js';
import { TextNormalizer } from '../../src/nlu/textNormalizer.js';

const heldoutFile = fileURLToPath(new URL('./heldout.jsonl', import.meta.url));
/** Written from the article alone, by someone who never saw intents/ (issue 11); never trained on. */
const usersHeldoutFile = fileURLToPath(new URL('./heldout_users.jsonl', import.meta.url));
const realUsersDir = fileURLToPath(new URL('../conversations/real_users/', import.meta.url));
/** Held-out conversations (written from the article and README alone), one folder per set, measured by `npm run converse`. */
const heldoutConversationsDir = fileURLToPath(new URL('../heldout_conversations/', import.meta.url));

/** The controls the unbinding flow offers inside a step. */
const stepIntents = ['affirm', 'deny', 'go_back', 'repeat', 'cancel', 'step_help', 'restart', 'verification_help'];

let content: Content;
let parser: MessageParser;

beforeAll(() => {
  content = loadContent();
  parser = new MessageParser(content);
});

const confidenceOf = (result: ParseResult, intent: string) => result.ranking.find((ranked) => ranked.name === intent)?.confidence ?? 0;

describe('held-out sentences', () => {
  it('are understood with at least 95% accuracy', () => {
    const cases = readLabelledJsonl(heldoutFile);
    const report = evaluate(cases, (text) => parser.parse(text).intent.name);
    const confusions = report.confusions
      .map(({ expected, predicted, count, examples }) => `  ${count}× ${expected} → ${predicted}: ${examples.join(' | ')}`)
      .join('\n');
    expect(
      report.accuracy,
      `accuracy ${(report.accuracy * 100).toFixed(1)}% (${report.correct}/${report.total}), confusions (expected → predicted):\n${confusions}`,
    ).toBeGreaterThanOrEqual(0.95);
  });

  it('written from the article alone are understood with at least 92% accuracy (goal: 95%)', () => {
    const report = evaluate(readLabelledJsonl(usersHeldoutFile), (text) => parser.parse(text).intent.name);
    expect(report.accuracy, `accuracy ${(report.accuracy * 100).toFixed(1)}% (${report.correct}/${report.total})`).toBeGreaterThanOrEqual(0.92);
  });

  it('do not occur in the training data, even after normalisation', () => {
    const normalizer = new TextNormalizer(content.lexicon);
    const trainedAs = new Map<string, string>();
    for (const intent of content.intents) for (const example of intent.examples) trainedAs.set(normalizer.normalize(example), intent.name);
    // The real-user and held-out conversations' longer lines too (short answers such as "好了" are everyone's words).
    const heldoutFiles = readdirSync(heldoutConversationsDir, { recursive: true, encoding: 'utf8' }).map((name) => path.join(heldoutConversationsDir, name));
    const conversationLines = [...readdirSync(realUsersDir).map((name) => path.join(realUsersDir, name)), ...heldoutFiles]
      .filter((file) => file.endsWith('.yml'))
      .flatMap((file) => [...readFileSync(file, 'utf8').matchAll(/- user: (.+)$/gm)].map((match) => match[1]!.trim()))
      .filter((text) => [...text].length >= 8);
    expect(heldoutFiles.length, 'the held-out conversations are read').toBeGreaterThan(0);
    const leaked = [...readLabelledJsonl(heldoutFile), ...readLabelledJsonl(usersHeldoutFile), ...conversationLines.map((text) => ({ text }))]
      .filter(({ text }) => trainedAs.has(normalizer.normalize(text)))
      .map(({ text }) => `${text} (trained as ${trainedAs.get(normalizer.normalize(text))})`);
    expect(leaked, `held-out sentences found in intents/nlu (a leaked sentence scores itself):\n${leaked.join('\n')}`).toEqual([]);
  });
});

describe('quick-reply payloads', () => {
  it('parse a bare payload with full confidence', () => {
    const result = parser.parse('/affirm');
    expect(result.intent).toEqual({ name: 'affirm', confidence: 1 });
    expect(result.fromPayload).toBe(true);
    expect(result.method).toBeUndefined();
  });

  it('carry the verification method', () => {
    const result = parser.parse('/verification_help{"method":"sms"}');
    expect(result.intent).toEqual({ name: 'verification_help', confidence: 1 });
    expect(result.fromPayload).toBe(true);
    expect(result.method).toBe('sms');
  });

  it('understand every button the bot shows', () => {
    for (const [id, response] of content.responses) {
      for (const { payload } of response.quickReplies ?? []) {
        const result = parser.parse(payload);
        expect(result.fromPayload, `${id}: ${payload}`).toBe(true);
        expect(result.intent.name, `${id}: ${payload}`).toBe(payload.slice(1).replace(/\{.*$/, ''));
      }
    }
  });

  it('do not trust a payload naming an unknown intent', () => {
    const result = parser.parse('/nonexistent');
    expect(result.fromPayload).toBe(false);
    expect(result.intent.name).not.toBe('nonexistent');
    expect(result.intent.confidence).toBeLessThan(1);
  });
});

describe('secrets in messages', () => {
  it('are redacted before anything is kept', () => {
    const result = parser.parse('我的验证码是123456');
    expect(result.secrets).toEqual(['verificationCode']);
    expect(result.redactedText).toBe('我的验证码是[验证码]');
    expect(result.redactedText).not.toContain('123456');
    expect(result.normalized).not.toContain('123456');
  });

  it('mark a message that is nothing but a code', () => {
    const result = parser.parse('123456');
    expect(result.secrets).toEqual(['verificationCode']);
    expect(result.onlySecret).toBe(true);
    expect(result.redactedText).not.toContain('123456');
  });

  it('do not hide the question around the code', () => {
    const result = parser.parse('验证码123456收不到');
    expect(result.onlySecret).toBe(false);
    expect(result.secrets).toEqual(['verificationCode']);
    expect(result.intent.name).toBe('verification_help');
  });
});

describe('verification method entity', () => {
  it.each([
    ['指纹验证不了', 'biometric'],
    ['人脸识别一直失败', 'biometric'],
    ['短信验证码收不到', 'sms'],
    ['安全问题的答案忘了', 'securityQuestion'],
  ] as const)('%s → %s', (text, method) => {
    expect(parser.parse(text).method).toBe(method);
  });

  it('is absent when no method is named', () => {
    expect(parser.parse('我要解绑钱包').method).toBeUndefined();
  });
});

describe('script', () => {
  it('notices traditional Chinese and still understands it', () => {
    const result = parser.parse('怎麼解綁錢包');
    expect(result.script).toBe('traditional');
    expect(result.intent.name).toBe('unbind_wallet');
  });

  it('notices simplified Chinese', () => {
    expect(parser.parse('怎么解绑钱包').script).toBe('simplified');
  });
});

describe('domain intents', () => {
  it.each([
    ['我要解绑钱包', 'unbind_wallet'],
    ['vx里的钱包怎么解除绑定', 'unbind_wallet'],
    ['帮我把数字钱包从微信上删掉', 'unbind_wallet'],
    ['验证码一直收不到怎么办', 'verification_help'],
    ['解绑的时候让我验证指纹 验证不过', 'verification_help'],
    ['钱包解绑了以前的账单还能查到吗', 'records_after_unbind'],
    ['解绑以后交易记录会不会消失', 'records_after_unbind'],
    ['钱包里还有钱 解绑之前要先取出来吗', 'balance_before_unbind'],
    ['解绑前余额怎么处理', 'balance_before_unbind'],
    ['一个微信可以绑好几个钱包吗', 'bind_multiple'],
    ['怎么把钱包绑到微信上', 'bind_wallet'],
    ['我想在微信里添加一个数字钱包', 'bind_wallet'],
    ['解绑之后还能重新绑回来吗', 'rebind'],
    ['以后想再绑定麻烦吗', 'rebind'],
    ['解绑后还能用微信支付吗', 'pay_after_unbind'],
    ['钱包解绑了微信还能付款吗', 'pay_after_unbind'],
    ['为啥要解绑钱包', 'why_unbind'],
    ['解绑钱包有什么好处', 'why_unbind'],
    ['数字钱包跟微信有什么关系', 'wallet_wechat_relation'],
    ['转人工', 'contact_human'],
    ['我要找人工客服', 'contact_human'],
  ])('%s → %s', (text, intent) => {
    expect(parser.parse(text).intent.name).toBe(intent);
  });

  it.each(['微信怎么解绑手机号', '支付宝怎么解绑银行卡', '给我讲个笑话', 'asdfghjkl'])(
    'sends the near miss %s to out_of_scope',
    (text) => {
      const result = parser.parse(text);
      expect(result.intent.name, JSON.stringify(result.ranking.slice(0, 3))).toBe('out_of_scope');
    },
  );
});

describe('ambiguity', () => {
  it('asks rather than guesses when a message fits two intents equally ("…有什么用": why unbind, or what a wallet is for)', () => {
    // The softmax in the blend reads 解绑 in "解绑钱包有什么用" as the question (why unbind) and may
    // answer it outright; what must never happen is the other topic's answer alone.
    const result = parser.parse('解绑钱包有什么用');
    expect(result.ambiguousBetween ?? [result.intent.name]).toContain('why_unbind');
  });

  it('does not ask when one intent clearly wins', () => {
    expect(parser.parse('解绑后还能用微信支付吗').ambiguousBetween).toBeUndefined();
  });
});

describe('ranking', () => {
  it.each(['钱包解绑了微信还能付款吗', '我要解绑钱包', 'asdfghjkl'])('for %s covers every intent once, sums to 1 and is sorted', (text) => {
    const { ranking } = parser.parse(text);
    expect(ranking.map((ranked) => ranked.name).sort()).toEqual(content.intents.map((intent) => intent.name).sort());
    expect(ranking.reduce((sum, ranked) => sum + ranked.confidence, 0)).toBeCloseTo(1, 6);
    for (let i = 1; i < ranking.length; i++) expect(ranking[i]!.confidence).toBeLessThanOrEqual(ranking[i - 1]!.confidence);
  });
});

describe('expected intents', () => {
  it('read a bare "没有" inside a step as deny', () => {
    expect(parser.parse('没有', { expectedIntents: stepIntents }).intent.name).toBe('deny');
  });

  it('make the expected intents more likely by the boost, keeping the ranking a distribution', () => {
    // A sentence the team has not written down, so the classifier (not the lookup) ranks it.
    const text = '不得行哦老铁';
    const plain = parser.parse(text);
    const boosted = parser.parse(text, { expectedIntents: stepIntents });
    expect(confidenceOf(plain, 'out_of_scope')).toBeGreaterThan(0);
    const oddsBefore = confidenceOf(plain, 'deny') / confidenceOf(plain, 'out_of_scope');
    const oddsAfter = confidenceOf(boosted, 'deny') / confidenceOf(boosted, 'out_of_scope');
    expect(oddsAfter / oddsBefore).toBeCloseTo(parser.options.expectedBoost, 6);
    expect(boosted.ranking.reduce((sum, ranked) => sum + ranked.confidence, 0)).toBeCloseTo(1, 6);
    expect(confidenceOf(boosted, 'deny')).toBeGreaterThan(confidenceOf(plain, 'deny'));
  });

  it('change nothing when none are given', () => {
    expect(parser.parse('不得行哦老铁', { expectedIntents: [] }).ranking).toEqual(parser.parse('不得行哦老铁').ranking);
  });
});

describe('reading a message for the dialogue', () => {
  it('never asks between a safe reading and one that skips a step, stops or hands over', () => {
    // Every runner-up is "too close" with this margin, so each training sentence, read inside a
    // step, would be a clarification if nothing filtered it.
    const eager = new MessageParser(content, { ambiguityMargin: 1 });
    const unsafe = new Set(['affirm', 'cancel', 'restart', 'contact_human']);
    // A particle added makes each one a sentence nobody wrote down, so the classifier ranks it.
    const offered = content.intents.flatMap((intent) => intent.examples.slice(0, 12)).flatMap((text) => {
      const between = eager.parse(`${text}呀`, { expectedIntents: stepIntents }).ambiguousBetween;
      return between ? [between] : [];
    });
    expect(offered.length).toBeGreaterThan(20);
    for (const pair of offered) expect(pair.filter((name) => unsafe.has(name)), pair.join(' / ')).toEqual([]);
  });

  it('takes a stop that does not say what it stops, or explains little of the message, as unclear', () => {
    expect(parser.parse('取消解绑').clearRequest).toBe(true);
    expect(parser.parse('不解绑了').clearRequest).toBe(true);
    const vague = parser.parse('算了吧');
    expect(vague.intent.name === 'cancel' ? vague.clearRequest : true).toBe(vague.intent.name !== 'cancel');
    const remark = parser.parse('今天天气好热啊我先喝口水', { expectedIntents: stepIntents });
    expect(remark.intent.name === 'cancel' && remark.clearRequest).toBe(false);
  });

  it('reads a short answer against the open question before the classifier', () => {
    expect(parser.parse('有', { expects: { yesNo: 'balance' } }).intent.name).toBe('affirm');
    expect(parser.parse('还有一点', { expects: { yesNo: 'balance' } }).intent.name).toBe('affirm');
    expect(parser.parse('没有', { expects: { yesNo: 'balance' } }).intent.name).toBe('deny');
    expect(parser.parse('解绑了', { expects: { yesNo: 'unbound' } }).intent.name).toBe('affirm');
    // A code is never an answer: it is a secret.
    expect(parser.parse('验证码是 482913', { expects: { yesNo: 'passed' } }).answer).toBeUndefined();
  });

  it('answers each question of a message, and finds where a user ahead of the bot is', () => {
    expect(parser.parse('解绑以后还能用微信支付吗？余额要先提出来吗？').questions).toEqual(['pay_after_unbind', 'balance_before_unbind']);
    expect(parser.parse('我已经在钱包页面了').position).toBe(5);
    expect(parser.parse('解绑按钮已经点了').position).toBe(7);
    expect(parser.parse('支付那个页面打开了').position).toBe(4);
  });

  it('reads toneless pinyin as the characters the training sentences use', () => {
    expect(parser.parse('zenme jiebang qianbao').normalized).toContain('解绑');
    expect(parser.parse('zenme jiebang qianbao').intent.name).toBe('unbind_wallet');
    expect(parser.parse('hello').normalized).not.toMatch(/\p{Script=Han}{3}/u);
  });
});
