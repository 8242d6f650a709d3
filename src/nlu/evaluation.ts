export interface LabelledText {
  text: string;
  intent: string;
}

export interface IntentScores {
  precision: number;
  recall: number;
  f1: number;
  support: number;
}

export interface EvaluationReport {
  total: number;
  correct: number;
  accuracy: number;
  macroF1: number;
  perIntent: Record<string, IntentScores>;
  /** expected → predicted, most frequent first; only mistakes. */
  confusions: { expected: string; predicted: string; count: number; examples: string[] }[];
}

/** Scores predictions against expectations the way intent classifiers are usually compared. */
export function evaluate(cases: readonly LabelledText[], predict: (text: string) => string): EvaluationReport {
  const counts = new Map<string, { tp: number; fp: number; fn: number; support: number }>();
  const entry = (intent: string) => {
    let value = counts.get(intent);
    if (!value) counts.set(intent, (value = { tp: 0, fp: 0, fn: 0, support: 0 }));
    return value;
  };
  const confusions = new Map<string, { expected: string; predicted: string; count: number; examples: string[] }>();
  let correct = 0;
  for (const { text, intent } of cases) {
    const predicted = predict(text);
    entry(intent).support++;
    if (predicted === intent) {
      correct++;
      entry(intent).tp++;
      continue;
    }
    entry(intent).fn++;
    entry(predicted).fp++;
    const key = `${intent}\u0000${predicted}`;
    const confusion = confusions.get(key) ?? { expected: intent, predicted, count: 0, examples: [] };
    confusion.count++;
    confusion.examples.push(text);
    confusions.set(key, confusion);
  }
  const perIntent: Record<string, IntentScores> = {};
  for (const [intent, { tp, fp, fn, support }] of [...counts].sort(([a], [b]) => a.localeCompare(b))) {
    const precision = tp + fp ? tp / (tp + fp) : 0;
    const recall = tp + fn ? tp / (tp + fn) : 0;
    perIntent[intent] = { precision, recall, f1: precision + recall ? (2 * precision * recall) / (precision + recall) : 0, support };
  }
  // Macro-F1 over the intents the test set contains, so a never-predicted stray label does not count.
  const tested = Object.values(perIntent).filter((scores) => scores.support > 0);
  return {
    total: cases.length,
    correct,
    accuracy: cases.length ? correct / cases.length : 0,
    macroF1: tested.length ? tested.reduce((sum, scores) => sum + scores.f1, 0) / tested.length : 0,
    perIntent,
    confusions: [...confusions.values()].sort((a, b) => b.count - a.count),
  };
}

/** Splits examples into k folds, each intent spread evenly over them, in a fixed order so runs repeat. */
export function kFolds<T extends LabelledText>(examples: readonly T[], k: number): T[][] {
  const folds: T[][] = Array.from({ length: k }, () => []);
  const byIntent = new Map<string, T[]>();
  for (const example of examples) byIntent.set(example.intent, [...(byIntent.get(example.intent) ?? []), example]);
  let next = 0;
  for (const group of byIntent.values()) for (const example of group) folds[next++ % k]!.push(example);
  return folds;
}
