import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadContent } from '../../src/content/loadContent.js';
import { InProcessBotClient } from '../../src/qa/botClients.js';
import { botiumWildcardMatch, normalizeBotiumText, parseBotiumConvo } from '../../src/qa/botiumScript.js';
import { runConversations } from '../../src/qa/conversationRunner.js';
import { ScriptError, ScriptLoader, type ScriptedConversation } from '../../src/qa/conversationScript.js';
import { formatResults } from '../../src/qa/reports.js';

const fixtures = path.resolve('test/qa/fixtures');

/**
 * Our reading of Botium files against botium-core's own. fixtures/*.botium-core.json were printed by
 * botium-core 1.15.13 (npm, installed in a scratch folder outside the repo): ScriptingProvider
 * Build(), ReadScriptsFromDirectory(folder), ExpandConvos(), then per convo its name and each step's
 * sender, text (utterance names resolved with its _resolveUtterance, normalised with its
 * normalizeText), negation and asserters; #begin/#end steps left out (botium-core runs nothing for
 * them without logic hooks). Compared: 8 convos, 58 steps, partial convos (INCLUDE and #include,
 * nested), utterance expansion with %s arguments and two utterances (every combination, its names),
 * a file without a name, multi-line and blank-line texts, `!`/`!!`/`??`, BUTTONS/INTENT/BUTTON.
 * All identical; the wildcardIgnoreCase cases below gave the same answers in botium-core's
 * MatchFunctions.
 */
function botiumView(conversations: ScriptedConversation[]) {
  return conversations
    .map((conversation) => ({
      name: conversation.name,
      steps: conversation.steps.flatMap((step) => [
        ...(step.kind === 'greeting' ? [] : [{ sender: 'me', text: step.kind === 'click' ? `BUTTON:${step.text}` : step.text }]),
        ...(step.expect.botReplies ?? []).map((check) => ({
          sender: 'bot',
          text: check.text,
          not: check.textNot,
          ...(check.buttons ? { BUTTONS: { args: check.buttons.expected, not: check.buttons.not } } : {}),
          ...(check.intent ? { INTENT: { args: [check.intent.expected], not: check.intent.not } } : {}),
        })),
      ]),
    }))
    .sort((a, b) => (a.name < b.name ? -1 : 1));
}

let client: InProcessBotClient;
beforeAll(() => {
  client = new InProcessBotClient(loadContent());
});

describe('Botium text files read as botium-core reads them', () => {
  for (const folder of ['botium', 'botium-parsing']) {
    it(`${folder}/: the same conversations, steps, texts and negations as botium-core compiles`, () => {
      const root = path.join(fixtures, folder);
      const expected = JSON.parse(readFileSync(path.join(fixtures, `${folder}.botium-core.json`), 'utf8')) as { convos: unknown };
      expect(botiumView(new ScriptLoader(root).load([root]))).toEqual(expected.convos);
    });
  }

  it('matches as wildcardIgnoreCase does: contains, ignoring case, * for any text, after normalising whitespace', () => {
    const cases: [string, string, boolean][] = [
      ['你好！我是微信钱包解绑助手。', '你好！*解绑助手', true],
      ['Hello World', 'hello', true],
      ['abc', 'x*', false],
      ['axb', 'a.b', false],
      ['cost (1)', '(1)', true],
      ['line one\nline two', 'one line', true],
      ['  spaced   out ', 'spaced out', true],
      ['', '*', true],
      ['<b>bold</b> text', 'bold text', true],
    ];
    for (const [reply, line, matches] of cases) expect(botiumWildcardMatch(normalizeBotiumText(reply), normalizeBotiumText(line)), `${line} in ${reply}`).toBe(matches);
  });

  it('takes the first line as the name and the lines up to the first block as the description', () => {
    const parsed = parseBotiumConvo('名字\n描述一\n描述二\n#me\n你好\n', 'x.convo.txt');
    expect(parsed).toMatchObject({ name: '名字', description: '描述一\n描述二', blocks: [{ sender: 'me', messageText: '你好', line: 4 }] });
  });
});

describe('running Botium files against the bot', () => {
  it('checks the opening #bot block against the greeting, each #bot against the next reply, partials and utterances included', async () => {
    const root = path.join(fixtures, 'botium');
    const conversations = new ScriptLoader(root).load([root]);
    const results = await runConversations(client, conversations);
    expect(results.filter((result) => !result.passed).map((result) => formatResults([result], client.target))).toEqual([]);
    expect(results.map((result) => result.conversation.name).sort()).toEqual(['第 1 步问记录/ASK_RECORDS-L1', '第 1 步问记录/ASK_RECORDS-L2', '解绑开头：问候、两条回复、按钮']);
  });

  const dir = mkdtempSync(path.join(tmpdir(), 'botium-'));
  const run = async (name: string, text: string) => {
    const file = path.join(dir, name);
    writeFileSync(file, text);
    const [result] = await runConversations(client, new ScriptLoader(dir).load([file]));
    return result!;
  };

  it('fails a greeting that does not match, naming the #bot line', async () => {
    const result = await run('greeting.convo.txt', '问候不对\n#bot\n欢迎光临\n#me\n你好\n');
    expect(result.passed).toBe(false);
    expect(result.failure!.step.kind).toBe('greeting');
    expect(result.failure!.mismatches[0]).toMatchObject({ check: '#bot (greeting.convo.txt:2)', expected: '"欢迎光临"' });
    expect(formatResults([result], client.target)).toContain('the greeting');
  });

  it('fails a negated line the reply matches, and a #bot block with no reply left to read', async () => {
    const negated = await run('negated.convo.txt', '否定\n#me\n我要解绑钱包\n#bot\n!一共 * 步\n');
    expect(negated.failure!.mismatches[0]).toMatchObject({ check: '#bot (negated.convo.txt:4)', expected: 'not "一共 * 步"' });
    const tooMany = await run('too_many.convo.txt', '太多\n#me\n我要解绑钱包\n#bot\n#bot\n#bot\n');
    expect(tooMany.failure!.mismatches).toEqual([{ check: '#bot (too_many.convo.txt:6)', expected: 'a reply', actual: 'no reply 3 (the bot sent 2)' }]);
  });

  it('refuses what it cannot check instead of passing it: optional steps, unknown partials, unsupported asserters', () => {
    const load = (name: string, text: string) => {
      writeFileSync(path.join(dir, name), text);
      return () => new ScriptLoader(dir).load([path.join(dir, name)]);
    };
    expect(load('optional.convo.txt', 'x\n#me\n你好\n#bot\n?可选\n')).toThrow(/optional\.convo\.txt:4: optional \(\?\) steps are not supported/);
    expect(load('include.convo.txt', 'y\n#me\nINCLUDE nowhere\n')).toThrow(/include\.convo\.txt:2: no partial convo "nowhere"/);
    expect(load('media.convo.txt', 'z\n#me\n你好\n#bot\nMEDIA a.png\n')).toThrow(ScriptError);
    expect(load('media.convo.txt', 'z\n#me\n你好\n#bot\nMEDIA a.png\n')).toThrow(/Botium asserter MEDIA is not supported/);
  });
});
