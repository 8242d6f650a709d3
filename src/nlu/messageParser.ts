import type { Content } from '../content/loadContent.js';
import type { AnswerExpectation, VerificationMethod } from '../content/schemas.js';
import { faqTopics } from '../../flows/events.js';
import { ExampleMatcher } from './exampleMatcher.js';
import { FeatureExtractor, type FeatureSet } from './featureExtractor.js';
import { IntentClassifier, defaultClassifierOptions, type RankedIntent } from './intentClassifier.js';
import { SecretRedactor, type RedactionContext, type RedactionStep, type SecretKind } from './secretRedactor.js';
import { SoftmaxClassifier, defaultSoftmaxOptions, type SoftmaxOptions } from './softmaxClassifier.js';
import { nluModelKey, readNluModels, savedFormOf, savedModelDir, type NluModels } from './savedNluModel.js';
import { TextNormalizer, detectScript, type Script } from './textNormalizer.js';
import { YesNoReader, type YesNo } from './yesNoReader.js';
import { PinyinReader } from './pinyinReader.js';

export const fallbackIntent = 'out_of_scope';

export interface ParseResult {
  /** What the user typed, with secrets already replaced by labels: the only form ever stored. */
  redactedText: string;
  normalized: string;
  script: Script | undefined;
  intent: RankedIntent;
  ranking: RankedIntent[];
  /** Two intents too close to choose between: the bot should ask which one was meant. */
  ambiguousBetween: [string, string] | undefined;
  method: VerificationMethod | undefined;
  /** The message reports something going wrong ("收不到", "失败", "忘了"). */
  reportsProblem: boolean;
  secrets: SecretKind[];
  /** The message was nothing but a secret (e.g. a bare verification code). */
  onlySecret: boolean;
  /** The message was a quick-reply payload such as `/affirm`, not free text. */
  fromPayload: boolean;
  /** How the yes/no reader took the message, when the open question expected a yes or a no. */
  answer: YesNo | undefined;
  /**
   * For the intents that throw progress away or leave the bot (cancel, restart, a human): whether
   * the request is clear (confident, and the intent explains what the user wrote).
   */
  clearRequest: boolean;
  /** Every question of a message that asks several (in order, at least two), or the one a long message ends with. */
  questions: string[];
  /** Other requests in a message that also asks questions ("…？要怎么解绑？" → unbind_wallet). */
  alsoRequested: string[];
  /** The step to do next, when the user says where they already are ("我已经在钱包页面了" → 5). */
  position: number | undefined;
  /** The message holds a question cue (吗, 怎么, 在哪 …, or ends in 不/没): it asks, rather than reports. */
  asks: boolean;
}

export interface ParserOptions {
  featureSet: FeatureSet;
  temperature: number;
  smoothing: number;
  /** Below this confidence the top intent is not trusted and the message counts as out of scope. */
  fallbackThreshold: number;
  /** Below this share of known features the message is unlike anything trained: out of scope. */
  minCoverage: number;
  /** Runner-up within this distance of the top intent → ask the user which one was meant. */
  ambiguityMargin: number;
  /** A drastic intent (cancel, restart, a human) is clear at this confidence or above… */
  drasticConfidence: number;
  /** …and when its training examples explain at least this share of the message's features. */
  drasticExplained: number;
  /** How much more likely the intents the dialogue expects next are made (see ParseContext). */
  expectedBoost: number;
  /** Share of the final confidence that comes from the nearest training sentences. */
  exampleWeight: number;
  /** Share that comes from the softmax (logistic regression) model; the rest is natural's Bayes. */
  softmaxWeight: number;
  /** How the softmax model is trained and calibrated. */
  softmax: SoftmaxOptions;
  /** How sharply nearest-sentence similarities are turned into a distribution over intents. */
  exampleSharpness: number;
}

/** What the dialogue knows before the message is read. */
export interface ParseContext {
  /**
   * Intents that make sense at this point, e.g. the controls inside a step: "没有" after
   * "找到钱包了吗？" is a deny, not an out-of-scope remark.
   */
  expectedIntents?: readonly string[];
  /** What the bot's last question expects back, which steers how a short answer is read. */
  expects?: AnswerExpectation | undefined;
  /** The FAQ the bot answered last: a follow-up that could be it or another topic means the other. */
  lastAnswered?: string | undefined;
  /** The bot is at the step where an SMS code or a password is typed: a number there is that secret, whatever surrounds it. */
  atStep?: RedactionStep | undefined;
}

/** Intents that lose the user's progress or leave the bot: only on a clear request. */
const drasticIntents = new Set(['cancel', 'restart', 'contact_human']);
/** Never offered as a clarification next to a safer reading: it would skip, stop or contradict. */
const unsafeToOffer = new Set(['cancel', 'restart', 'contact_human', 'affirm']);
const faqIntents = new Set<string>(faqTopics);
/** The flows' controls: short words that a remark shares a character or two with. */
const controlIntents = new Set(['affirm', 'deny', 'repeat', 'go_back', 'step_help']);

export const defaultParserOptions: ParserOptions = {
  featureSet: 'charNgrams',
  temperature: defaultClassifierOptions.temperature,
  smoothing: defaultClassifierOptions.smoothing,
  fallbackThreshold: 0.2,
  minCoverage: 0.5,
  ambiguityMargin: 0.15,
  drasticConfidence: 0.7,
  drasticExplained: 0.75,
  expectedBoost: 3,
  exampleWeight: 0.25,
  exampleSharpness: 20,
  softmaxWeight: 0.5,
  softmax: defaultSoftmaxOptions,
};

const payloadPattern = /^\/([a-z_]+)(\{.*\})?$/;
const verificationMethods = new Set<unknown>(['sms', 'biometric', 'securityQuestion']);

/**
 * The entities of a payload the bot's buttons carry (`{"method":"sms"}`, `{"step":3}`), or undefined
 * when the JSON is anything else: "/verify{"code":"482913"}" is text someone typed, and redacted as such.
 */
function buttonEntities(json: string | undefined): { method?: VerificationMethod; step?: number } | undefined {
  if (json === undefined) return {};
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return undefined;
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const entities: { method?: VerificationMethod; step?: number } = {};
  for (const [key, entity] of Object.entries(value)) {
    if (key === 'method' && verificationMethods.has(entity)) entities.method = entity as VerificationMethod;
    else if (key === 'step' && Number.isInteger(entity) && (entity as number) >= 1 && (entity as number) <= 7) entities.step = entity as number;
    else return undefined;
  }
  return entities;
}

/** Understands one user message: redaction, normalisation, intent, entities. */
export class MessageParser {
  readonly options: ParserOptions;
  private readonly normalizer: TextNormalizer;
  private readonly redactor: SecretRedactor;
  private readonly features: FeatureExtractor;
  private readonly classifier: IntentClassifier;
  private readonly matcher: ExampleMatcher;
  private readonly softmax: SoftmaxClassifier | undefined;
  /** What the trained models are saved under (savedNluModel.ts), for the build that writes them. */
  private readonly modelKey: string;
  /** Whether the models were read back from the build's file or trained by this parser. */
  readonly modelOrigin: 'saved' | 'trained';
  private readonly methodWords: [VerificationMethod, string][];
  private readonly outOfScopeMarkers: string[];
  private readonly problemCues: string[];
  private readonly declineCues: string[];
  private readonly humanWord: string;
  private readonly yesNo: YesNoReader;
  /** Built on the first message with Latin letters: most users never type pinyin, and building it costs start-up time. */
  private pinyin: PinyinReader | undefined;
  private readonly trainingSentences: string[];
  /** [step to do next, places (each the words that must all appear)], furthest step first. */
  private readonly positions: [number, string[][]][];
  private readonly questionCues: string[];
  private readonly cancelCues: string[];
  private readonly conditionalCues: string[];
  private readonly goingToDoCues: string[];
  private readonly contactDetailCues: string[];
  private readonly clauseBreaks: RegExp;
  private readonly intentNames: Set<string>;
  /** Normalised training sentence → its intent: a sentence the team wrote down is answered as written. */
  private readonly knownSentences = new Map<string, string>();

  /**
   * `savedModelDirectory`: where `npm run build` saved trained models (savedNluModel.ts); null
   * trains at once without looking.
   */
  constructor(content: Pick<Content, 'intents' | 'lexicon' | 'answers'>, options: Partial<ParserOptions> = {}, savedModelDirectory: string | null = savedModelDir) {
    this.options = { ...defaultParserOptions, ...options };
    this.normalizer = new TextNormalizer(content.lexicon);
    this.redactor = new SecretRedactor(content.lexicon);
    this.intentNames = new Set(content.intents.map((intent) => intent.name));
    const domainWords = Object.keys(content.lexicon.synonyms);
    const features = new FeatureExtractor(this.options.featureSet, domainWords);
    this.features = features;
    const examples = content.intents.flatMap((intent) =>
      intent.examples.map((example) => ({ text: this.normalizer.normalize(example), intent: intent.name })),
    );
    // Each sentence's features once, for all three models.
    const tokenized = examples.map(({ text, intent }) => ({ tokens: features.extract(text), intent }));
    const classifierOptions = { temperature: this.options.temperature, smoothing: this.options.smoothing };
    const softmaxOptions = this.options.softmaxWeight > 0 ? this.options.softmax : undefined;
    this.modelKey = nluModelKey({ classifier: classifierOptions, softmax: softmaxOptions }, tokenized);
    // Read back when npm run build trained them on exactly these examples; trained here otherwise.
    const saved = savedModelDirectory === null ? undefined : readNluModels(this.modelKey, savedModelDirectory);
    this.modelOrigin = saved ? 'saved' : 'trained';
    this.classifier = saved ? IntentClassifier.restore(classifierOptions, saved.bayes) : new IntentClassifier(classifierOptions).train(tokenized);
    this.matcher = saved ? ExampleMatcher.restore(saved.matcher) : ExampleMatcher.train(tokenized);
    if (softmaxOptions) {
      this.softmax = saved?.softmax ? SoftmaxClassifier.restore(softmaxOptions, saved.softmax) : new SoftmaxClassifier(softmaxOptions).train(tokenized);
    }
    for (const { text, intent } of examples) this.knownSentences.set(text, intent);
    this.trainingSentences = examples.map(({ text }) => text);
    this.outOfScopeMarkers = content.lexicon.outOfScopeMarkers.map((marker) => this.normalizer.normalize(marker));
    this.problemCues = content.lexicon.verificationProblemCues.map((cue) => this.normalizer.normalize(cue));
    this.declineCues = content.lexicon.declineHuman.cues.map((cue) => this.normalizer.normalize(cue));
    this.humanWord = this.normalizer.normalize(content.lexicon.declineHuman.target);
    this.yesNo = new YesNoReader(content.answers);
    this.positions = Object.entries(content.lexicon.positions)
      .map(([step, places]): [number, string[][]] => [Number(step), places.map((place) => place.split('+').map((part) => this.normalizer.normalize(part)))])
      .sort((a, b) => b[0] - a[0]);
    this.cancelCues = content.lexicon.cancelCues.map((cue) => this.normalizer.normalize(cue));
    this.conditionalCues = content.lexicon.conditionalCues.map((cue) => this.normalizer.normalize(cue));
    this.goingToDoCues = content.lexicon.goingToDoCues.map((cue) => this.normalizer.normalize(cue));
    this.contactDetailCues = content.lexicon.contactDetailCues.map((cue) => this.normalizer.normalize(cue));
    this.questionCues = content.lexicon.questionCues.map((cue) => this.normalizer.normalize(cue));
    const breaks = content.lexicon.clauseBreaks.map((word) => this.normalizer.normalize(word).replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
    this.clauseBreaks = new RegExp(`[\\s\\p{P}]+|${breaks.join('|')}`, 'u');
    this.methodWords = Object.entries(content.lexicon.verificationMethods)
      .flatMap(([method, words]) => words.map((word): [VerificationMethod, string] => [method as VerificationMethod, this.normalizer.normalize(word)]))
      .sort((a, b) => b[1].length - a[1].length);
  }

  /** Whether a button title and a typed text say the same words, ignoring width, case, script, spaces and punctuation. */
  sameWords(title: string, text: string): boolean {
    // Button titles repeat every turn: their words are kept (bounded). User text never is, since it may hold a secret.
    let left = this.titleWords.get(title);
    if (left === undefined) {
      left = this.words(title);
      if (this.titleWords.size >= 2000) this.titleWords.clear();
      this.titleWords.set(title, left);
    }
    return left.length > 0 && left === this.words(text);
  }

  private readonly titleWords = new Map<string, string>();

  private words(text: string): string {
    return this.normalizer.normalize(text).replace(/[\s\p{P}\p{S}]/gu, '');
  }

  /** The trained models and their key, for `npm run build` to save. */
  modelsToSave(): { key: string; models: NluModels } {
    return { key: this.modelKey, models: savedFormOf({ classifier: this.classifier, matcher: this.matcher, softmax: this.softmax }) };
  }

  /** Normalised as training sentences are, with typed pinyin read as characters ("jiebang" → 解绑). */
  private normalizeUserText(text: string): string {
    const normalized = this.normalizer.normalize(text);
    if (!/[a-z]/.test(normalized)) return normalized;
    this.pinyin ??= new PinyinReader(this.trainingSentences);
    const read = this.pinyin.read(normalized);
    return read === normalized ? normalized : this.normalizer.normalize(read);
  }

  /** The text with its secrets replaced by labels, for anything that is stored or logged. */
  redact(text: string, context: RedactionContext = {}): string {
    return this.redactor.redact(text, context).text;
  }

  parse(text: string, context: ParseContext = {}): ParseResult {
    // Only a payload the bot's buttons could have sent is one; anything else shaped like it
    // ("/affirm 482913", "/verify{...}") is text, redacted like any other.
    const payload = payloadPattern.exec(text.trim());
    const entities = payload && this.intentNames.has(payload[1]!) ? buttonEntities(payload[2]) : undefined;
    if (payload && entities) return this.parsePayload(payload[1]!, payload[2], entities);

    const { text: redactedText, kinds: secrets } = this.redactor.redact(text, { atStep: context.atStep });
    // Classify what is left once the secrets are out, so a code does not sway the intent.
    const withoutSecrets = secrets.length ? this.redactor.strip(redactedText) : redactedText;
    const normalized = this.normalizeUserText(withoutSecrets);
    const onlySecret = secrets.length > 0 && !/[\p{L}]/u.test(normalized);
    const tokens = this.features.extract(normalized);
    const ranking = this.rank(normalized, tokens, context);
    const top = ranking[0]!;
    const runnerUp = ranking[1];
    const method = this.findMethod(normalized);
    const reportsProblem = this.problemCues.some((cue) => normalized.includes(cue));
    const position = this.findPosition(normalized);
    const asks = this.asks(normalized);
    // "好 我这就去提" to "余额处理好后回复“好了”": about to do it, so neither done nor a step back.
    const goesToDoIt = typeof context.expects === 'object' && context.expects.yesNo === 'done' && !reportsProblem && !asks && this.goingToDoCues.some((cue) => normalized.includes(cue));
    const answer = goesToDoIt ? undefined : this.readAnswer(normalized, { hasSecrets: secrets.length > 0, namesMethodProblem: method !== undefined && reportsProblem, position }, context, top);
    /** The intent a yes or a no the reader took stands for. */
    const answerIntent = answer === 'yes' ? 'affirm' : answer === 'no' ? 'deny' : undefined;
    // Classifiers score what a message shares with the domain, not what it adds; "支付宝解绑银行卡"
    // shares almost everything with unbind_wallet. Naming another product settles it.
    const namesOtherProduct = top.confidence < 1 && this.outOfScopeMarkers.some((marker) => normalized.includes(marker));
    const understood =
      !namesOtherProduct &&
      top.confidence >= this.options.fallbackThreshold &&
      (top.confidence === 1 || this.classifier.coverage(tokens) >= this.options.minCoverage);
    let intent = understood ? top : { name: fallbackIntent, confidence: top.name === fallbackIntent ? top.confidence : 1 - top.confidence };
    // Character n-grams cannot see negation: "不用转人工" shares everything with "转人工".
    // "微信客服电话是多少" asks for details the article does not give; the answer offers a human.
    if (intent.name === 'contact_human' && this.contactDetailCues.some((cue) => normalized.includes(cue))) {
      intent = { name: 'not_covered', confidence: intent.confidence };
    }
    const declinesHuman = intent.name === 'contact_human' && this.declinesHuman(normalized);
    if (declinesHuman) intent = { name: 'deny', confidence: intent.confidence };
    let ambiguousBetween: [string, string] | undefined =
      understood &&
      runnerUp &&
      top.name !== fallbackIntent &&
      runnerUp.name !== fallbackIntent &&
      top.confidence - runnerUp.confidence < this.options.ambiguityMargin
        ? [top.name, runnerUp.name]
        : undefined;
    // "那怎么添加第二个呢" right after the answer about binding several: the user has that answer and
    // asks for the other one.
    if (ambiguousBetween && context.lastAnswered && ambiguousBetween.includes(context.lastAnswered)) {
      const other = ambiguousBetween.find((name) => name !== context.lastAnswered)!;
      intent = ranking.find((ranked) => ranked.name === other)!;
      ambiguousBetween = undefined;
    }
    if (ambiguousBetween) {
      // "看不到那个按钮" must not be offered "好了，下一步", nor "继续" be offered "取消解绑":
      // next to a safe reading an unsafe one is dropped; two unsafe ones are not understood at all.
      const safe = ambiguousBetween.filter((name) => !unsafeToOffer.has(name));
      if (safe.length === 1) {
        intent = ranking.find((ranked) => ranked.name === safe[0])!;
        ambiguousBetween = undefined;
      } else if (safe.length === 0) {
        const forward = ambiguousBetween.includes('affirm') ? ranking.find((ranked) => ranked.name === 'affirm') : undefined;
        intent = forward ?? { name: fallbackIntent, confidence: 1 - top.confidence };
        ambiguousBetween = undefined;
      }
    }
    // "等了半天短信都没来": a method named with a problem is a verification problem, whatever else the
    // unfamiliar words made the classifier hesitate over.
    if (ambiguousBetween?.includes('verification_help') && method && reportsProblem) {
      intent = ranking.find((ranked) => ranked.name === 'verification_help')!;
      ambiguousBetween = undefined;
    }
    // "你的手机上显示的是哪种验证方式？" answered "收到了，已经输进去了": the method it names is the answer.
    const asksForMethod = typeof context.expects === 'object' && context.expects.yesNo === 'askedToVerify';
    if (asksForMethod && method && answer !== 'no' && !reportsProblem && !drasticIntents.has(intent.name)) {
      intent = { name: 'verification_help', confidence: Math.max(intent.confidence, 0.9) };
      ambiguousBetween = undefined;
    }
    // The open question reads short answers first: 有 / 还有一点 / 解绑了 / 没让我验证.
    if (answerIntent && !(asksForMethod && method && answer === 'yes')) {
      intent = { name: answerIntent, confidence: Math.max(0.9, intent.name === answerIntent ? intent.confidence : 0) };
      ambiguousBetween = undefined;
    }
    // A control that explains little of the message is a remark, not an answer: "天气不错啊" shares
    // only 不 with deny, yet inside a step the boost would make it one. Short answers the reader knows
    // (好滴, 木有) are read against the open question below.
    const answered = answerIntent !== undefined && intent.name === answerIntent;
    if (!answered && !declinesHuman && controlIntents.has(intent.name) && intent.confidence < 1 && this.classifier.explainedBy(tokens, intent.name) < 0.6) {
      intent = { name: fallbackIntent, confidence: 1 - intent.confidence };
    }
    // A drastic intent that explains little of the message is a remark, not a request ("今天好热啊").
    if (drasticIntents.has(intent.name) && intent.confidence < 1 && (intent.confidence < 0.5 || this.classifier.explainedBy(tokens, intent.name) < 0.5)) {
      intent = { name: fallbackIntent, confidence: 1 - intent.confidence };
    }
    if (goesToDoIt && !drasticIntents.has(intent.name)) {
      intent = { name: 'repeat', confidence: Math.max(intent.confidence, 0.9) };
      ambiguousBetween = undefined;
    }
    // "里面还有钱呢，那先不解绑了": a message that ends by stopping in so many words is a stop, whatever
    // its first words share with a question. Only the last clause, only with an unmistakable cue, and
    // not under a condition: "如果不解绑了，还能用吗" and "…还能用吗，不能的话我就不解了" ask.
    if (intent.name !== 'cancel' && !answerIntent && this.cancelCues.some((cue) => normalized.includes(cue))) {
      const last = this.normalizeUserText(this.clausesOf(withoutSecrets).at(-1) ?? '');
      const lastTokens = this.features.extract(last);
      const decides = !this.asks(last) && !this.conditionalCues.some((cue) => last.includes(cue));
      const lastTop = last !== normalized && lastTokens.length > 0 && decides ? this.rank(last, lastTokens, context)[0] : undefined;
      if (lastTop?.name === 'cancel' && lastTop.confidence >= 0.5 && this.cancelCues.some((cue) => last.includes(cue))) {
        intent = lastTop;
        ambiguousBetween = undefined;
      }
    }
    const clearRequest = !drasticIntents.has(intent.name) || this.isClearRequest(intent, normalized, tokens, withoutSecrets, context);
    const { questions, alsoRequested } = answerIntent ? { questions: [], alsoRequested: [] } : this.questionsIn(withoutSecrets, intent.name);
    if (questions.length && ambiguousBetween && questions.length >= 2) ambiguousBetween = undefined;
    return {
      redactedText,
      normalized,
      script: detectScript(text),
      intent,
      ranking,
      ambiguousBetween,
      method,
      reportsProblem,
      secrets,
      onlySecret,
      fromPayload: false,
      answer,
      clearRequest,
      questions,
      alsoRequested,
      position,
      asks,
    };
  }

  /**
   * The questions of a message, clause by clause: two or more FAQ topics are all answered, in
   * order. A long message that wanders before its question ("我之前绑了…想解绑，但是怕…，解绑后
   * 记录还在吗") is answered for the question it ends with, not for the words it shares with the
   * walkthrough. Clauses without a question cue are background and never answered.
   */
  private questionsIn(text: string, wholeIntent: string): { questions: string[]; alsoRequested: string[] } {
    const clauses = this.clausesOf(text).filter((clause) => [...clause.matchAll(/\p{Script=Han}/gu)].length >= 3);
    if (clauses.length < 2) return { questions: [], alsoRequested: [] };
    const questions: string[] = [];
    const alsoRequested: string[] = [];
    for (const clause of clauses) {
      const normalized = this.normalizeUserText(clause);
      // "…再绑麻烦不": a clause ending in 不 or 没 asks, too.
      if (!this.asks(normalized)) continue;
      const tokens = this.features.extract(normalized);
      if (this.classifier.coverage(tokens) < this.options.minCoverage) continue;
      const top = this.rank(normalized, tokens, {})[0]!;
      if (top.confidence < 0.45 || this.outOfScopeMarkers.some((marker) => normalized.includes(marker))) continue;
      if (faqIntents.has(top.name)) {
        if (!questions.includes(top.name)) questions.push(top.name);
      } else if (top.name === 'unbind_wallet' && !alsoRequested.includes(top.name)) alsoRequested.push(top.name);
    }
    // One question in a message the classifier read as the walkthrough (or as nothing): answer it.
    const wandered = questions.length === 1 && (wholeIntent === 'unbind_wallet' || wholeIntent === fallbackIntent) && [...text].length >= 20;
    if (questions.length >= 2 || wandered) return { questions, alsoRequested: questions.length >= 2 || alsoRequested.length ? alsoRequested : [] };
    if (questions.length === 1 && alsoRequested.length && faqIntents.has(wholeIntent)) return { questions, alsoRequested };
    return { questions: [], alsoRequested: [] };
  }

  /**
   * How the open question's yes/no reader takes the message, if it should read it at all: not a
   * message holding a secret (it is about the secret), not one that names a verification method
   * with a problem ("收不到短信验证码": the method matters), and not one that says the user is
   * further along ("解绑按钮已经点了" at step 1 is not just "done").
   */
  private readAnswer(
    normalized: string,
    found: { hasSecrets: boolean; namesMethodProblem: boolean; position: number | undefined },
    context: ParseContext,
    top: RankedIntent,
  ): YesNo | undefined {
    const expects = context.expects;
    if (!expects || typeof expects !== 'object' || found.hasSecrets || found.namesMethodProblem) return undefined;
    if (top.name === 'jump_ahead' && top.confidence >= 0.5 && found.position !== undefined) return undefined;
    const whole = this.yesNo.read(normalized, expects.yesNo);
    // "找不到微信" is a no at a step, but "找不到" says which help is wanted: the classifier's reading stays.
    const saysWhichHelp = (expects.yesNo === 'done' && top.name === 'step_help') || (expects.yesNo === 'passed' && top.name === 'verification_help');
    if (whole === 'no' && saysWhichHelp && top.confidence >= 0.8) return undefined;
    if (whole !== 'other') return whole;
    // "换了个有信号的地方，收到了，通过了" / "不用了，我明天再试试": the answer first or last, the rest
    // background. Taken when the other clauses neither answer otherwise, nor ask, nor hold back ("等一下").
    const clauses = normalized.split(/[\s\p{P}]+/u).filter(Boolean);
    if (clauses.length < 2) return 'other';
    const read = clauses.map((clause) => this.yesNo.read(clause, expects.yesNo));
    const answer = [read[0], read.at(-1)].find((one) => one === 'yes' || one === 'no');
    if (!answer) return 'other';
    // "不用了，我明天再试试": a no to an offer that opens the message declines it, whatever plan follows.
    const declinedFirst = expects.yesNo === 'offer' && read[0] === 'no';
    const fits = clauses.every((clause, index) => read[index] === answer || (read[index] === 'other' && this.isBackground(clause, declinedFirst)));
    return fits ? answer : 'other';
  }

  /**
   * A clause that neither asks, nor holds back ("等一下"), nor says something the bot would act on
   * ("我要找客服", "谢谢"): background to an answer, like "换了个有信号的地方".
   */
  private isBackground(clause: string, afterADecline = false): boolean {
    if (this.yesNo.holdsBack(clause) || this.asks(clause)) return false;
    const tokens = this.features.extract(clause);
    const top = this.rank(clause, tokens, {})[0]!;
    // After a decline only a request of its own (a human, a stop) is more than background.
    if (afterADecline) return !(drasticIntents.has(top.name) && top.confidence >= 0.6);
    return top.name === fallbackIntent || top.confidence < 0.6 || this.classifier.coverage(tokens) < this.options.minCoverage;
  }

  /** A message cut at punctuation, spaces and the lexicon's clause breaks (另外, 顺便问 …). */
  private clausesOf(text: string): string[] {
    return text.split(this.clauseBreaks);
  }

  private asks(normalized: string): boolean {
    return this.questionCues.some((cue) => normalized.includes(cue)) || /[不没](有)?$/u.test(normalized);
  }

  /**
   * A drastic request is clear when the whole message, or one of its clauses on its own ("还是找不到
   * 我要找客服"), is that intent with confidence and its examples explain the words; a stop must
   * also say what it stops ("算了吧" alone is asked about, "不解绑了" is not).
   */
  private isClearRequest(intent: RankedIntent, normalized: string, tokens: readonly string[], text: string, context: ParseContext): boolean {
    if (intent.name === 'cancel' && !this.cancelCues.some((cue) => normalized.includes(cue))) return false;
    // A stop that names what it stops ("取消解绑") is clear with less confidence: the cue says it.
    const confidenceNeeded = intent.name === 'cancel' ? 0.5 : this.options.drasticConfidence;
    const clear = (candidate: RankedIntent, candidateTokens: readonly string[]) =>
      candidate.name === intent.name &&
      (candidate.confidence === 1 ||
        (candidate.confidence >= confidenceNeeded && this.classifier.explainedBy(candidateTokens, intent.name) >= this.options.drasticExplained));
    if (clear(intent, tokens)) return true;
    return this.clausesOf(text).some((clause) => {
      const clauseNormalized = this.normalizeUserText(clause);
      const clauseTokens = this.features.extract(clauseNormalized);
      return clauseTokens.length > 0 && clear(this.rank(clauseNormalized, clauseTokens, context)[0]!, clauseTokens);
    });
  }

  /**
   * The furthest place the message names, unless the words that name it are the words of a nearer
   * place read another way: "钱包点进去了" is the 钱包 entry tapped (the wallet page, step 5), not
   * "a wallet opened" (step 6). A further place needs words of its own to move the user further.
   */
  private findPosition(normalized: string): number | undefined {
    const named = this.positions.flatMap(([step, places]) => {
      const parts = places.find((place) => place.every((part) => normalized.includes(part)));
      return parts ? [{ step, parts }] : [];
    });
    const overlaps = (a: string, b: string) => a.includes(b) || b.includes(a);
    const furthest = named.find(({ parts }, index) => !named.slice(index + 1).some((nearer) => parts.every((part) => nearer.parts.some((other) => overlaps(part, other)))));
    return furthest?.step;
  }

  private rank(normalized: string, tokens: readonly string[], context: ParseContext): RankedIntent[] {
    const known = this.knownSentences.get(normalized);
    if (known) return [{ name: known, confidence: 1 }, ...this.classifier.labels.filter((label) => label !== known).map((name) => ({ name, confidence: 0 }))];
    const { exampleWeight, exampleSharpness, expectedBoost, softmaxWeight } = this.options;
    const bayes = new Map(this.classifier.rank(tokens).map(({ name, confidence }) => [name, confidence]));
    const softmax = new Map(this.softmax?.rank(tokens).map(({ name, confidence }) => [name, confidence]));
    const nearest = this.matcher.closest(tokens);
    const nearestWeights = new Map(nearest.map(({ name, confidence }) => [name, Math.exp(exampleSharpness * confidence)]));
    const nearestSum = [...nearestWeights.values()].reduce((sum, weight) => sum + weight, 0);
    const expected = new Set(context.expectedIntents ?? []);
    const blended = [...bayes].map(([name, confidence]) => {
      const mixed =
        (1 - exampleWeight - softmaxWeight) * confidence +
        softmaxWeight * (softmax.get(name) ?? 0) +
        (exampleWeight * (nearestWeights.get(name) ?? 0)) / nearestSum;
      return { name, confidence: expected.has(name) ? mixed * expectedBoost : mixed };
    });
    const sum = blended.reduce((total, { confidence }) => total + confidence, 0);
    return blended.map(({ name, confidence }) => ({ name, confidence: confidence / sum })).sort((a, b) => b.confidence - a.confidence);
  }

  private parsePayload(intentName: string, json: string | undefined, entities: { method?: VerificationMethod; step?: number }): ParseResult {
    const method = entities.method;
    const position = entities.step;
    const intent = { name: intentName, confidence: 1 };
    return {
      redactedText: json ? `/${intentName}${json}` : `/${intentName}`,
      normalized: '',
      script: undefined,
      intent,
      ranking: [intent],
      ambiguousBetween: undefined,
      method,
      reportsProblem: false,
      secrets: [],
      onlySecret: false,
      fromPayload: true,
      answer: undefined,
      clearRequest: true,
      questions: [],
      alsoRequested: [],
      position,
      asks: false,
    };
  }

  /** A decline cue right before the human ("不用转人工", "不需要人工客服"), not anywhere ("不要机器人，要人工"). */
  private declinesHuman(normalized: string): boolean {
    const human = normalized.indexOf(this.humanWord);
    return human > 0 && this.declineCues.some((cue) => {
      const at = normalized.lastIndexOf(cue, human);
      return at >= 0 && human - (at + cue.length) <= 2;
    });
  }

  private findMethod(normalized: string): VerificationMethod | undefined {
    return this.methodWords.find(([, word]) => normalized.includes(word))?.[0];
  }
}
