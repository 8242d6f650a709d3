import { z } from 'zod';

/** A training file in `intents/nlu/`: one intent and what users say for it. */
export const intentFileSchema = z
  .object({
    name: z.string().regex(/^[a-z][a-z_]*$/, 'intent names are snake_case'),
    examples: z.array(z.string().trim().min(1, 'an example is empty')).min(1),
  })
  .strict();

export const quickReplySchema = z
  .object({
    title: z.string().min(1),
    payload: z.string().regex(/^\/[a-z_]+(\{.*\})?$/, 'a payload looks like /intent or /intent{"method":"sms"}'),
  })
  .strict();

/**
 * What a question expects back, so the open question steers how the next message is read:
 * a yes or a no (of a kind: a balance, a step done, a verification passed, the wallet unbound, an
 * offer taken), one of its buttons, or a verification method.
 */
export const yesNoKinds = ['balance', 'done', 'passed', 'unbound', 'offer', 'stop', 'askedToVerify'] as const;
export type YesNoKind = (typeof yesNoKinds)[number];
export const expectationSchema = z.union([z.object({ yesNo: z.enum(yesNoKinds) }).strict(), z.literal('choice'), z.literal('method')]);
export type AnswerExpectation = z.infer<typeof expectationSchema>;

/**
 * How a client should show a reply, when not as an ordinary answer: `warning` is the bot telling the
 * user it hid a secret they typed, so a widget can mark it without reading the Chinese.
 */
export const replyTones = ['warning'] as const;
export type ReplyTone = (typeof replyTones)[number];

/**
 * The pictures a client can draw inside a reply: the phone screen of an unbinding step with the
 * spot to tap highlighted (`step6Menu` is step 6's screen with the "…" menu highlighted, for when
 * the 解绑 button is not on the page). Content names the picture; the widget draws it.
 */
export const replyPictures = ['step1', 'step2', 'step3', 'step4', 'step5', 'step6', 'step6Menu', 'step7'] as const;
export type ReplyPicture = (typeof replyPictures)[number];
export const isReplyPicture = (value: unknown): value is ReplyPicture => replyPictures.includes(value as ReplyPicture);

export const responseSchema = z
  .object({
    text: z.string().min(1),
    quickReplies: z.array(quickReplySchema).optional(),
    expects: expectationSchema.optional(),
    tone: z.enum(replyTones).optional(),
    picture: z.enum(replyPictures).optional(),
  })
  .strict();

/** A file in `intents/responses/`: response id → what the bot says. */
export const responsesFileSchema = z.record(z.string().regex(/^[a-zA-Z0-9_.]+$/), responseSchema);

export const lexiconSchema = z
  .object({
    synonyms: z.record(z.string(), z.array(z.string().min(1))),
    outOfScopeMarkers: z.array(z.string().min(1)),
    verificationMethods: z
      .object({
        sms: z.array(z.string().min(1)),
        biometric: z.array(z.string().min(1)),
        securityQuestion: z.array(z.string().min(1)),
      })
      .strict(),
    verificationProblemCues: z.array(z.string().min(1)),
    declineHuman: z.object({ cues: z.array(z.string().min(1)), target: z.string().min(1) }).strict(),
    passwordCues: z.array(z.string().min(1)).min(1),
    passwordConnectors: z.array(z.string().min(1)),
    codeCues: z.array(z.string().min(1)).min(1),
    cvvCues: z.array(z.string().min(1)).min(1),
    notSecretCues: z.array(z.string().min(1)),
    serviceNumbers: z.array(z.string().regex(/^[0-9#]+$/, 'a service number is digits, with # for any digit')),
    numberUnits: z.array(z.string().min(1)),
    positions: z.record(z.string().regex(/^[1-7]$/, 'a position names the step to do next, 1 to 7'), z.array(z.string().min(1))),
    questionCues: z.array(z.string().min(1)),
    clauseBreaks: z.array(z.string().min(1)),
    cancelCues: z.array(z.string().min(1)),
    conditionalCues: z.array(z.string().min(1)).default([]),
    goingToDoCues: z.array(z.string().min(1)).default([]),
    contactDetailCues: z.array(z.string().min(1)),
    redactionLabels: z
      .object({
        verificationCode: z.string(),
        bankCard: z.string(),
        phone: z.string(),
        idNumber: z.string(),
        password: z.string(),
        cvv: z.string(),
        longNumber: z.string(),
      })
      .strict(),
  })
  .strict();

const words = z.array(z.string().min(1));
const answerKind = z.object({ yes: words.default([]), no: words.default([]), neutral: words.default([]) }).strict();

/** `intents/answers.yml`: the words of Chinese yes/no answers, generic and per kind of question. */
export const answerWordsSchema = z
  .object({
    particles: words,
    /** Thanks: they keep a no a no, and leave a yes to the classifier ("好的谢谢" mostly closes the topic). */
    politeness: words.default([]),
    hedges: words,
    negators: words,
    yes: words,
    no: words,
    notAnAnswer: words,
    kinds: z.object(Object.fromEntries(yesNoKinds.map((kind) => [kind, answerKind])) as Record<YesNoKind, typeof answerKind>).strict(),
  })
  .strict();
export type AnswerWords = z.infer<typeof answerWordsSchema>;

const phraseOverrides = z.record(z.string().min(1, 'a phrase is empty'), z.string().min(1, 'its wording is empty'));

/** `intents/wording.yml`: per traditional script, simplified phrases and what users read instead. */
export const wordingSchema = z.object({ 'hant-tw': phraseOverrides.default({}), 'hant-hk': phraseOverrides.default({}) }).strict();

export type IntentFile = z.infer<typeof intentFileSchema>;
export type QuickReply = z.infer<typeof quickReplySchema>;
export type Response = z.infer<typeof responseSchema>;
export type Lexicon = z.infer<typeof lexiconSchema>;
export type VerificationMethod = keyof Lexicon['verificationMethods'];
