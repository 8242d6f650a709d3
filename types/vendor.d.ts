// natural's package entry loads database drivers and takes 1.4–2 s to import, so we import the
// classifier module directly; these are the parts of it we use.
declare module 'natural/lib/natural/classifiers/bayes_classifier.js' {
  interface ApparatusBayes {
    classFeatures: Record<string, Record<string, number>>;
    classTotals: Record<string, number>;
    totalExamples: number;
    smoothing: number;
    addExample(observation: number[], label: string): void;
  }
  class BayesClassifier {
    constructor(stemmer?: { tokenizeAndStem(text: string): string[] }, smoothing?: number);
    classifier: ApparatusBayes;
    addDocument(text: string | string[], label: string): void;
    train(): void;
    getClassifications(observation: string | string[]): { label: string; value: number }[];
  }
  export = BayesClassifier;
}

declare module 'opencc-js' {
  export function Converter(options: { from: string; to: string }): (text: string) => string;
}

// opencc-js's dictionaries, each a serialized table ("源 目标|…"); the package ships no types for them.
declare module 'opencc-js/dict/*' {
  const dict: string;
  export default dict;
}
