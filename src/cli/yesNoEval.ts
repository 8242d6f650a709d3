import { readFileSync } from 'node:fs';
import { loadContent } from '../content/loadContent.js';
import type { YesNoKind } from '../content/schemas.js';
import { MessageParser } from '../nlu/index.js';

/**
 * npm run nlu:yesno -- test/nlu/yesno_heldout.jsonl [--json]
 * How answers to the bot's yes/no questions are read, with the open question steering the reading
 * (as the engine does) and without it (the classifier alone, as before questions were data).
 * Lines: {"question": "balance|found|passed|unbound|offer_human|offer_walkthrough", "text", "answer": "yes|no|other"}.
 */

const kindOfQuestion: Record<string, YesNoKind> = {
  balance: 'balance',
  found: 'done',
  passed: 'passed',
  unbound: 'unbound',
  offer_human: 'offer',
  offer_walkthrough: 'offer',
};
/** The controls a flow makes likelier, as the engine does inside one. */
const flowControls = ['affirm', 'deny', 'go_back', 'repeat', 'cancel', 'step_help', 'restart', 'verification_help'];
type Answer = 'yes' | 'no' | 'other';

interface Line {
  question: string;
  text: string;
  answer: Answer;
}

function readLines(file: string): Line[] {
  return readFileSync(file, 'utf8')
    .split(/\r?\n/)
    .filter((line) => line.trim())
    .map((line, index) => {
      const value = JSON.parse(line) as Partial<Line>;
      if (!value.question || !(value.question in kindOfQuestion) || !value.text || !['yes', 'no', 'other'].includes(value.answer ?? '')) {
        throw new Error(`${file}:${index + 1}: needs "question" (${Object.keys(kindOfQuestion).join(', ')}), "text" and "answer" (yes, no or other)`);
      }
      return value as Line;
    });
}

const args = process.argv.slice(2);
const file = args.find((arg) => !arg.startsWith('--'));
if (!file) {
  console.error('usage: npm run nlu:yesno -- FILE.jsonl [--json]');
  process.exit(2);
}
const lines = readLines(file);
const parser = new MessageParser(loadContent());
/**
 * What the state that asked does with the intent: at a step "找不到" (step help) is that step's
 * help, as a no is; while verifying a problem report is a failure; to the offer of a human, asking
 * for one is a yes.
 */
const sameAs: Partial<Record<YesNoKind, Record<string, Answer>>> = {
  done: { step_help: 'no' },
  passed: { verification_help: 'no' },
};
const asAnswer = (intent: string, line: Line): Answer => {
  if (intent === 'affirm') return 'yes';
  if (intent === 'deny') return 'no';
  // Only a yes or a no counts another intent as itself; an "other" line read as step help is not read as a no.
  const same = line.question === 'offer_human' && intent === 'contact_human' ? 'yes' : sameAs[kindOfQuestion[line.question]!]?.[intent];
  return same !== undefined && same === line.answer ? same : 'other';
};

function score(steered: boolean) {
  const byAnswer = new Map<Answer, { right: number; total: number }>();
  const byQuestion = new Map<string, { right: number; total: number }>();
  const wrong: { question: string; text: string; expected: Answer; got: Answer }[] = [];
  for (const line of lines) {
    const kind = kindOfQuestion[line.question]!;
    const inFlow = kind !== 'offer';
    const parse = parser.parse(line.text, {
      ...(inFlow ? { expectedIntents: flowControls } : {}),
      ...(steered ? { expects: { yesNo: kind } } : {}),
    });
    const got = asAnswer(parse.intent.name, line);
    for (const [map, key] of [[byAnswer, line.answer], [byQuestion, line.question]] as const) {
      const entry = (map as Map<string, { right: number; total: number }>).get(key) ?? { right: 0, total: 0 };
      entry.total++;
      if (got === line.answer) entry.right++;
      (map as Map<string, { right: number; total: number }>).set(key, entry);
    }
    if (got !== line.answer) wrong.push({ question: line.question, text: line.text, expected: line.answer, got });
  }
  const right = lines.length - wrong.length;
  return { accuracy: right / lines.length, right, total: lines.length, byAnswer: Object.fromEntries(byAnswer), byQuestion: Object.fromEntries(byQuestion), wrong };
}

const steered = score(true);
const classifierOnly = score(false);
if (args.includes('--json')) {
  console.log(JSON.stringify({ file, steered, classifierOnly }, null, 2));
} else {
  const pct = (value: number) => `${(value * 100).toFixed(1)}%`;
  const table = (title: string, result: ReturnType<typeof score>) => {
    console.log(`\n${title}: accuracy ${pct(result.accuracy)} (${result.right}/${result.total})`);
    for (const [name, entry] of [...Object.entries(result.byAnswer), ...Object.entries(result.byQuestion)]) {
      console.log(`  ${name.padEnd(18)} ${pct(entry.right / entry.total).padStart(7)}  (${entry.right}/${entry.total})`);
    }
  };
  console.log(`${file}: ${lines.length} answers to the bot's yes/no questions`);
  table('with the open question (the yes/no reader, as the engine runs)', steered);
  table('classifier alone (no open question)', classifierOnly);
  if (steered.wrong.length) {
    console.log('\nread wrong with the open question:');
    for (const miss of steered.wrong) console.log(`  [${miss.question}] ${miss.text}  expected ${miss.expected}, got ${miss.got}`);
  }
}
