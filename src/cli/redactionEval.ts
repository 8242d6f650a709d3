/**
 * npm run redaction:eval [-- FILE.jsonl ...] [--verbose]
 *
 * Recall and false positives of secret redaction on secret-spelling tables (by default
 * test/security/secret_spellings.jsonl and its held-out twin). Each line goes through the parser as
 * a message at its step would, and what the store would keep is checked.
 */
import { parseArgs } from 'node:util';
import { loadContent } from '../content/loadContent.js';
import { MessageParser } from '../nlu/index.js';
import { readSecretSpellings, scoreRedaction } from '../nlu/redactionEvaluation.js';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { verbose: { type: 'boolean', default: false } } });
const files = positionals.length ? positionals : ['test/security/secret_spellings.jsonl', 'test/security/secret_spellings_heldout.jsonl'];
const parser = new MessageParser(loadContent());
const percent = (part: number, whole: number) => (whole ? `${((part / whole) * 100).toFixed(1)}%` : 'n/a');

for (const file of files) {
  const score = scoreRedaction(readSecretSpellings(file), ({ text, atStep }) => {
    const parse = parser.parse(text, atStep ? { atStep } : {});
    return { text: parse.redactedText, found: parse.secrets.length > 0 };
  });
  console.log(`${file} (${score.lines} lines)`);
  console.log(`  recall           ${percent(score.secretsFound, score.secretsTotal)} of secrets (${score.secretsFound}/${score.secretsTotal}); ${percent(score.linesClean, score.linesWithSecrets)} of lines with a secret left clean (${score.linesClean}/${score.linesWithSecrets})`);
  console.log(`  false positives  ${percent(score.falseAlarms, score.linesWithoutSecrets)} of lines without a secret had something redacted (${score.falseAlarms}/${score.linesWithoutSecrets}); ${percent(score.keptLost, score.keptTotal)} of must-keep text lost (${score.keptLost}/${score.keptTotal})`);
  if (values.verbose) {
    for (const { text, left } of score.missed) console.log(`  missed   ${JSON.stringify(text)} kept ${JSON.stringify(left)}`);
    for (const { text, lost } of score.overRedacted) console.log(`  too much ${JSON.stringify(text)} lost ${JSON.stringify(lost)}`);
  }
}
