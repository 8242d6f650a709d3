import BayesClassifier from 'natural/lib/natural/classifiers/bayes_classifier.js';

export interface RankedIntent {
  name: string;
  confidence: number;
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

/** A training sentence as the models see it: its features (FeatureExtractor) and its intent. */
export interface TokenizedExample {
  tokens: readonly string[];
  intent: string;
}

/** What a trained classifier answers from, as `npm run build` saves it (savedNluModel.ts). */
export interface SavedBayes {
  labels: string[];
  vocabulary: string[];
  /** log P(feature | class), row-major by class */
  logProbabilities: Float64Array;
  logPriors: Float64Array;
  /** 1 where the class's examples had the feature, row-major by class */
  seen: Uint8Array;
}

/**
 * natural's Bayes classifier, trained and queried on sparse features.
 * natural's own `train()` and `getClassifications()` build a dense 0/1 vector over the whole
 * vocabulary for every sentence (≈2 ms a call at 8k features) and multiply probabilities until
 * they underflow to 0 on long messages. Its model (per-class feature counts) is what we want, so
 * we feed it sparse observations and score in log space with the same formula.
 */
export class IntentClassifier {
  /** feature → index in natural's feature vectors */
  private readonly vocabulary = new Map<string, number>();
  readonly labels: string[] = [];
  /**
   * log P(feature | class) for every class and feature, row-major by class, and each class's
   * log prior: read from natural's counts once after training so a message costs only lookups.
   */
  private logProbabilities: Float64Array = new Float64Array(0);
  private logPriors: Float64Array = new Float64Array(0);
  /** Whether a class's training examples had a feature, row-major by class (for `explainedBy`). */
  private seen: Uint8Array = new Uint8Array(0);

  constructor(private readonly options: ClassifierOptions = defaultClassifierOptions) {}

  train(examples: readonly TokenizedExample[]): this {
    const observed = examples.flatMap(({ tokens, intent }) => {
      if (tokens.length === 0) return [];
      const indexes = tokens.map((token) => {
        let index = this.vocabulary.get(token);
        if (index === undefined) this.vocabulary.set(token, (index = this.vocabulary.size));
        return index;
      });
      return [{ indexes, intent }];
    });
    const bayes = new BayesClassifier(undefined, this.options.smoothing);
    // natural's 0/1 feature vector, one packed array reused for every example: natural walks the
    // whole vector, and walking a holey one (mostly holes) cost ~0.5 s on this corpus.
    // (Its object form would be sparse, but assigns an undeclared global on every call.)
    const observation = new Array<number>(this.vocabulary.size).fill(0);
    for (const { indexes, intent } of observed) {
      for (const index of indexes) observation[index] = 1;
      bayes.classifier.addExample(observation, intent);
      for (const index of indexes) observation[index] = 0;
      if (!this.labels.includes(intent)) this.labels.push(intent);
    }
    this.tabulate(bayes.classifier);
    return this;
  }

  /** Reads natural's counts into the tables a message is scored with. */
  private tabulate(model: BayesClassifier['classifier']): void {
    const size = this.vocabulary.size;
    this.logProbabilities = new Float64Array(this.labels.length * size);
    this.seen = new Uint8Array(this.labels.length * size);
    this.logPriors = new Float64Array(this.labels.map((label) => Math.log(model.classTotals[label]! / model.totalExamples)));
    this.labels.forEach((label, row) => {
      const counts = model.classFeatures[label]!;
      for (let index = 0; index < size; index++) {
        // natural's P(feature | class): seen n times → (n + s) / (N + 1), never seen → s / (N + 1).
        this.logProbabilities[row * size + index] = Math.log((counts[index] ?? model.smoothing) / model.classTotals[label]!);
        this.seen[row * size + index] = (counts[index] ?? 0) >= 1 ? 1 : 0;
      }
    });
  }

  save(): SavedBayes {
    return { labels: [...this.labels], vocabulary: [...this.vocabulary.keys()], logProbabilities: this.logProbabilities, logPriors: this.logPriors, seen: this.seen };
  }

  /** The classifier `save` described, as if trained again with the same options and examples. */
  static restore(options: ClassifierOptions, saved: SavedBayes): IntentClassifier {
    const classifier = new IntentClassifier(options);
    classifier.labels.push(...saved.labels);
    saved.vocabulary.forEach((feature, index) => classifier.vocabulary.set(feature, index));
    classifier.logProbabilities = saved.logProbabilities;
    classifier.logPriors = saved.logPriors;
    classifier.seen = saved.seen;
    return classifier;
  }

  /**
   * Share of the message's features seen in training examples of `label`: how much of what the
   * user wrote that intent explains. "等下我老婆叫我" may rank as cancel, but cancel's examples
   * explain little of it.
   */
  explainedBy(tokens: readonly string[], label: string): number {
    const row = this.labels.indexOf(label);
    if (tokens.length === 0 || row < 0) return 0;
    const size = this.vocabulary.size;
    return tokens.filter((token) => {
      const index = this.vocabulary.get(token);
      return index !== undefined && this.seen[row * size + index] === 1;
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
