/**
 * npm run nlu:eval -- FILE.jsonl [--json]      score the NLU on labelled lines {"text","intent"}
 * npm run nlu:eval -- --cv 5 [--json]          k-fold cross-validation over the training data
 * --features charNgrams|charNgramsAndWords|words|charTrigrams   compare tokenisations (default charNgrams)
 */
import { parseArgs } from 'node:util';
import { loadContent, isContentError } from '../content/loadContent.js';
import type { FeatureSet } from '../nlu/featureExtractor.js';
import { MessageParser, defaultParserOptions, type ParserOptions, evaluate, kFolds, readLabelledJsonl, JsonlError, type EvaluationReport, type LabelledText } from '../nlu/index.js';

const percent = (value: number) => `${(value * 100).toFixed(1)}%`;

function printReport(title: string, report: EvaluationReport): void {
  console.log(`${title}\n`);
  console.log(`accuracy  ${percent(report.accuracy)}  (${report.correct}/${report.total})`);
  console.log(`macro-F1  ${percent(report.macroF1)}\n`);
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

function crossValidate(k: number): EvaluationReport {
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
    const parser = new MessageParser({ intents, lexicon: content.lexicon, answers: content.answers }, parserOptions);
    for (const example of testFold) predictions.set(example, parser.parse(example.text).intent.name);
  });
  const ordered = folds.flat();
  let next = 0;
  return evaluate(ordered, () => predictions.get(ordered[next++]!)!);
}

function main(): number {
  const { values, positionals } = parseArgs({
    options: { json: { type: 'boolean', default: false }, cv: { type: 'string' }, features: { type: 'string' }, set: { type: 'string', multiple: true } },
    allowPositionals: true,
  });
  if (values.features !== undefined) {
    if (!featureSets.includes(values.features as FeatureSet)) throw new JsonlError(`--features takes one of ${featureSets.join(', ')}`);
    parserOptions = { featureSet: values.features as FeatureSet };
  }
  for (const setting of values.set ?? []) applySetting(setting);
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
  const parser = new MessageParser(content, parserOptions);
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
