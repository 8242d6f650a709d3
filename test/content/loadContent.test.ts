import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { contractIntents, loadContent, type Content } from '../../src/content/loadContent.js';
import { append, lineContaining, loadError, useContentCopies } from '../support/brokenContent.js';

const domainIntents = [
  'unbind_wallet', 'verification_help', 'records_after_unbind', 'balance_before_unbind', 'bind_multiple',
  'bind_wallet', 'rebind', 'pay_after_unbind', 'why_unbind', 'wallet_wechat_relation', 'contact_human', 'out_of_scope',
];

describe('the project content', () => {
  let content: Content;
  beforeAll(() => {
    content = loadContent();
  });

  it('has every contract intent', () => {
    const names = content.intents.map((intent) => intent.name);
    for (const name of contractIntents) expect(names).toContain(name);
  });

  it.each(domainIntents)('has at least 30 examples for %s', (name) => {
    const intent = content.intents.find((candidate) => candidate.name === name);
    expect(intent?.examples.length ?? 0).toBeGreaterThanOrEqual(30);
  });

  it('says something in every response', () => {
    expect(content.responses.size).toBeGreaterThan(0);
    for (const [id, response] of content.responses) expect(response.text.trim(), id).not.toBe('');
  });

  it('has quick replies that each name a known intent and carry valid JSON', () => {
    const names = new Set(content.intents.map((intent) => intent.name));
    let count = 0;
    for (const [id, response] of content.responses) {
      for (const { title, payload } of response.quickReplies ?? []) {
        count++;
        expect(title.trim(), `${id}: ${payload}`).not.toBe('');
        const [, intent, json] = /^\/([a-z_]+)(\{.*\})?$/.exec(payload) ?? [];
        expect(names.has(intent ?? ''), `${id}: ${payload}`).toBe(true);
        if (json) expect(() => JSON.parse(json), `${id}: ${payload}`).not.toThrow();
      }
    }
    expect(count).toBeGreaterThan(0);
  });
});

describe('a broken content directory', () => {
  /** A private copy of intents/ to break; loadContent names files relative to its parent, as intents/…. */
  const copyContent = useContentCopies();
  /** Inserts a line as the first item of a file's `examples:` list; returns its 1-based line number. */
  const insertExample = (file: string, example: string): number => {
    const lines = fs.readFileSync(file, 'utf8').split('\n');
    const at = lines.findIndex((line) => /^examples:\s*$/.test(line));
    expect(at, `${file} has an examples: block`).toBeGreaterThanOrEqual(0);
    lines.splice(at + 1, 0, `  - ${JSON.stringify(example)}`);
    fs.writeFileSync(file, lines.join('\n'));
    return at + 2;
  };

  it('is accepted when nothing is broken', () => {
    expect(() => loadContent(copyContent())).not.toThrow();
  });

  it('reports a YAML syntax error with the file and line', () => {
    const dir = copyContent();
    fs.writeFileSync(path.join(dir, 'nlu', 'greet.yml'), 'name: greet\nexamples:\n  - 你好\n\t- 嗨\n');
    const error = loadError(dir);
    expect(error.message).toContain(`${path.join('intents', 'nlu', 'greet.yml')}:4`);
    expect(error.file).toBe(path.join('intents', 'nlu', 'greet.yml'));
    expect(error.line).toBe(4);
  });

  it('reports an example written under two intents, naming the file and line of the second', () => {
    const dir = copyContent();
    const example = loadContent(dir).intents.find((intent) => intent.name === 'unbind_wallet')!.examples[0]!;
    // why_unbind.yml is read after unbind_wallet.yml, so it holds the duplicate.
    const line = insertExample(path.join(dir, 'nlu', 'why_unbind.yml'), example);
    const error = loadError(dir);
    expect(error.message).toContain(`${path.join('intents', 'nlu', 'why_unbind.yml')}:${line}`);
    expect(error.message).toContain(example);
    expect(error.message).toContain('unbind_wallet.yml');
  });

  it('reports an unknown key in an intent file', () => {
    const dir = copyContent();
    append(path.join(dir, 'nlu', 'greet.yml'), 'synonyms: [嗨嗨]\n');
    const error = loadError(dir);
    expect(error.message).toContain(path.join('intents', 'nlu', 'greet.yml'));
    expect(error.message).toContain('synonyms');
  });

  it('reports a quick reply that names an unknown intent, with the file and line', () => {
    const dir = copyContent();
    const file = path.join(dir, 'responses', 'general.yml');
    append(file, 'test.unknownIntent:\n  text: 测试\n  quickReplies:\n    - { title: 去看看, payload: /no_such_intent }\n');
    const payloadLine = lineContaining(file, '/no_such_intent');
    const error = loadError(dir);
    expect(error.message).toContain(`${path.join('intents', 'responses', 'general.yml')}:${payloadLine}`);
    expect(error.message).toContain('no_such_intent');
  });

  // Responses that name an intent in their id: an FAQ answer, a choice label, a dashboard label.
  it.each([
    { file: 'faq.yml', id: 'faq.no_such_topic', says: 'unknown intent "no_such_topic"' },
    { file: 'general.yml', id: 'label.no_such_intent', says: 'unknown intent "no_such_intent"' },
    { file: 'ui.yml', id: 'ui.admin.intent.no_such_intent', says: 'unknown intent "no_such_intent"' },
    // An intent the flows never route to faq.<topic>: its answer would never be said.
    { file: 'faq.yml', id: 'faq.greet', says: 'not an FAQ topic' },
  ])('reports $id, naming the file and the line of the id', ({ file, id, says }) => {
    const dir = copyContent();
    const responseFile = path.join(dir, 'responses', file);
    append(responseFile, `${id}:\n  text: 测试\n`);
    const idLine = fs.readFileSync(responseFile, 'utf8').split('\n').indexOf(`${id}:`) + 1;
    const error = loadError(dir);
    expect(error.message).toContain(`${path.join('intents', 'responses', file)}:${idLine}: `);
    expect(error.message).toContain(`"${id}"`);
    expect(error.message).toContain(says);
  });

  it.each([
    { payload: `'/verification_help{"method":"pigeon"}'`, says: 'unknown verification method "pigeon"' },
    { payload: `'/verification_help{method:sms}'`, says: 'invalid JSON' },
  ])('reports a quick reply payload $payload the bot could not act on', ({ payload, says }) => {
    const dir = copyContent();
    const file = path.join(dir, 'responses', 'verification.yml');
    append(file, `test.badPayload:\n  text: 测试\n  quickReplies:\n    - { title: 试试, payload: ${payload} }\n`);
    const payloadLine = lineContaining(file, payload);
    const error = loadError(dir);
    expect(error.message).toContain(`${path.join('intents', 'responses', 'verification.yml')}:${payloadLine}: `);
    expect(error.message).toContain(says);
  });

  it('marks the secret warning as a warning, and refuses a tone it does not know, with the file', () => {
    expect(loadContent().responses.get('secretWarning')?.tone).toBe('warning');
    const dir = copyContent();
    const file = path.join(dir, 'responses', 'general.yml');
    append(file, 'test.loud:\n  text: 测试\n  tone: shouting\n');
    const error = loadError(dir);
    expect(error.message).toContain(path.join('intents', 'responses', 'general.yml'));
    expect(error.message).toContain('tone');
  });

  it('reports a missing content file', () => {
    const dir = copyContent();
    fs.rmSync(path.join(dir, 'lexicon.yml'));
    expect(loadError(dir).message).toBe(`${path.join('intents', 'lexicon.yml')}: file is missing`);
  });

  it('reports a missing contract intent', () => {
    const dir = copyContent();
    fs.rmSync(path.join(dir, 'nlu', 'rebind.yml'));
    const error = loadError(dir);
    expect(error.message).toContain('"rebind"');
    expect(error.message).toContain('contract');
  });

  it('reports an intent living in a file of another name', () => {
    const dir = copyContent();
    fs.renameSync(path.join(dir, 'nlu', 'thanks.yml'), path.join(dir, 'nlu', 'thank_you.yml'));
    const error = loadError(dir);
    expect(error.message).toContain('thank_you.yml');
    expect(error.message).toContain('thanks.yml');
  });
});
