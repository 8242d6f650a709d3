// @nlpjs ships no type declarations; these are the parts bench/nluBenchmark.ts uses.
declare module '@nlpjs/nlp' {
  export interface NlpSettings {
    languages?: string[];
    autoSave?: boolean;
    autoLoad?: boolean;
    threshold?: number;
    log?: boolean;
    nlu?: { log?: boolean };
  }
  export interface NlpResult {
    /** 'None' when no intent clears the threshold. */
    intent?: string;
    score?: number;
  }
  export interface NlpLogger {
    debug(...args: unknown[]): void;
    info(...args: unknown[]): void;
    warn(...args: unknown[]): void;
    error(...args: unknown[]): void;
    log(...args: unknown[]): void;
    trace(...args: unknown[]): void;
    fatal(...args: unknown[]): void;
  }
  export interface NlpContainer {
    register(name: string, instance: unknown, isSingleton?: boolean): void;
  }
  export class Nlp {
    constructor(settings?: NlpSettings);
    container: NlpContainer;
    use(plugin: unknown): void;
    addDocument(locale: string, utterance: string, intent: string): void;
    train(): Promise<unknown>;
    process(locale: string, utterance: string): Promise<NlpResult>;
  }
}

declare module '@nlpjs/lang-zh' {
  export class LangZh {}
}
