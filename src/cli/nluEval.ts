/**
 * npm run nlu:eval -- FILE.jsonl [--json]      score the NLU on labelled lines {"text","intent"}
 * npm run nlu:eval -- --cv 5 [--json]          k-fold cross-validation over the training data
 * --features charNgrams|charNgramsAndWords|words|charTrigrams   compare tokenisations (default charNgrams)
 * --model blend|bayes|bayesNearest|softmax                      compare models (default blend)
 * --set option=number                                           change one parser option (e.g. --set fallbackThreshold=0.3)
 * npm run nlu:eval -- --table                                   the README's comparison: features × model on CV and both held-out sets
 */
import { parseArgs } from 'node:util';
import { loadContent, isContentError } from '../content/loadContent.js';
import type { FeatureSet } from '../nlu/featureExtractor.js';
import { MessageParser, defaultParserOptions, type ParserOptions, evaluate, kFolds, readLabelledJsonl, JsonlError, type EvaluationReport, type LabelledText } from '../nlu/index.js';

const percent = (value: number) => `${(value * 100).toFixed(1)}%`;

function printReport(title: string, report: EvaluationReport): void {
  console.log(`${title}\n`);
  console.log(`accuracy  ${percent(report.accuracy)}  (${report.correct}/${report.total})`);
  console.log(`macro-F1  ${percent(report.macroF1)}`);
  for (const intent of ['out_of_scope', 'not_covered']) {
    const scores = report.perIntent[intent];
    if (scores) console.log(`${intent.padEnd(12)}  precision ${percent(scores.precision)}  recall ${percent(scores.recall)}`);
  }
  console.log('');
  console.log(`${'intent'.padEnd(24)} ${'precision'.padStart(9)} ${'recall'.padStart(8)} ${'F1'.padStart(7)} ${'n'.padStart(5)}`);
  for (const [intent, scores] of Object.entries(report.perIntent)) {
    console.log(`${intent.padEnd(24)} ${percent(scores.precision).padStart(9)} ${percent(scores.recall).padStart(8)} ${percent(scores.f1).padStart(7)} ${String(scores.support).padStart(5)}`);
  }
  console.log(report.confusions.length ? '\nconfusions (expected → predicted):' : '\nno confusions');
  for (const { expected, predicted, count, examples } of report.confusions) {
    console.log(`  ${count}× ${expected} → ${predicted}: ${examples.slice(0, 3).join(' | ')}`);
  }
}

const featureSets: FeatureSet[] = ['charNgrams', 'charNgramsAndWords', 'words', 'charTrigrams'];

/** Which models share the confidence (the rest of it is natural's Bayes); thresholds stay the defaults. */
const models = {
  blend: { label: 'Bayes ¼ + softmax ½ + nearest ¼', options: {} },
  bayesNearest: { label: 'Bayes ½ + nearest ½', options: { softmaxWeight: 0, exampleWeight: 0.5 } },
  bayes: { label: 'Bayes alone', options: { softmaxWeight: 0, exampleWeight: 0 } },
  softmax: { label: 'softmax alone', options: { softmaxWeight: 1, exampleWeight: 0 } },
} satisfies Record<string, { label: string; options: Partial<ParserOptions> }>;
type ModelName = keyof typeof models;
let parserOptions: Partial<ParserOptions> = {};

/** `--set softmaxWeight=0.4 --set softmax.l2=0.001`: numeric options for measuring one change. */
function applySetting(setting: string): void {
  const match = /^([a-zA-Z]+)(?:\.([a-zA-Z]+))?=(-?[0-9.e-]+)$/.exec(setting);
  if (!match) throw new JsonlError(`--set takes option=number (or softmax.option=number), not "${setting}"`);
  const [, key, subKey, raw] = match as unknown as [string, string, string | undefined, string];
  const value = Number(raw);
  const options = parserOptions as Record<string, unknown>;
  const defaults = defaultParserOptions as unknown as Record<string, unknown>;
  if (!(key in defaults)) throw new JsonlError(`--set: unknown option ${key}`);
  if (subKey) options[key] = { ...(defaults[key] as object), ...(options[key] as object | undefined), [subKey]: value };
  else options[key] = value;
}

function crossValidate(k: number, options: Partial<ParserOptions> = parserOptions): EvaluationReport {
  const content = loadContent();
  const examples: LabelledText[] = content.intents.flatMap((intent) => intent.examples.map((text) => ({ text, intent: intent.name })));
  const folds = kFolds(examples, k);
  const predictions = new Map<LabelledText, string>();
  folds.forEach((testFold, index) => {
    const training = folds.filter((_, other) => other !== index).flat();
    const intents = content.intents.map((intent) => ({
      name: intent.name,
      examples: training.filter((example) => example.intent === intent.name).map((example) => example.text),
    }));
    const parser = new MessageParser({ intents, lexicon: content.lexicon, answers: content.answers }, options);
    for (const example of testFold) predictions.set(example, parser.parse(example.text).intent.name);
  });
  const ordered = folds.flat();
  let next = 0;
  return evaluate(ordered, () => predictions.get(ordered[next++]!)!);
}

const heldOutFiles = ['test/nlu/heldout.jsonl', 'test/nlu/heldout_users.jsonl'];

/** Median time of one parse, cycling the texts after a warm-up. */
function parseP50Us(parser: MessageParser, texts: readonly string[]): number {
  for (let i = 0; i < 500; i++) parser.parse(texts[i % texts.length]!);
  const times: number[] = [];
  for (let i = 0; i < 2000; i++) {
    const started = performance.now();
    parser.parse(texts[i % texts.length]!);
    times.push(performance.now() - started);
  }
  return times.sort((a, b) => a - b)[times.length >> 1]! * 1000;
}

/** One row per feature set × model: what the README's table shows. Minutes on a small machine. */
function printTable(): void {
  const content = loadContent();
  const [heldOut, users] = heldOutFiles.map((file) => readLabelledJsonl(file)) as [LabelledText[], LabelledText[]];
  const rows: [FeatureSet, ModelName][] = [
    ['charNgrams', 'blend'],
    ['charNgrams', 'bayesNearest'],
    ['charNgrams', 'bayes'],
    ['charNgrams', 'softmax'],
    ['charTrigrams', 'blend'],
    ['charNgramsAndWords', 'blend'],
    ['words', 'blend'],
  ];
  const pr = (report: EvaluationReport, intent: string) => {
    const scores = report.perIntent[intent];
    return scores ? `${percent(scores.precision)} / ${percent(scores.recall)}` : '–';
  };
  console.log('| features | model | 5-fold CV | heldout | heldout_users | out of scope P / R (users) | not_covered P / R (users) | training | parse p50 |');
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const [featureSet, model] of rows) {
    const options: Partial<ParserOptions> = { ...parserOptions, featureSet, ...models[model].options };
    const cv = crossValidate(5, options);
    const started = performance.now();
    // Trained, never read from a build's saved models: the column reports training.
    const parser = new MessageParser(content, options, null);
    const trainedMs = performance.now() - started;
    const [heldOutReport, usersReport] = [heldOut, users].map((cases) => evaluate(cases, (text) => parser.parse(text).intent.name)) as [EvaluationReport, EvaluationReport];
    const p50 = parseP50Us(parser, heldOut.map(({ text }) => text));
    const cells = [featureSet, models[model].label, percent(cv.accuracy), percent(heldOutReport.accuracy), percent(usersReport.accuracy), pr(usersReport, 'out_of_scope'), pr(usersReport, 'not_covered'), `${trainedMs.toFixed(0)} ms`, `${p50.toFixed(0)} µs`];
    console.log(`| ${cells.join(' | ')} |`);
  }
}

function main(): number {
  const { values, positionals } = parseArgs({
    options: { json: { type: 'boolean', default: false }, cv: { type: 'string' }, features: { type: 'string' }, set: { type: 'string', multiple: true }, model: { type: 'string' }, table: { type: 'boolean', default: false } },
    allowPositionals: true,
  });
  if (values.features !== undefined) {
    if (!featureSets.includes(values.features as FeatureSet)) throw new JsonlError(`--features takes one of ${featureSets.join(', ')}`);
    parserOptions = { featureSet: values.features as FeatureSet };
  }
  if (values.model !== undefined) {
    if (!(values.model in models)) throw new JsonlError(`--model takes one of ${Object.keys(models).join(', ')}`);
    parserOptions = { ...parserOptions, ...models[values.model as ModelName].options };
  }
  for (const setting of values.set ?? []) applySetting(setting);
  if (values.table) {
    printTable();
    return 0;
  }
  if (values.cv !== undefined) {
    const k = Number(values.cv);
    if (!Number.isInteger(k) || k < 2) throw new JsonlError('--cv takes a whole number of folds, 2 or more');
    const report = crossValidate(k);
    if (values.json) console.log(JSON.stringify({ folds: k, ...report }));
    else printReport(`${k}-fold cross-validation over intents/nlu`, report);
    return 0;
  }
  const file = positionals[0];
  if (!file) {
    console.error('usage: npm run nlu:eval -- FILE.jsonl [--json]   (lines {"text": "...", "intent": "..."})\n       npm run nlu:eval -- --cv 5 [--json]');
    return 2;
  }
  const cases = readLabelledJsonl(file);
  const content = loadContent();
  const known = new Set(content.intents.map((intent) => intent.name));
  const unknown = [...new Set(cases.map((c) => c.intent).filter((intent) => !known.has(intent)))];
  if (unknown.length) console.error(`warning: ${file} names intents the bot does not know: ${unknown.join(', ')}`);
  const started = performance.now();
  // Trained, never read from a build's saved models: the report says how long training took.
  const parser = new MessageParser(content, parserOptions, null);
  const trainedMs = performance.now() - started;
  const report = evaluate(cases, (text) => parser.parse(text).intent.name);
  if (values.json) console.log(JSON.stringify({ file, trainingMs: Math.round(trainedMs), ...report }));
  else printReport(`${file}  (trained in ${trainedMs.toFixed(0)} ms)`, report);
  return 0;
}

// Piping into `head` closes stdout early; that is not an error worth a stack trace.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error;
});

try {
  process.exitCode = main();
} catch (error) {
  if (error instanceof JsonlError || isContentError(error) || (error as { code?: string }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    console.error(`nlu:eval: ${(error as Error).message}`);
    process.exitCode = 2;
  } else {
    throw error;
  }
}
