/**
 * npm run converse -- [files or folders…] [--url http://host:port] [--junit FILE] [--json] [--coverage] [--concurrency N]
 * Runs scripted QA conversations (test/conversations by default) in-process or against a server.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { isContentError, loadContent } from '../content/loadContent.js';
import { InProcessBotClient, RestBotClient, type BotClient } from '../qa/botClients.js';
import { runConversations } from '../qa/conversationRunner.js';
import { ScriptError, ScriptLoader } from '../qa/conversationScript.js';
import { coverage, formatCoverage, formatResults, jsonReport, junitXml } from '../qa/reports.js';

const usage = `usage: npm run converse -- [files or folders…] [options]
  (default folder: test/conversations)
  --url URL          run against a server's REST API instead of in-process
  --junit FILE       also write JUnit XML for CI
  --json             print results as JSON instead of text
  --coverage         report intents, flow states and transitions reached and never reached
  --concurrency N    conversations run side by side (default 8)`;

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    options: {
      url: { type: 'string' },
      junit: { type: 'string' },
      json: { type: 'boolean', default: false },
      coverage: { type: 'boolean', default: false },
      concurrency: { type: 'string', default: '8' },
      help: { type: 'boolean', default: false },
    },
    allowPositionals: true,
  });
  if (values.help) {
    console.log(usage);
    return 0;
  }
  const concurrency = Number(values.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new ScriptError('--concurrency takes a whole number, 1 or more');
  const targets = positionals.length ? positionals : ['test/conversations'];
  // Fragments are looked up under the scripts' root: the folder given, or test/conversations.
  const root = path.resolve(targets.length === 1 && !targets[0]!.endsWith('.yml') && !targets[0]!.endsWith('.txt') ? targets[0]! : 'test/conversations');
  const conversations = new ScriptLoader(root).load(targets);
  const content = loadContent();
  const client: BotClient = values.url ? new RestBotClient(values.url) : new InProcessBotClient(content);
  const results = await runConversations(client, conversations, concurrency);
  const coverageReport = values.coverage ? coverage(results, content.intents.map((intent) => intent.name)) : undefined;
  if (values.junit) writeFileSync(values.junit, junitXml(results));
  if (values.json) console.log(JSON.stringify(jsonReport(results, client.target, coverageReport), null, 2));
  else {
    console.log(formatResults(results, client.target));
    if (coverageReport) console.log(`\n${formatCoverage(coverageReport)}`);
  }
  return results.every((result) => result.passed) ? 0 : 1;
}

try {
  process.exitCode = await main();
} catch (error) {
  if (error instanceof ScriptError || isContentError(error) || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
    console.error(`converse: ${(error as Error).message}\n\n${usage}`);
    process.exitCode = 2;
  } else {
    throw error;
  }
}
