import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadContent } from '../../src/content/loadContent.js';
import { MessageParser } from '../../src/nlu/index.js';
import { YesNoReader } from '../../src/nlu/yesNoReader.js';

const content = loadContent();
const reader = new YesNoReader(content.answers);
const parser = new MessageParser(content);
const read = (text: string, kind: Parameters<YesNoReader['read']>[1]) => reader.read(parser.parse(text).normalized, kind);

describe('the yes/no reader', () => {
  it('tells 有 from 没有, whatever the particles, hedges and doubling', () => {
    for (const text of ['有', '有的', '有呀', '嗯嗯有', '好像还剩一点', '还有十几块', '有，大概五十块']) expect(read(text, 'balance'), text).toBe('yes');
    for (const text of ['没有', '没了', '木有', '应该没有了吧', '早就提完了', '一分都没有']) expect(read(text, 'balance'), text).toBe('no');
  });

  it('reads echo answers in the words of the question', () => {
    expect(read('解绑掉了', 'unbound')).toBe('yes');
    expect(read('没解绑成功', 'unbound')).toBe('no');
    expect(read('过啦', 'passed')).toBe('yes');
    expect(read('还是没通过', 'passed')).toBe('no');
    expect(read('点开了', 'done')).toBe('yes');
    expect(read('看不到', 'done')).toBe('no');
  });

  it('gives the same word the meaning of its question: 提出来了 is no balance, and the advice done', () => {
    expect(read('提出来了', 'balance')).toBe('no');
    expect(read('提出来了', 'done')).toBe('yes');
  });

  it('reads English, emoji and pinyin through the lexicon', () => {
    expect(read('ok', 'done')).toBe('yes');
    expect(read('nope', 'passed')).toBe('no');
    expect(read('👌', 'offer')).toBe('yes');
    expect(read('meiyou', 'balance')).toBe('no');
  });

  it('keeps a declined offer a no through thanks, time words and "no need" (不用了谢谢, 暂时不用, 甭了)', () => {
    for (const text of ['不需要了，谢谢啦', '暂且不用', '没必要了吧', '用不着', '别转了', '我自己弄就行', '会了会了']) expect(read(text, 'offer'), text).toBe('no');
  });

  it('takes a thanked yes for no yes: "好的谢谢" after an answer and its offer mostly closes the topic', () => {
    for (const text of ['好的谢谢', '嗯嗯 多谢', '可以，谢谢你']) expect(read(text, 'offer'), text).toBe('other');
    expect(read('谢谢', 'offer')).toBe('other');
  });

  it('reads the potential negative of the question\'s verb (解不掉, 点不进去) as a no', () => {
    expect(read('解除不了', 'unbound')).toBe('no');
    expect(read('删不掉啊', 'unbound')).toBe('no');
    expect(read('找不着', 'done')).toBe('no');
    expect(read('页面显示成功了', 'unbound')).toBe('yes');
    expect(read('验证完了', 'passed')).toBe('yes');
  });

  it('turns a negated "finished" round: 还没提完 is money left, 没失败 a pass, but "没有，用完了" stays a no', () => {
    for (const text of ['还没提完', '没用完呢', '钱还没全转出来', '还没有花完']) expect(read(text, 'balance'), text).toBe('yes');
    for (const text of ['没有，用完了', '没了 都提完了', '早没了', '已经全部取出来了']) expect(read(text, 'balance'), text).toBe('no');
    expect(read('没失败', 'passed')).toBe('yes');
    expect(read('页面没有报错', 'unbound')).toBe('yes');
    expect(read('还没找到', 'done')).toBe('no');
    expect(read('不继续了', 'stop')).toBe('yes');
  });

  it('reads how people report a step done, a code that never came or a tip that did not help (点进去了, 一直没来, 没用)', () => {
    for (const text of ['点进去了', '看清楚了 点了', '按了']) expect(read(text, 'done'), text).toBe('yes');
    for (const text of ['等了好久短信都没来', '一直没动静', '试了也不管用', '换了还是没效果']) expect(read(text, 'passed'), text).toBe('no');
    expect(read('不用找人了', 'offer')).toBe('no');
  });

  it('leaves to the classifier what is not only an answer: a new request, a question, a hesitation', () => {
    for (const text of ['不解绑了', '我要解绑钱包', '余额怎么提出来', '等一下', '什么意思', '转人工']) expect(read(text, 'done'), text).toBe('other');
  });

  // yesno_fresh.jsonl was written later, by a session that saw only the article and the questions,
  // after the reader's words had been chosen: its floor is lower, and it is never tuned to.
  it.each([
    ['test/nlu/yesno_heldout.jsonl', 0.88],
    ['test/nlu/yesno_fresh.jsonl', 0.84],
  ])('with the open question, beats the classifier alone on the held-out answers of %s (npm run nlu:yesno)', (file, floor) => {
    const repo = path.resolve(import.meta.dirname, '../..');
    const out = execFileSync(process.execPath, ['--import', 'tsx', 'src/cli/yesNoEval.ts', file, '--json'], { cwd: repo, encoding: 'utf8' });
    const { steered, classifierOnly } = JSON.parse(out) as { steered: { accuracy: number }; classifierOnly: { accuracy: number } };
    expect(steered.accuracy).toBeGreaterThanOrEqual(floor);
    expect(steered.accuracy - classifierOnly.accuracy).toBeGreaterThanOrEqual(0.1);
  }, 60_000);
});
