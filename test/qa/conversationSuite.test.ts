import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadContent } from '../../src/content/loadContent.js';
import { InProcessBotClient } from '../../src/qa/botClients.js';
import { runConversations } from '../../src/qa/conversationRunner.js';
import { ScriptLoader } from '../../src/qa/conversationScript.js';
import { coverage, formatCoverage, formatResults } from '../../src/qa/reports.js';

/** The QA suite in test/conversations runs with every `npm test`, as `npm run converse` would run it. */
describe('the scripted conversation suite (test/conversations)', async () => {
  const root = path.resolve('test/conversations');
  const conversations = new ScriptLoader(root).load([root]);
  const content = loadContent();
  const results = await runConversations(new InProcessBotClient(content), conversations);
  const report = coverage(results, content.intents.map((intent) => intent.name));

  it('passes', () => {
    const failed = results.filter((result) => !result.passed);
    expect(failed.length, formatResults(failed, 'in-process')).toBe(0);
  });

  it('has at least 60 conversations', () => {
    const scripts = new Set(conversations.map((conversation) => conversation.name.replace(/ \(phrasing \d+\/\d+\)$/, '')));
    expect(scripts.size).toBeGreaterThanOrEqual(60);
  });

  it('reaches every flow state and every intent', () => {
    expect(report.states.missing, formatCoverage(report)).toEqual([]);
    expect(report.intents.missing, formatCoverage(report)).toEqual([]);
  });
});
