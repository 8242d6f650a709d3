import BayesClassifier from 'natural/lib/natural/classifiers/bayes_classifier.js';
import type { FeatureExtractor } from './featureExtractor.js';

export interface RankedIntent {
  name: string;
  confidence: number;
}

export interface TrainingExample {
  text: string;
  intent: string;
}

export interface ClassifierOptions {
  /**
   * Naive Bayes log-scores are far apart (its posteriors are over-confident); dividing them by a
   * temperature before the softmax spreads the confidence so thresholds mean something.
   */
  temperature: number;
  /**
   * natural's additive smoothing: an unseen feature counts this much, a feature seen once 1 + this.
   * Its default of 1 makes "seen once" only twice as likely as "never seen", too weak a signal.
   */
  smoothing: number;
}

export const defaultClassifierOptions: ClassifierOptions = { temperature: 2, smoothing: 0.01 };

/**
 * natural's Bayes classifier, trained and queried on sparse features.
 * natural's own `train()` and `getClassifications()` build a dense 0/1 vector over the whole
 * vocabulary for every sentence (≈2 ms a call at 8k features) and multiply probabilities until
 * they underflow to 0 on long messages. Its model (per-class feature counts) is what we want, so
 * we feed it sparse observations and score in log space with the same formula.
 */
export class IntentClassifier {
  private readonly bayes: BayesClassifier;
  /** feature → index in natural's feature vectors */
  private readonly vocabulary = new Map<string, number>();
  readonly labels: string[] = [];
  /**
   * log P(feature | class) for every class and feature, row-major by class, and each class's
   * log prior: read from natural's counts once after training so a message costs only lookups.
   */
  private logProbabilities = new Float64Array(0);
  private logPriors = new Float64Array(0);

  constructor(
    private readonly features: FeatureExtractor,
    private readonly options: ClassifierOptions = defaultClassifierOptions,
  ) {
    this.bayes = new BayesClassifier(undefined, options.smoothing);
  }

  train(examples: readonly TrainingExample[]): this {
    const observed = examples.flatMap(({ text, intent }) => {
      const tokens = this.features.extract(text);
      if (tokens.length === 0) return [];
      const indexes = tokens.map((token) => {
        let index = this.vocabulary.get(token);
        if (index === undefined) this.vocabulary.set(token, (index = this.vocabulary.size));
        return index;
      });
      return [{ indexes, intent }];
    });
    // natural's 0/1 feature vector, one packed array reused for every example: natural walks the
    // whole vector, and walking a holey one (mostly holes) cost ~0.5 s on this corpus.
    // (Its object form would be sparse, but assigns an undeclared global on every call.)
    const observation = new Array<number>(this.vocabulary.size).fill(0);
    for (const { indexes, intent } of observed) {
      for (const index of indexes) observation[index] = 1;
      this.bayes.classifier.addExample(observation, intent);
      for (const index of indexes) observation[index] = 0;
      if (!this.labels.includes(intent)) this.labels.push(intent);
    }
    this.tabulate();
    return this;
  }

  private tabulate(): void {
    const model = this.bayes.classifier;
    const size = this.vocabulary.size;
    this.logProbabilities = new Float64Array(this.labels.length * size);
    this.logPriors = new Float64Array(this.labels.map((label) => Math.log(model.classTotals[label]! / model.totalExamples)));
    this.labels.forEach((label, row) => {
      for (let index = 0; index < size; index++) this.logProbabilities[row * size + index] = Math.log(this.probability(label, index));
    });
  }

  /** P(feature | class) from natural's counts: seen n times → (n + s) / (N + 1), never seen → s / (N + 1). */
  private probability(label: string, index: number): number {
    const model = this.bayes.classifier;
    return (model.classFeatures[label]![index] ?? model.smoothing) / model.classTotals[label]!;
  }

  /**
   * Share of the message's features seen in training examples of `label`: how much of what the
   * user wrote that intent explains. "等下我老婆叫我" may rank as cancel, but cancel's examples
   * explain little of it.
   */
  explainedBy(tokens: readonly string[], label: string): number {
    const counts = this.bayes.classifier.classFeatures[label];
    if (tokens.length === 0 || !counts) return 0;
    return tokens.filter((token) => {
      const index = this.vocabulary.get(token);
      return index !== undefined && (counts[index] ?? 0) >= 1;
    }).length / tokens.length;
  }

  /** Share of the message's features seen anywhere in training: low for text unlike anything we know. */
  coverage(tokens: readonly string[]): number {
    if (tokens.length === 0) return 0;
    return tokens.filter((token) => this.vocabulary.has(token)).length / tokens.length;
  }

  /** Every intent with a confidence, best first; confidences sum to 1. `tokens` come from the same FeatureExtractor. */
  rank(tokens: readonly string[]): RankedIntent[] {
    // Features never seen in training carry no evidence for any class, as in natural's dense vectors.
    const indexes = tokens.flatMap((token) => this.vocabulary.get(token) ?? []);
    const size = this.vocabulary.size;
    const scores = this.labels.map((label, row) => {
      let logScore = this.logPriors[row]!;
      for (const index of indexes) logScore += this.logProbabilities[row * size + index]!;
      return { name: label, logScore };
    });
    const best = Math.max(...scores.map((score) => score.logScore));
    const weights = scores.map(({ name, logScore }) => ({ name, weight: Math.exp((logScore - best) / this.options.temperature) }));
    const sum = weights.reduce((total, { weight }) => total + weight, 0);
    return weights
      .map(({ name, weight }) => ({ name, confidence: weight / sum }))
      .sort((a, b) => b.confidence - a.confidence);
  }
}
