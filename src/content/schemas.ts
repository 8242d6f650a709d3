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

export const responseSchema = z
  .object({
    text: z.string().min(1),
    quickReplies: z.array(quickReplySchema).optional(),
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
    numberUnits: z.array(z.string().min(1)),
    redactionLabels: z
      .object({
        verificationCode: z.string(),
        bankCard: z.string(),
        phone: z.string(),
        idNumber: z.string(),
        password: z.string(),
      })
      .strict(),
  })
  .strict();

export type IntentFile = z.infer<typeof intentFileSchema>;
export type QuickReply = z.infer<typeof quickReplySchema>;
export type Response = z.infer<typeof responseSchema>;
export type Lexicon = z.infer<typeof lexiconSchema>;
export type VerificationMethod = keyof Lexicon['verificationMethods'];
