import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { faqTopics } from '../../flows/events.js';
import { responsesTheBotSays } from '../../src/content/flowResponses.js';
import { loadContent } from '../../src/content/loadContent.js';
import { lineContaining, loadError, removeResponse, repoRoot, useContentCopies } from '../support/brokenContent.js';

describe('the responses the bot says', () => {
  const content = loadContent();
  const said = responsesTheBotSays({
    intents: content.intents.map((intent) => intent.name),
    verificationMethods: Object.keys(content.lexicon.verificationMethods),
  });
  const keys = said.map((one) => one.key);

  it('are read from every machine, including the ids they build (steps, FAQ answers, method guides, tips)', () => {
    expect(keys).toEqual(expect.arrayContaining(['greet.inFlow', 'handoff.created', 'unbind.askBalance', 'verify.offerHuman']));
    for (let step = 1; step <= 7; step++) expect(keys).toEqual(expect.arrayContaining([`unbind.step${step}`, `unbind.help.step${step}`]));
    for (const topic of faqTopics) expect(keys).toContain(`faq.${topic}`);
    expect(keys).toEqual(expect.arrayContaining(['verify.guide.sms', 'verify.guide.biometric', 'verify.guide.securityQuestion', 'verify.tip.phoneNumber']));
    expect(keys).toEqual(expect.arrayContaining(['goodbye.inFlow.beforeSteps', 'label.out_of_scope', 'secretWarning']));
  });

  it('all exist in the project content', () => {
    expect(keys.filter((key) => !content.responses.has(key))).toEqual([]);
  });
});

describe('a response the bot says but the content lacks', () => {
  const copyContent = useContentCopies();
  const flow = (name: string) => path.join(repoRoot, 'flows', name);

  // Each case: the response removed and its file, the source file and text whose line the error must
  // name, and the file the error suggests adding it back to (by the ids around it).
  it.each([
    { id: 'greet.inFlow', from: 'general.yml', file: flow('conversationMachine.ts'), text: "'greet.inFlow'", home: 'general.yml' },
    { id: 'goodbye.inFlow.beforeSteps', from: 'general.yml', file: flow('conversationMachine.ts'), text: "'goodbye.inFlow'", home: 'general.yml' },
    { id: 'faq.rebind', from: 'faq.yml', file: flow('conversationMachine.ts'), text: 'faq.${topic}', home: 'faq.yml' },
    { id: 'label.rebind', from: 'general.yml', file: flow('conversationMachine.ts'), text: "'clarify'", home: 'general.yml' },
    { id: 'unbind.help.step4', from: 'unbind.yml', file: flow('unbindWalletMachine.ts'), text: 'unbind.help.step${number}', home: 'unbind.yml' },
    { id: 'unbind.confirmFailed', from: 'unbind.yml', file: flow('unbindWalletMachine.ts'), text: "'unbind.confirmFailed'", home: 'unbind.yml' },
    { id: 'verify.guide.biometric', from: 'verification.yml', file: flow('verificationMachine.ts'), text: 'verify.guide.${', home: 'verification.yml' },
    { id: 'verify.tip.phoneNumber', from: 'verification.yml', file: flow('verificationMachine.ts'), text: "'verify.tip.phoneNumber'", home: 'verification.yml' },
    // A one-word id shares no prefix with any other, so no particular file is suggested.
    { id: 'secretWarning', from: 'general.yml', file: path.join(repoRoot, 'src', 'dialogue', 'dialogueEngine.ts'), text: "'secretWarning'", home: undefined },
  ])('stops start-up when $id is missing, naming the line that says it', ({ id, from, file, text, home }) => {
    const dir = copyContent();
    removeResponse(path.join(dir, 'responses', from), id);
    const error = loadError(dir);
    const line = lineContaining(file, text);
    expect(error.file).toBe(path.relative(repoRoot, file));
    expect(error.line).toBe(line);
    expect(error.message).toContain(`${path.relative(repoRoot, file)}:${line}: `);
    expect(error.message).toContain(`"${id}"`);
    expect(error.message).toContain(`add it to ${home ? path.join('intents', 'responses', home) : `a file in ${path.join('intents', 'responses')}`}`);
  });
});
