import type { FeatureExtractor } from './featureExtractor.js';
import type { RankedIntent, TrainingExample } from './intentClassifier.js';

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
  private readonly intents: string[] = [];
  /** Similarity per example, reused across calls (reset through the `touched` list). */
  private readonly similarity: Float64Array;
  private readonly touched: Int32Array;

  constructor(
    private readonly features: FeatureExtractor,
    examples: readonly TrainingExample[],
  ) {
    this.exampleIntent = new Int32Array(examples.length);
    this.similarity = new Float64Array(examples.length);
    this.touched = new Int32Array(examples.length);
    const documents = examples.map(({ text }) => this.features.extract(text));
    const documentFrequency = new Map<string, number>();
    for (const tokens of documents) for (const token of tokens) documentFrequency.set(token, (documentFrequency.get(token) ?? 0) + 1);
    for (const [token, frequency] of documentFrequency) this.idf.set(token, Math.log((1 + documents.length) / (1 + frequency)) + 1);
    const lists = new Map<string, [number, number][]>();
    documents.forEach((tokens, index) => {
      const intent = examples[index]!.intent;
      if (!this.intents.includes(intent)) this.intents.push(intent);
      this.exampleIntent[index] = this.intents.indexOf(intent);
      for (const [token, weight] of this.weigh(tokens)) {
        let list = lists.get(token);
        if (!list) lists.set(token, (list = []));
        list.push([index, weight]);
      }
    });
    for (const [token, list] of lists) {
      this.postings.set(token, { examples: Int32Array.from(list, ([index]) => index), weights: Float64Array.from(list, ([, weight]) => weight) });
    }
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
