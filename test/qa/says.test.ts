import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadContent } from '../../src/content/loadContent.js';
import { InProcessBotClient } from '../../src/qa/botClients.js';
import { checkTurn, runConversations, type CheckedTurn } from '../../src/qa/conversationRunner.js';
import { ScriptLoader } from '../../src/qa/conversationScript.js';
import { formatResults } from '../../src/qa/reports.js';

const dir = mkdtempSync(path.join(tmpdir(), 'says-'));
const script = (name: string, steps: string) => {
  const file = path.join(dir, `${name}.yml`);
  writeFileSync(file, `conversations:\n  - name: ${name}\n    steps:\n${steps}`);
  return file;
};

/** A turn with these reply ids; the texts are deliberately unlike any response's wording. */
const turn = (...ids: string[]): CheckedTurn => ({
  replies: ids.map((id) => ({ id, text: `reworded ${id}` })),
  intent: { name: 'unbind_wallet', confidence: 0.9 },
  state: 'idle',
  progress: null,
  handoff: null,
});

let client: InProcessBotClient;
beforeAll(() => {
  client = new InProcessBotClient(loadContent());
});

describe('says: which responses the bot gave, whatever their wording', () => {
  it('passes when every listed id is among the replies in that order, other replies allowed between them', () => {
    expect(checkTurn({ says: ['faq.records_after_unbind', 'unbind.step1'] }, turn('faq.records_after_unbind', 'unbind.resume', 'unbind.step1'))).toEqual([]);
    expect(checkTurn({ says: 'unbind.step1' }, turn('unbind.resume', 'unbind.step1'))).toEqual([]);
  });

  it('fails naming the expected and the actual ids when one is missing', () => {
    expect(checkTurn({ says: ['unbind.step2'] }, turn('unbind.resume', 'unbind.step1'))).toEqual([{ check: 'says', expected: 'unbind.step2', actual: 'unbind.resume, unbind.step1' }]);
    expect(checkTurn({ says: ['greet'] }, turn())).toEqual([{ check: 'says', expected: 'greet', actual: '(no replies)' }]);
  });

  it('fails when the ids come in another order, and says that order is the problem', () => {
    expect(checkTurn({ says: ['unbind.step1', 'faq.records_after_unbind'] }, turn('faq.records_after_unbind', 'unbind.step1'))).toEqual([
      { check: 'says', expected: 'unbind.step1, faq.records_after_unbind (in this order)', actual: 'faq.records_after_unbind, unbind.step1 (not in this order)' },
    ]);
  });

  it('saysNot fails when any listed id is among the replies', () => {
    expect(checkTurn({ saysNot: ['fallback', 'handoff.offer'] }, turn('unbind.step1'))).toEqual([]);
    expect(checkTurn({ saysNot: ['fallback', 'unbind.step1'] }, turn('unbind.resume', 'unbind.step1'))).toEqual([
      { check: 'saysNot', expected: 'none of: fallback, unbind.step1', actual: 'said unbind.step1: unbind.resume, unbind.step1' },
    ]);
  });

  it('runs in a script against the bot: a pass, and a failure printed with expected and actual ids', async () => {
    const passing = script('问记录再接着第 1 步', `      - user: 我要解绑钱包
        expect: { says: [unbind.intro, unbind.askBalance] }
      - click: 没有余额
        expect: { says: unbind.step1, saysNot: [unbind.step2] }
      - user: 解绑后购物记录还在吗
        expect: { says: [faq.records_after_unbind, unbind.step1] }
`);
    const failing = script('期望第 2 步', `      - user: 我要解绑钱包
        expect: { says: [unbind.askBalance, unbind.intro] }
`);
    const results = await runConversations(client, new ScriptLoader(dir).load([passing, failing]));
    expect(results.map((result) => result.passed)).toEqual([true, false]);
    const report = formatResults(results, client.target);
    expect(report).toContain('期望第 2 步.yml:4');
    expect(report).toContain('  says:\n    - expected: unbind.askBalance, unbind.intro (in this order)\n    + actual:   unbind.intro, unbind.askBalance (not in this order)');
  });

  it('refuses a says that is not an id or a list of ids, naming the line', () => {
    const file = script('坏的 says', `      - user: 你好
        expect: { says: [] }
`);
    expect(() => new ScriptLoader(dir).load([file])).toThrow(/坏的 says\.yml:5/);
  });
});
