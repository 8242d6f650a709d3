import type { RankedIntent } from './intentClassifier.js';

export interface SoftmaxOptions {
  /** Passes over the training data. */
  epochs: number;
  /** Step size of the first pass; later passes take smaller steps (learningRate / (1 + decay · pass)). */
  learningRate: number;
  decay: number;
  /** L2 penalty on the weights a step touches: keeps rare features from deciding alone. */
  l2: number;
  /** Logits are divided by this before the softmax (calibration: thresholds read its confidences). */
  temperature: number;
  /** Seeds the order examples are visited in, so training is the same on every run. */
  seed: number;
  /**
   * 0 weighs every example alike; 1 weighs every intent alike (an example of a big intent such as
   * out_of_scope counts less). In between: (average size / intent size) ^ balance.
   */
  balance: number;
}

export const defaultSoftmaxOptions: SoftmaxOptions = { epochs: 30, learningRate: 1, decay: 0.2, l2: 1e-4, temperature: 1, seed: 11, balance: 0 };

/** A small seeded generator (mulberry32): the same shuffles on every machine and run. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Multinomial logistic regression (softmax) on the same sparse features, trained by SGD.
 * Naive Bayes counts each feature for every intent it appears in and adds them up as if they were
 * independent; 解 and 绑 and 解绑 then vote three times. A discriminative model learns how much each
 * feature tells intents apart, so the characters every FAQ shares (解绑, 钱包) weigh little and the
 * ones that decide (余额, 记录, 多久) weigh much.
 * Each message's features count 1/√n, so long messages are not more confident for being long, and
 * features never seen in training dilute the evidence: text mostly unlike the domain scores low.
 */
/** A trained model as numbers: what `npm run build` writes so a server need not train it again. */
export interface SavedSoftmax {
  labels: string[];
  /** Features in the order of the weights' rows. */
  vocabulary: string[];
  weights: Float64Array<ArrayBuffer>;
  bias: Float64Array<ArrayBuffer>;
}

export class SoftmaxClassifier {
  readonly labels: string[] = [];
  private readonly vocabulary = new Map<string, number>();
  /** Weights by feature then intent (a feature's row is contiguous), and each intent's bias. */
  private weights = new Float64Array(0);
  private bias = new Float64Array(0);

  constructor(private readonly options: SoftmaxOptions = defaultSoftmaxOptions) {}

  train(examples: readonly { tokens: readonly string[]; intent: string }[]): this {
    const rows = examples
      .filter(({ tokens }) => tokens.length > 0)
      .map(({ tokens, intent }) => {
        let label = this.labels.indexOf(intent);
        if (label < 0) label = this.labels.push(intent) - 1;
        const indexes = Int32Array.from(tokens, (token) => {
          let index = this.vocabulary.get(token);
          if (index === undefined) this.vocabulary.set(token, (index = this.vocabulary.size));
          return index;
        });
        return { indexes, label, scale: 1 / Math.sqrt(tokens.length) };
      });
    const classes = this.labels.length;
    this.weights = new Float64Array(this.vocabulary.size * classes);
    this.bias = new Float64Array(classes);
    const { epochs, learningRate, decay, l2, seed, balance } = this.options;
    const sizes = new Float64Array(classes);
    for (const { label } of rows) sizes[label]!++;
    const classWeights = Float64Array.from(sizes, (size) => (rows.length / classes / size) ** balance);
    const random = seededRandom(seed);
    const order = rows.map((_, index) => index);
    const probabilities = new Float64Array(classes);
    for (let epoch = 0; epoch < epochs; epoch++) {
      for (let i = order.length - 1; i > 0; i--) {
        const j = Math.floor(random() * (i + 1));
        [order[i], order[j]] = [order[j]!, order[i]!];
      }
      const step = learningRate / (1 + decay * epoch);
      for (const rowIndex of order) {
        const { indexes, label, scale } = rows[rowIndex]!;
        this.logits(indexes, scale, probabilities);
        softmaxInPlace(probabilities, 1);
        const weight = classWeights[label]!;
        for (let k = 0; k < classes; k++) {
          const gradient = weight * (probabilities[k]! - (k === label ? 1 : 0));
          this.bias[k] = this.bias[k]! - step * gradient;
          for (const index of indexes) {
            const at = index * classes + k;
            this.weights[at] = this.weights[at]! - step * (gradient * scale + l2 * this.weights[at]!);
          }
        }
      }
    }
    return this;
  }

  save(): SavedSoftmax {
    return { labels: [...this.labels], vocabulary: [...this.vocabulary.keys()], weights: this.weights, bias: this.bias };
  }

  /** The model `save` described, as if trained again with the same options and examples. */
  static restore(options: SoftmaxOptions, saved: SavedSoftmax): SoftmaxClassifier {
    const model = new SoftmaxClassifier(options);
    model.labels.push(...saved.labels);
    saved.vocabulary.forEach((feature, index) => model.vocabulary.set(feature, index));
    model.weights = saved.weights;
    model.bias = saved.bias;
    return model;
  }

  /** Every intent with a confidence, best first; confidences sum to 1. */
  rank(tokens: readonly string[]): RankedIntent[] {
    const classes = this.labels.length;
    const indexes = Int32Array.from(tokens.flatMap((token) => this.vocabulary.get(token) ?? []));
    const scores = new Float64Array(classes);
    this.logits(indexes, tokens.length ? 1 / Math.sqrt(tokens.length) : 0, scores);
    softmaxInPlace(scores, this.options.temperature);
    return this.labels.map((name, k) => ({ name, confidence: scores[k]! })).sort((a, b) => b.confidence - a.confidence);
  }

  private logits(indexes: Int32Array, scale: number, into: Float64Array): void {
    const classes = this.labels.length;
    for (let k = 0; k < classes; k++) into[k] = this.bias[k]!;
    for (const index of indexes) {
      const row = index * classes;
      for (let k = 0; k < classes; k++) into[k] = into[k]! + this.weights[row + k]! * scale;
    }
  }
}

function softmaxInPlace(values: Float64Array, temperature: number): void {
  let max = -Infinity;
  for (const value of values) if (value > max) max = value;
  let sum = 0;
  for (let k = 0; k < values.length; k++) sum += values[k] = Math.exp((values[k]! - max) / temperature);
  for (let k = 0; k < values.length; k++) values[k] = values[k]! / sum;
}
