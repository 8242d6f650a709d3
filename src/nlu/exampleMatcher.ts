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
  /** feature → [example index, weight] for every example that has it */
  private readonly postings = new Map<string, [number, number][]>();
  private readonly exampleIntents: string[] = [];
  private readonly intents: string[] = [];

  constructor(
    private readonly features: FeatureExtractor,
    examples: readonly TrainingExample[],
  ) {
    const documents = examples.map(({ text }) => this.features.extract(text));
    const documentFrequency = new Map<string, number>();
    for (const tokens of documents) for (const token of tokens) documentFrequency.set(token, (documentFrequency.get(token) ?? 0) + 1);
    for (const [token, frequency] of documentFrequency) this.idf.set(token, Math.log((1 + documents.length) / (1 + frequency)) + 1);
    documents.forEach((tokens, index) => {
      const intent = examples[index]!.intent;
      this.exampleIntents.push(intent);
      if (!this.intents.includes(intent)) this.intents.push(intent);
      for (const [token, weight] of this.weigh(tokens)) {
        let list = this.postings.get(token);
        if (!list) this.postings.set(token, (list = []));
        list.push([index, weight]);
      }
    });
  }

  /** For every intent, the cosine similarity of its closest example (0 when nothing is shared). */
  closest(normalized: string): RankedIntent[] {
    const similarity = new Map<number, number>();
    for (const [token, weight] of this.weigh(this.features.extract(normalized))) {
      for (const [index, exampleWeight] of this.postings.get(token) ?? []) {
        similarity.set(index, (similarity.get(index) ?? 0) + weight * exampleWeight);
      }
    }
    const best = new Map<string, number>(this.intents.map((intent) => [intent, 0]));
    for (const [index, value] of similarity) {
      const intent = this.exampleIntents[index]!;
      if (value > best.get(intent)!) best.set(intent, value);
    }
    return [...best].map(([name, confidence]) => ({ name, confidence })).sort((a, b) => b.confidence - a.confidence);
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
