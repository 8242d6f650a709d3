import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadContent } from '../../src/content/loadContent.js';
import { allStates } from '../../src/dialogue/flowMap.js';
import { InProcessBotClient, RestBotClient } from '../../src/qa/botClients.js';
import { runConversations } from '../../src/qa/conversationRunner.js';
import { ScriptError, ScriptLoader } from '../../src/qa/conversationScript.js';
import { coverage, formatResults, junitXml } from '../../src/qa/reports.js';
import { serveDuringTests } from '../support/testServer.js';

const dir = mkdtempSync(path.join(tmpdir(), 'converse-'));
const write = (name: string, text: string) => {
  const file = path.join(dir, name);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, text);
  return file;
};

write('fragments/start_unbinding.yml', `steps:
  - user: 我要解绑钱包
    expect: { state: unbinding.checkingBalance }
  - click: 没有余额
    expect: { progress: 1 }
`);
const passing = write('passing.yml', `conversations:
  - name: 解绑到第 2 步
    steps:
      - include: start_unbinding
      - user: [好了, 下一步]
        expect:
          state: unbinding.openMe
          progress: 2
          says: unbind.step2               # also checked through REST (--url): replies carry their id
          textContains: [第 2 步, 第二步]
          textNotContains: 抱歉
          regex: "最右侧的“我”"
          quickReplies: [好了，下一步, 找不到]
  - name: 问记录
    steps:
      - user: 解绑后购物记录还在吗
        expect: { intent: records_after_unbind, minConfidence: 0.5, state: idle, handoff: false }
`);
const failing = write('failing.yml', `conversations:
  - name: 期望写错了
    steps:
      - user: 我要解绑钱包
        expect: { state: unbinding.openPay }
      - user: 好了
`);
const botium = write('imported.convo.txt', `从 Botium 导入的对话
#me
解绑后还能用微信支付吗
#bot
仍然可以使用微信支付
`);

let client: InProcessBotClient;
const content = loadContent();
beforeAll(() => {
  client = new InProcessBotClient(content);
});

describe('scripted conversation runner', () => {
  it('runs a passing script (fragment included, one variant per phrasing) and reports it passed', async () => {
    const conversations = new ScriptLoader(dir).load([passing]);
    expect(conversations.map((conversation) => conversation.name)).toEqual(['解绑到第 2 步 (phrasing 1/2)', '解绑到第 2 步 (phrasing 2/2)', '问记录']);
    expect(conversations[1]!.steps.at(-1)!.text).toBe('下一步');
    const results = await runConversations(client, conversations);
    expect(results.map((result) => result.passed)).toEqual([true, true, true]);
    expect(formatResults(results, client.target)).toContain('3 passed, 0 failed');
  });

  it('reports a failing script with the step, where it was written, what was expected and what the bot said', async () => {
    const results = await runConversations(client, new ScriptLoader(dir).load([failing]));
    expect(results[0]!.passed).toBe(false);
    expect(results[0]!.failure!.stepIndex).toBe(0);
    expect(results[0]!.failure!.mismatches).toEqual([{ check: 'state', expected: 'unbinding.openPay', actual: 'unbinding.checkingBalance' }]);
    const report = formatResults(results, client.target);
    expect(report).toContain('failing.yml:4');
    expect(report).toContain('- expected: unbinding.openPay');
    expect(report).toContain('+ actual:   unbinding.checkingBalance');
    expect(report).toContain('余额');
    expect(report).toContain('0 passed, 1 failed');
  });

  it('fails a click on a button the bot did not offer, naming the buttons it did offer', async () => {
    const file = write('click.yml', `conversations:
  - name: 点一个不存在的按钮
    steps:
      - click: 不存在的按钮
`);
    const [result] = await runConversations(client, new ScriptLoader(dir).load([file]));
    expect(result!.failure!.mismatches[0]!.check).toBe('click');
    expect(result!.failure!.mismatches[0]!.actual).toContain('我要解绑钱包');
  });

  it('imports Botium .convo.txt files', async () => {
    const conversations = new ScriptLoader(dir).load([botium]);
    expect(conversations[0]!.name).toBe('从 Botium 导入的对话');
    const [result] = await runConversations(client, conversations);
    expect(result!.passed).toBe(true);
  });

  it('writes JUnit XML that parses back with the right counts, names and failure details', async () => {
    const results = await runConversations(client, new ScriptLoader(dir).load([passing, failing]));
    const parsed = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(junitXml(results)) as {
      testsuites: { tests: string; failures: string; testsuite: { name: string; testcase: { name: string; failure?: { message: string; '#text': string } } | { name: string }[] }[] };
    };
    expect(parsed.testsuites.tests).toBe('4');
    expect(parsed.testsuites.failures).toBe('1');
    const failedCase = parsed.testsuites.testsuite.find((suite) => suite.name.endsWith('failing.yml'))!.testcase as { name: string; failure: { message: string; '#text': string } };
    expect(failedCase.name).toBe('期望写错了');
    expect(failedCase.failure.message).toContain('state: expected unbinding.openPay');
    expect(failedCase.failure['#text']).toContain('+ actual:   unbinding.checkingBalance');
  });

  it('reports coverage: intents, states and transitions reached, and which were not', async () => {
    const results = await runConversations(client, new ScriptLoader(dir).load([passing]));
    const report = coverage(results, content.intents.map((intent) => intent.name));
    expect(report.intents.covered).toEqual(expect.arrayContaining(['unbind_wallet', 'records_after_unbind', 'affirm', 'deny']));
    expect(report.intents.missing).toContain('contact_human');
    expect(report.states.covered).toEqual(expect.arrayContaining(['idle', 'unbinding.checkingBalance', 'unbinding.openWeChat', 'unbinding.openMe']));
    expect(report.states.covered.length + report.states.missing.length).toBe(allStates.length);
    expect(report.states.missing).toContain('handedOff');
    expect(report.transitions.covered).toEqual(expect.arrayContaining(['conversation:idle on user.unbind', 'unbindWallet:openWeChat on user.affirm']));
  });

  it('refuses a script with a mistake, naming the file and line', () => {
    const file = write('broken.yml', `conversations:
  - name: 有拼写错误
    steps:
      - user: 你好
        expect: { stat: idle }
`);
    expect(() => new ScriptLoader(dir).load([file])).toThrow(ScriptError);
    expect(() => new ScriptLoader(dir).load([file])).toThrow(/broken\.yml:5/);
  });

  it('refuses an include of a fragment that does not exist', () => {
    const file = write('missing-fragment.yml', `conversations:
  - name: 引用不存在的片段
    steps:
      - include: nowhere
`);
    expect(() => new ScriptLoader(dir).load([file])).toThrow(/no fragment fragments\/nowhere\.yml/);
  });
});

describe('against a rate-limited server', () => {
  const server = serveDuringTests({ rateLimits: { perAddress: { perMinute: 0, burst: 0 }, perConversation: { perMinute: 120, burst: 1 }, socketsPerAddress: 0 } });

  it('waits out each 429 as Retry-After says and still passes', async () => {
    const started = performance.now();
    const results = await runConversations(new RestBotClient(server.baseUrl), new ScriptLoader(dir).load([passing]));
    expect(results.map((result) => result.passed)).toEqual([true, true, true]);
    // Some messages were refused and sent again after the server's Retry-After (1 s here).
    expect(performance.now() - started).toBeGreaterThan(1000);
  }, 60_000);
});

describe('against a running server (--url)', () => {
  const server = serveDuringTests();

  it('runs the same scripts through the REST API', async () => {
    const results = await runConversations(new RestBotClient(server.baseUrl), new ScriptLoader(dir).load([passing, botium]));
    expect(results.map((result) => [result.conversation.name, result.passed])).toEqual([
      ['解绑到第 2 步 (phrasing 1/2)', true],
      ['解绑到第 2 步 (phrasing 2/2)', true],
      ['问记录', true],
      ['从 Botium 导入的对话', true],
    ]);
  });

  it('npm run converse exits non-zero on a failure and writes JUnit for CI', async () => {
    const junit = path.join(dir, 'report.xml');
    // Asynchronous: the server under test lives in this process and must keep answering.
    const child = spawn('npx', ['tsx', 'src/cli/converse.ts', failing, '--url', server.baseUrl, '--junit', junit]);
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    const status = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(status).toBe(1);
    expect(stdout).toContain('0 passed, 1 failed');
    expect(readFileSync(junit, 'utf8')).toContain('<testcase classname=');
  }, 30_000);
});
