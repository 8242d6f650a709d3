import type { RankedIntent, TokenizedExample } from './intentClassifier.js';

/** The matcher's index as `npm run build` saves it (savedNluModel.ts): postings flattened per feature. */
export interface SavedMatcher {
  intents: string[];
  /** intent number of each example */
  exampleIntent: Int32Array;
  features: string[];
  idf: Float64Array;
  /** feature i's postings are postingExamples/postingWeights[postingStarts[i] .. postingStarts[i + 1]) */
  postingStarts: Int32Array;
  postingExamples: Int32Array;
  postingWeights: Float64Array;
}

/**
 * Nearest training sentences by TF-IDF cosine over the same features the Bayes model sees.
 * Naive Bayes judges features one by one and so favours intents whose sentences repeat the same
 * characters (为什么要解绑 makes 解绑 "belong" to why_unbind); a whole-sentence match corrects that
 * for short replies and close paraphrases such as 对对对 or 可以 往下走.
 */
export class ExampleMatcher {
  private readonly idf = new Map<string, number>();
  /** feature → the examples that have it and the feature's weight in each (parallel typed arrays) */
  private readonly postings = new Map<string, { examples: Int32Array; weights: Float64Array }>();
  /** intent number of each example, and the intents' names */
  private readonly exampleIntent: Int32Array;
  private readonly intents: string[];
  /** Similarity per example, reused across calls (reset through the `touched` list). */
  private readonly similarity: Float64Array;
  private readonly touched: Int32Array;

  private constructor(exampleIntent: Int32Array, intents: string[]) {
    this.exampleIntent = exampleIntent;
    this.intents = intents;
    this.similarity = new Float64Array(exampleIntent.length);
    this.touched = new Int32Array(exampleIntent.length);
  }

  /** Indexes the examples' features (from the FeatureExtractor the messages will come through). */
  static train(examples: readonly TokenizedExample[]): ExampleMatcher {
    const intents: string[] = [];
    const exampleIntent = Int32Array.from(examples, ({ intent }) => {
      if (!intents.includes(intent)) intents.push(intent);
      return intents.indexOf(intent);
    });
    const matcher = new ExampleMatcher(exampleIntent, intents);
    const documentFrequency = new Map<string, number>();
    for (const { tokens } of examples) for (const token of tokens) documentFrequency.set(token, (documentFrequency.get(token) ?? 0) + 1);
    for (const [token, frequency] of documentFrequency) matcher.idf.set(token, Math.log((1 + examples.length) / (1 + frequency)) + 1);
    const lists = new Map<string, [number, number][]>();
    examples.forEach(({ tokens }, index) => {
      for (const [token, weight] of matcher.weigh(tokens)) {
        let list = lists.get(token);
        if (!list) lists.set(token, (list = []));
        list.push([index, weight]);
      }
    });
    for (const [token, list] of lists) {
      matcher.postings.set(token, { examples: Int32Array.from(list, ([index]) => index), weights: Float64Array.from(list, ([, weight]) => weight) });
    }
    return matcher;
  }

  save(): SavedMatcher {
    const features = [...this.idf.keys()];
    const postingStarts = new Int32Array(features.length + 1);
    features.forEach((feature, i) => (postingStarts[i + 1] = postingStarts[i]! + (this.postings.get(feature)?.examples.length ?? 0)));
    const postingExamples = new Int32Array(postingStarts[features.length]!);
    const postingWeights = new Float64Array(postingExamples.length);
    features.forEach((feature, i) => {
      const posting = this.postings.get(feature);
      if (!posting) return;
      postingExamples.set(posting.examples, postingStarts[i]!);
      postingWeights.set(posting.weights, postingStarts[i]!);
    });
    return {
      intents: [...this.intents],
      exampleIntent: this.exampleIntent,
      features,
      idf: Float64Array.from(features, (feature) => this.idf.get(feature)!),
      postingStarts,
      postingExamples,
      postingWeights,
    };
  }

  /** The matcher `save` described, as if trained again on the same examples. */
  static restore(saved: SavedMatcher): ExampleMatcher {
    const matcher = new ExampleMatcher(saved.exampleIntent, [...saved.intents]);
    saved.features.forEach((feature, i) => {
      matcher.idf.set(feature, saved.idf[i]!);
      const start = saved.postingStarts[i]!;
      const end = saved.postingStarts[i + 1]!;
      if (end > start) matcher.postings.set(feature, { examples: saved.postingExamples.subarray(start, end), weights: saved.postingWeights.subarray(start, end) });
    });
    return matcher;
  }

  /** For every intent, the cosine similarity of its closest example (0 when nothing is shared). */
  closest(tokens: readonly string[]): RankedIntent[] {
    // Accumulated in typed arrays: common characters have posting lists of hundreds of examples.
    const { similarity, touched } = this;
    let touchedCount = 0;
    for (const [token, weight] of this.weigh(tokens)) {
      const posting = this.postings.get(token);
      if (!posting) continue;
      const { examples, weights } = posting;
      for (let i = 0; i < examples.length; i++) {
        const index = examples[i]!;
        if (similarity[index] === 0) touched[touchedCount++] = index;
        similarity[index] = similarity[index]! + weight * weights[i]!;
      }
    }
    const best = new Float64Array(this.intents.length);
    for (let i = 0; i < touchedCount; i++) {
      const index = touched[i]!;
      const intent = this.exampleIntent[index]!;
      if (similarity[index]! > best[intent]!) best[intent] = similarity[index]!;
      similarity[index] = 0;
    }
    return this.intents.map((name, intent) => ({ name, confidence: best[intent]! })).sort((a, b) => b.confidence - a.confidence);
  }

  /** L2-normalised TF-IDF weights; features never seen in training are left out. */
  private weigh(tokens: readonly string[]): [string, number][] {
    const weighted = tokens.flatMap((token): [string, number][] => {
      const idf = this.idf.get(token);
      return idf === undefined ? [] : [[token, idf]];
    });
    const norm = Math.sqrt(weighted.reduce((sum, [, weight]) => sum + weight * weight, 0)) || 1;
    return weighted.map(([token, weight]) => [token, weight / norm]);
  }
}
