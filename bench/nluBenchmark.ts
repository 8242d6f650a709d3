/**
 * npm run bench:nlu              side-by-side table
 * npm run -s bench:nlu -- --json the same numbers as one JSON object (for RESULTS.md); -s keeps npm's banner out
 *
 * Trains three intent classifiers on exactly the same examples (intents/nlu) and scores them on the
 * held-out sentences (test/nlu/heldout.jsonl), in one run on one machine:
 *   - this project's MessageParser (src/nlu),
 *   - nlp.js (Nlp + LangZh), the usual off-the-shelf choice for a Node bot,
 *   - natural's BayesClassifier on raw character bigrams: the naive baseline.
 * The JSON is also written to bench/out/nlu.json.
 */
import os from 'node:os';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Nlp } from '@nlpjs/nlp';
import { LangZh } from '@nlpjs/lang-zh';
import BayesClassifier from 'natural/lib/natural/classifiers/bayes_classifier.js';
import { loadContent, type Content } from '../src/content/loadContent.js';
import { MessageParser, evaluate, kFolds, readLabelledJsonl, type EvaluationReport, type LabelledText } from '../src/nlu/index.js';

const heldOutFile = 'test/nlu/heldout.jsonl';
const outDir = fileURLToPath(new URL('./out/', import.meta.url));
const outOfScope = 'out_of_scope';
const folds = 5;
const minLatencyCalls = 2000;
const warmUpCalls = 500;
/** nlp.js cross-validation is only run if it fits in this budget (it retrains a neural network per fold). */
const nlpjsCvBudgetMs = 120_000;

const require = createRequire(import.meta.url);
const gc = (globalThis as { gc?: () => void }).gc;

type Predict = (text: string) => string | Promise<string>;
type TrainingData = Pick<Content, 'intents' | 'lexicon' | 'answers'>;

interface Engine {
  key: 'messageParser' | 'nlpjs' | 'naturalBayes';
  column: string;
  name: string;
  /** Work done once per process, whatever is trained (kept out of the training figures). */
  setUp?(): void;
  /** Trains on `data.intents` (the same examples for every engine) and returns the predictor. */
  train(data: TrainingData): Promise<Predict>;
}

interface Latency {
  p50: number;
  p99: number;
  calls: number;
}

type CrossValidation =
  | { ran: true; accuracy: number; macroF1: number; correct: number; total: number; ms: number }
  | { ran: false; overBudget: boolean; reason: string };

interface EngineResult {
  key: Engine['key'];
  name: string;
  accuracy: number;
  correct: number;
  total: number;
  macroF1: number;
  outOfScope: { precision: number; recall: number };
  worstConfusions: { expected: string; predicted: string; count: number }[];
  trainingMs: number;
  heapDeltaMB: number;
  /** The brief's measure: calls cycling the held-out texts after a warm-up. */
  latencyUs: Latency;
  /** Each held-out text's first classification (after warming up on training texts): no result caches help. */
  firstSightLatencyUs: Latency;
  setUp?: { ms: number; heapDeltaMB: number; what: string };
  crossValidation: CrossValidation;
}

// ---------------------------------------------------------------------------------------------
// The three engines

const messageParserEngine: Engine = {
  key: 'messageParser',
  column: 'this project',
  name: 'this project: MessageParser (src/nlu)',
  async train(data) {
    // Trained here, never read from a build's saved models: the row reports training.
    const parser = new MessageParser(data, {}, null);
    return (text) => parser.parse(text).intent.name;
  },
};

/** Swallows nlp.js's log lines: the benchmark prints only its own report. */
const silentLogger = { debug() {}, info() {}, warn() {}, error() {}, log() {}, trace() {}, fatal() {} };

const nlpjsEngine: Engine = {
  key: 'nlpjs',
  column: 'nlp.js',
  name: `nlp.js ${packageVersion('@nlpjs/nlp')}: Nlp + LangZh ${packageVersion('@nlpjs/lang-zh')}`,
  setUp() {
    // lang-zh compiles the CC-CEDICT dictionary into one shared segmenter on first use and says so
    // with console.log, not its logger. Doing it here keeps it out of the first training's figures.
    const dictionary = require('@nlpjs/lang-zh/src/dictionary') as { start(): void };
    const log = console.log;
    console.log = () => {};
    try {
      dictionary.start();
    } finally {
      console.log = log;
    }
  },
  async train(data) {
    const nlp = new Nlp({ languages: ['zh'], autoSave: false, nlu: { log: false }, log: false });
    nlp.container.register('logger', silentLogger);
    nlp.use(LangZh);
    for (const intent of data.intents) for (const example of intent.examples) nlp.addDocument('zh', example, intent.name);
    await nlp.train();
    return async (text) => {
      const { intent } = await nlp.process('zh', text);
      // nlp.js answers 'None' when no intent clears its threshold: that is its out-of-scope.
      return intent === undefined || intent === 'None' ? outOfScope : intent;
    };
  },
};

/** Consecutive character pairs of the text as typed; a one-character message is its own token, or it would have none. */
function charBigrams(text: string): string[] {
  const chars = [...text];
  if (chars.length < 2) return chars;
  return chars.slice(1).map((char, index) => chars[index] + char);
}

// types/vendor.d.ts declares only what src/ uses; classify() is natural's public API all the same.
type ClassifyingBayes = BayesClassifier & { classify(observation: string[]): string };

const naturalEngine: Engine = {
  key: 'naturalBayes',
  column: 'natural Bayes',
  name: `natural ${packageVersion('natural')}: BayesClassifier on raw character bigrams (the naive baseline)`,
  async train(data) {
    const classifier = new BayesClassifier() as ClassifyingBayes;
    for (const intent of data.intents) for (const example of intent.examples) classifier.addDocument(charBigrams(example), intent.name);
    classifier.train();
    return (text) => classifier.classify(charBigrams(text));
  },
};

const engines = [messageParserEngine, nlpjsEngine, naturalEngine];

// ---------------------------------------------------------------------------------------------
// Measuring

function packageVersion(name: string): string {
  return (require(`${name}/package.json`) as { version: string }).version;
}

const heapUsedMB = () => {
  gc?.();
  return process.memoryUsage().heapUsed / 2 ** 20;
};

/** Nearest-rank percentile of ascending values. */
function percentile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

function latency(micros: number[]): Latency {
  micros.sort((a, b) => a - b);
  return { p50: percentile(micros, 0.5), p99: percentile(micros, 0.99), calls: micros.length };
}

async function timed(predict: Predict, text: string, micros: number[]): Promise<string> {
  const started = process.hrtime.bigint();
  const predicted = await predict(text);
  micros.push(Number(process.hrtime.bigint() - started) / 1000);
  return predicted;
}

async function benchmark(engine: Engine, content: Content, cases: readonly LabelledText[]): Promise<Omit<EngineResult, 'crossValidation'>> {
  let setUp: EngineResult['setUp'];
  if (engine.setUp) {
    const heapBefore = heapUsedMB();
    const started = performance.now();
    engine.setUp();
    setUp = { ms: performance.now() - started, heapDeltaMB: heapUsedMB() - heapBefore, what: 'lang-zh compiles CC-CEDICT once per process' };
  }

  const heapBefore = heapUsedMB();
  const started = performance.now();
  const predict = await engine.train(content);
  const trainingMs = performance.now() - started;
  const heapDeltaMB = heapUsedMB() - heapBefore;

  // Warm up on training sentences, so the held-out ones are still new to any cache when first scored.
  const trainingTexts = content.intents.flatMap((intent) => intent.examples);
  for (let i = 0; i < warmUpCalls; i++) await predict(trainingTexts[i % trainingTexts.length]!);

  const firstSight: number[] = [];
  const predictions = new Map<string, string>();
  for (const { text } of cases) if (!predictions.has(text)) predictions.set(text, await timed(predict, text, firstSight));
  const report: EvaluationReport = evaluate(cases, (text) => predictions.get(text)!);

  // Whole cycles, so every held-out text is timed equally often.
  const texts = [...predictions.keys()];
  const cycling: number[] = [];
  const calls = Math.ceil(minLatencyCalls / texts.length) * texts.length;
  for (let i = 0; i < calls; i++) await timed(predict, texts[i % texts.length]!, cycling);

  const oos = report.perIntent[outOfScope];
  return {
    key: engine.key,
    name: engine.name,
    accuracy: report.accuracy,
    correct: report.correct,
    total: report.total,
    macroF1: report.macroF1,
    outOfScope: { precision: oos?.precision ?? 0, recall: oos?.recall ?? 0 },
    worstConfusions: report.confusions.slice(0, 5).map(({ expected, predicted, count }) => ({ expected, predicted, count })),
    trainingMs,
    heapDeltaMB,
    latencyUs: latency(cycling),
    firstSightLatencyUs: latency(firstSight),
    ...(setUp ? { setUp } : {}),
  };
}

/**
 * k-fold cross-validation over the training examples, as `npm run nlu:eval -- --cv 5` does: each
 * fold is predicted by a model trained on the other folds. Gives up once `budgetMs` is spent.
 */
async function crossValidate(engine: Engine, content: Content, budgetMs = Infinity): Promise<CrossValidation> {
  const started = performance.now();
  const examples: LabelledText[] = content.intents.flatMap((intent) => intent.examples.map((text) => ({ text, intent: intent.name })));
  const split = kFolds(examples, folds);
  const predictions = new Map<LabelledText, string>();
  for (const [index, testFold] of split.entries()) {
    const training = split.filter((_, other) => other !== index).flat();
    const intents = content.intents.map((intent) => ({
      name: intent.name,
      examples: training.filter((example) => example.intent === intent.name).map((example) => example.text),
    }));
    const predict = await engine.train({ intents, lexicon: content.lexicon, answers: content.answers });
    for (const example of testFold) predictions.set(example, await predict(example.text));
    const elapsed = performance.now() - started;
    if (elapsed > budgetMs && index < folds - 1) {
      return { ran: false, overBudget: true, reason: `stopped after fold ${index + 1} of ${folds}: ${seconds(elapsed)} spent, over the ${seconds(budgetMs)} budget` };
    }
  }
  const ordered = split.flat();
  let next = 0;
  const report = evaluate(ordered, () => predictions.get(ordered[next++]!)!);
  return { ran: true, accuracy: report.accuracy, macroF1: report.macroF1, correct: report.correct, total: report.total, ms: performance.now() - started };
}

async function crossValidation(engine: Engine, content: Content, result: Omit<EngineResult, 'crossValidation'>): Promise<CrossValidation> {
  switch (engine.key) {
    case 'messageParser':
      return crossValidate(engine, content);
    case 'nlpjs': {
      // Five trainings on 4/5 of the data, then one first-sight process() per example.
      const examples = content.intents.reduce((n, intent) => n + intent.examples.length, 0);
      const estimateMs = (folds - 1) * result.trainingMs + (examples * result.firstSightLatencyUs.p99) / 1000;
      if (estimateMs > nlpjsCvBudgetMs) {
        return { ran: false, overBudget: true, reason: `estimated ${seconds(estimateMs)} from its training time and latency, over the ${seconds(nlpjsCvBudgetMs)} budget` };
      }
      return crossValidate(engine, content, nlpjsCvBudgetMs);
    }
    case 'naturalBayes':
      return { ran: false, overBudget: false, reason: 'the naive baseline is compared on held-out data only' };
  }
}

// ---------------------------------------------------------------------------------------------
// Reporting

const percent = (value: number) => `${(value * 100).toFixed(1)}%`;
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const round = (value: number, digits: number) => Number(value.toFixed(digits));

function rounded(result: EngineResult): EngineResult {
  const ms = (latency: Latency): Latency => ({ p50: round(latency.p50, 1), p99: round(latency.p99, 1), calls: latency.calls });
  const { crossValidation: cv, setUp } = result;
  return {
    ...result,
    accuracy: round(result.accuracy, 4),
    macroF1: round(result.macroF1, 4),
    outOfScope: { precision: round(result.outOfScope.precision, 4), recall: round(result.outOfScope.recall, 4) },
    trainingMs: round(result.trainingMs, 0),
    heapDeltaMB: round(result.heapDeltaMB, 1),
    latencyUs: ms(result.latencyUs),
    firstSightLatencyUs: ms(result.firstSightLatencyUs),
    ...(setUp ? { setUp: { ...setUp, ms: round(setUp.ms, 0), heapDeltaMB: round(setUp.heapDeltaMB, 1) } } : {}),
    crossValidation: cv.ran ? { ...cv, accuracy: round(cv.accuracy, 4), macroF1: round(cv.macroF1, 4), ms: round(cv.ms, 0) } : cv,
  };
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  return rows
    .map((row) => row.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join('   '))
    .join('\n');
}

interface BenchmarkOutput {
  command: string;
  generatedAt: string;
  machine: { cores: number; cpu: string; node: string; platform: string; memoryGB: number };
  data: { trainingExamples: number; intents: number; heldOutFile: string; heldOutSentences: number };
  method: { warmUpCalls: number; heapMeasuredAfterGc: boolean; crossValidationFolds: number; nlpjsCrossValidationBudgetMs: number };
  engines: EngineResult[];
  totalMs: number;
}

function printText(output: BenchmarkOutput): void {
  const { machine, data, method, engines: results } = output;
  const column = (result: EngineResult) => engines.find((engine) => engine.key === result.key)!.column;
  console.log(`machine   ${machine.cores} cores, ${machine.cpu}, Node ${machine.node}, ${machine.platform}, ${machine.memoryGB} GB`);
  console.log(`data      ${data.trainingExamples} training examples in ${data.intents} intents (intents/nlu), ${data.heldOutSentences} held-out sentences (${data.heldOutFile})`);
  console.log(`command   ${output.command}\n`);
  const cv = ({ crossValidation }: EngineResult) => (crossValidation.ran ? percent(crossValidation.accuracy) : crossValidation.overBudget ? 'skipped' : 'not run');
  const cvTime = ({ crossValidation }: EngineResult) => (crossValidation.ran ? (crossValidation.ms / 1000).toFixed(1) : '–');
  console.log(
    table([
      ['', ...results.map(column)],
      ['held-out accuracy', ...results.map((r) => `${percent(r.accuracy)} (${r.correct}/${r.total})`)],
      ['macro-F1', ...results.map((r) => percent(r.macroF1))],
      ['out-of-scope precision', ...results.map((r) => percent(r.outOfScope.precision))],
      ['out-of-scope recall', ...results.map((r) => percent(r.outOfScope.recall))],
      ['training (ms)', ...results.map((r) => r.trainingMs.toFixed(0))],
      [`heap after training (MB${method.heapMeasuredAfterGc ? '' : ', no gc'})`, ...results.map((r) => r.heapDeltaMB.toFixed(1))],
      [`classify p50 (µs, ${results[0]!.latencyUs.calls} calls)`, ...results.map((r) => r.latencyUs.p50.toFixed(0))],
      [`classify p99 (µs, ${results[0]!.latencyUs.calls} calls)`, ...results.map((r) => r.latencyUs.p99.toFixed(0))],
      [`first-sight p50 (µs, ${results[0]!.firstSightLatencyUs.calls} calls)`, ...results.map((r) => r.firstSightLatencyUs.p50.toFixed(0))],
      [`first-sight p99 (µs, ${results[0]!.firstSightLatencyUs.calls} calls)`, ...results.map((r) => r.firstSightLatencyUs.p99.toFixed(0))],
      [`${method.crossValidationFolds}-fold CV accuracy`, ...results.map(cv)],
      [`${method.crossValidationFolds}-fold CV time (s)`, ...results.map(cvTime)],
    ]),
  );
  console.log('\nworst confusions (expected → predicted, count)');
  for (const result of results) {
    console.log(`  ${column(result)}`);
    if (result.worstConfusions.length === 0) console.log('    none');
    for (const { expected, predicted, count } of result.worstConfusions) console.log(`    ${String(count).padStart(3)}×  ${expected} → ${predicted}`);
  }
  console.log('\nengines');
  for (const result of results) console.log(`  ${column(result).padEnd(14)} ${result.name}`);
  console.log('\nnotes');
  console.log(`  classify: single calls cycling the held-out texts after ${method.warmUpCalls} warm-up calls on training texts; nlp.js times its async process(),`);
  console.log('            which caches each text it has prepared, so repeats are cheap for it. first-sight: each held-out text classified once, before the cycling.');
  console.log(`  heap: heapUsed after training minus before${method.heapMeasuredAfterGc ? ', both after global.gc()' : ' (no global.gc: run with NODE_OPTIONS=--expose-gc)'}.`);
  for (const result of results) {
    if (result.setUp) console.log(`  ${column(result)} set-up, not in training: ${result.setUp.what}, ${result.setUp.ms} ms, ${result.setUp.heapDeltaMB} MB heap.`);
  }
  console.log(`  CV: ${method.crossValidationFolds} folds as in npm run nlu:eval -- --cv ${method.crossValidationFolds}, a model trained per fold.`);
  for (const result of results) if (!result.crossValidation.ran) console.log(`  ${column(result)} CV ${result.crossValidation.overBudget ? 'skipped' : 'not run'}: ${result.crossValidation.reason}.`);
  console.log(`  whole run ${seconds(output.totalMs)}; the same numbers as JSON in bench/out/nlu.json (or with --json).`);
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { json: { type: 'boolean', default: false } } });
  const started = performance.now();
  const content = loadContent();
  const cases = readLabelledJsonl(fileURLToPath(new URL(`../${heldOutFile}`, import.meta.url)));

  const results: EngineResult[] = [];
  for (const engine of engines) {
    const result = await benchmark(engine, content, cases);
    results.push(rounded({ ...result, crossValidation: await crossValidation(engine, content, result) }));
  }

  const cpus = os.cpus();
  const output: BenchmarkOutput = {
    command: `npm run bench:nlu${values.json ? ' -- --json' : ''}`,
    generatedAt: new Date().toISOString(),
    machine: {
      cores: cpus.length,
      cpu: cpus[0]?.model.trim() || 'unknown',
      node: process.version,
      platform: `${process.platform} ${process.arch}`,
      memoryGB: round(os.totalmem() / 2 ** 30, 1),
    },
    data: {
      trainingExamples: content.intents.reduce((n, intent) => n + intent.examples.length, 0),
      intents: content.intents.length,
      heldOutFile,
      heldOutSentences: cases.length,
    },
    method: { warmUpCalls, heapMeasuredAfterGc: gc !== undefined, crossValidationFolds: folds, nlpjsCrossValidationBudgetMs: nlpjsCvBudgetMs },
    engines: results,
    totalMs: round(performance.now() - started, 0),
  };

  mkdirSync(outDir, { recursive: true });
  writeFileSync(`${outDir}nlu.json`, `${JSON.stringify(output, null, 2)}\n`);
  if (values.json) console.log(JSON.stringify(output, null, 2));
  else printText(output);
}

// Piping into `head` closes stdout early; that is not an error worth a stack trace.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error;
});

await main();
