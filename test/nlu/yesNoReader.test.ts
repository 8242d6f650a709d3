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

  it('leaves to the classifier what is not only an answer: a new request, a question, a hesitation', () => {
    for (const text of ['不解绑了', '我要解绑钱包', '余额怎么提出来', '等一下', '什么意思', '转人工']) expect(read(text, 'done'), text).toBe('other');
  });

  it('with the open question, beats the classifier alone on the held-out answers (npm run nlu:yesno)', () => {
    const repo = path.resolve(import.meta.dirname, '../..');
    const out = execFileSync(process.execPath, ['--import', 'tsx', 'src/cli/yesNoEval.ts', 'test/nlu/yesno_heldout.jsonl', '--json'], { cwd: repo, encoding: 'utf8' });
    const { steered, classifierOnly } = JSON.parse(out) as { steered: { accuracy: number }; classifierOnly: { accuracy: number } };
    expect(steered.accuracy).toBeGreaterThanOrEqual(0.88);
    expect(steered.accuracy - classifierOnly.accuracy).toBeGreaterThanOrEqual(0.1);
  }, 60_000);
});
