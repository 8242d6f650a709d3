import type { Lexicon } from '../content/schemas.js';
import { detectionView, originalSpan, removeInvisible, type DetectionView } from './detectionView.js';
import { findDigitRuns, isKeptShape, type DigitRun } from './digitRuns.js';

export type SecretKind = keyof Lexicon['redactionLabels'];

/**
 * Where the conversation is when the message arrives. At the SMS-code step a 4–8 digit number is a
 * code whatever words surround it; at the password step it is the password, and so is any token
 * mixing letters with digits or symbols.
 */
export type RedactionStep = 'smsCode' | 'paymentPassword';
export interface RedactionContext {
  atStep?: RedactionStep | undefined;
}

/**
 * Which rules wrote a stored text. Bump it when the rules find more, so that a store opened by the
 * new version redacts again what an older one kept (see src/storage/reRedaction.ts).
 */
export const redactionVersion = 2;

export interface RedactionResult {
  /** The text with every secret replaced by its label ("我的验证码是[验证码]") and invisible characters removed. */
  text: string;
  /** What was found, in the order it appears; empty when the text holds no secret. */
  kinds: SecretKind[];
}

type RedactionLexicon = Pick<
  Lexicon,
  'passwordCues' | 'passwordConnectors' | 'codeCues' | 'cvvCues' | 'notSecretCues' | 'serviceNumbers' | 'numberUnits' | 'redactionLabels'
>;

interface Found {
  from: number;
  to: number;
  kind: SecretKind;
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** Longest first, English words whole ("pass" not inside "passport"), all lower case as the view is. */
const alternation = (words: readonly string[]) =>
  [...words]
    .map((word) => word.toLowerCase())
    .sort((a, b) => b.length - a.length)
    .map((word) => (/^[a-z]/.test(word) ? `(?<![a-z])${escapeRegExp(word)}(?![a-z])` : escapeRegExp(word)))
    .join('|');

/** How far before a number a cue still speaks of it ("验证码发过来了 719 305"). */
const cueWindow = 12;

/**
 * Finds the secrets people paste into a support chat (verification codes, card, phone and ID
 * numbers, passwords, CVVs) however they spell them, so that none is ever stored or logged as
 * typed. Detection reads a normalised view of the message (widths, numerals, separators,
 * invisible characters; see detectionView.ts); the replacement removes the whole spelled span from
 * what the user wrote and leaves the rest as written. It errs towards redacting: a stray long
 * number costs nothing, a leaked card number does.
 */
export class SecretRedactor {
  private readonly labels: Lexicon['redactionLabels'];
  private readonly password: RegExp;
  private readonly cvv: RegExp;
  private readonly codeCue: RegExp;
  private readonly notSecretCue: RegExp;
  private readonly currencyBefore = /(?:[¥￥$]|rmb|usd|hkd)\s*$/;
  private readonly unitAfter: RegExp;
  private readonly serviceNumbers: RegExp;

  constructor(lexicon: RedactionLexicon) {
    this.labels = lexicon.redactionLabels;
    const connectors = alternation(lexicon.passwordConnectors);
    // The cue stays so the transcript still says a password was shared; only the value goes. The
    // value is ASCII (one or more words: "qwer 1234"), after a connector, a colon or nothing.
    this.password = new RegExp(
      `(?:${alternation(lexicon.passwordCues)})\\s*(?<connector>${connectors})?\\s*["'“”‘’]?\\s*(?<colon>[:=])?\\s*["'“”‘’]?\\s*(?<value>[\\x21-\\x7e]+(?: [\\x21-\\x7e]+)*)`,
      'g',
    );
    this.cvv = new RegExp(`(?:${alternation(lexicon.cvvCues)})[^0-9\\n]{0,6}?(?<value>[0-9](?: ?[0-9]){2,3})(?![0-9])`, 'g');
    this.codeCue = new RegExp(alternation(lexicon.codeCues));
    this.notSecretCue = new RegExp(`(?:${alternation(lexicon.notSecretCues)})\\s*$`);
    this.unitAfter = new RegExp(`^\\s*(?:${alternation(lexicon.numberUnits)})`);
    this.serviceNumbers = new RegExp(`^(?:${lexicon.serviceNumbers.map((pattern) => pattern.replace(/#/g, '[0-9]')).join('|')})$`);
  }

  redact(input: string, context: RedactionContext = {}): RedactionResult {
    const view = detectionView(input);
    const found: Found[] = [];
    const claim = (from: number, to: number, kind: SecretKind) => {
      if (to > from && !found.some((other) => from < other.to && other.from < to)) found.push({ from, to, kind });
    };
    this.findPasswords(view.text, claim);
    this.findCvvs(view.text, claim);
    // Before the numbers: "wang1980" is one password, not "wang" and a code.
    if (context.atStep === 'paymentPassword') this.findPasswordTokens(view.text, claim);
    for (const run of findDigitRuns(view.text)) {
      const secret = this.classify(view.text, run, context);
      if (secret) claim(secret.from, secret.to, secret.kind);
    }
    return this.replace(input, view, found);
  }

  /** Removes the labels `redact` put in, leaving the words around them. */
  strip(redacted: string): string {
    let text = redacted;
    for (const label of Object.values(this.labels)) text = text.split(label).join(' ');
    return text;
  }

  private findPasswords(text: string, claim: (from: number, to: number, kind: SecretKind) => void): void {
    for (const match of text.matchAll(this.password)) {
      const { connector, colon } = match.groups!;
      let value = match.groups!['value']!;
      // A full stop, a comma or the closing quote of a payload's JSON ends the value.
      value = value.replace(/[,.;?"'}\])]+$/, '');
      // "密码是abc", "password: hunter": any value. "pwd 836192", "password reset": only one that
      // looks like a password (a digit or a symbol), so English words after a cue stay.
      const saidSo = colon !== undefined || (connector !== undefined && !/^[a-z]/.test(connector));
      const looksLikeOne = /[0-9]/.test(value) || /[^a-z0-9 ]/.test(value);
      if (value.length < 3 || !(saidSo || looksLikeOne)) continue;
      const from = match.index + match[0].length - match.groups!['value']!.length;
      claim(from, from + value.length, 'password');
    }
  }

  private findCvvs(text: string, claim: (from: number, to: number, kind: SecretKind) => void): void {
    for (const match of text.matchAll(this.cvv)) {
      const value = match.groups!['value']!;
      const from = match.index + match[0].length - value.length;
      claim(from, from + value.length, 'cvv');
    }
  }

  /** At the password step: what the user typed there that looks like a password is one. */
  private findPasswordTokens(text: string, claim: (from: number, to: number, kind: SecretKind) => void): void {
    for (const match of text.matchAll(/[\x21-\x7e]{3,}/g)) {
      const token = match[0];
      if (/[0-9]/.test(token) || /[a-z].*[^a-z0-9]|[^a-z0-9/].*[a-z]/.test(token)) claim(match.index, match.index + token.length, 'password');
    }
  }

  /** What a run of digits is, or nothing when it is an amount, a date, a count, a version or a year. */
  private classify(text: string, run: DigitRun, context: RedactionContext): Found | undefined {
    if (isKeptShape(text, run)) return undefined;
    const before = text.slice(Math.max(0, run.from - cueWindow), run.from);
    if (this.currencyBefore.test(before) || this.unitAfter.test(text.slice(run.to))) return undefined;
    const { digits } = run;
    const length = digits.length;
    if (length < 4) return undefined;
    if (length <= 8) {
      if (this.notSecretCue.test(before)) return undefined;
      if (context.atStep === 'paymentPassword') return { from: run.from, to: run.to, kind: 'password' };
      const cued = context.atStep === 'smsCode' || this.cueBefore(before) || this.codeCue.test(text.slice(run.to, run.to + 4));
      if (!cued) {
        const year = Number(digits);
        if (run.separators === 0 && length === 4 && year >= 1950 && year <= 2099) return undefined;
        if (run.separators === 0 && this.serviceNumbers.test(digits)) return undefined;
      }
      return { from: run.from, to: run.to, kind: 'verificationCode' };
    }
    if (run.separators === 0 && this.serviceNumbers.test(digits)) return undefined;
    const mobile = /^1[3-9][0-9]{9}$/;
    if (mobile.test(digits)) return { from: run.from, to: run.to, kind: 'phone' };
    // "+86 177 3041 9826": the mobile number is the secret, the country code stays.
    const country = /^(?:0086|86)/.exec(digits)?.[0];
    if (country && mobile.test(digits.slice(country.length))) return { from: run.digitAt[country.length]!, to: run.to, kind: 'phone' };
    const birth = digits.slice(6, 14);
    const idShaped = /^[1-9][0-9]{16}[0-9x]$/.test(digits) && /^(?:18|19|20)[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])$/.test(birth);
    if (idShaped || /^[1-9][0-9]{14}$/.test(digits)) return { from: run.from, to: run.to, kind: 'idNumber' };
    if (length >= 12 && length <= 19) return { from: run.from, to: run.to, kind: 'bankCard' };
    return { from: run.from, to: run.to, kind: 'longNumber' };
  }

  /** A code cue in the window before a number, with no other number between them. */
  private cueBefore(before: string): boolean {
    return this.codeCue.test(before.slice(before.search(/[0-9][^0-9]*$/) + 1));
  }

  /** The user's text with each found span (mapped back to what was typed) replaced by its label, invisible characters gone. */
  private replace(input: string, view: DetectionView, found: Found[]): RedactionResult {
    found.sort((a, b) => a.from - b.from);
    let text = '';
    let from = 0;
    for (const secret of found) {
      const [start, end] = originalSpan(view, secret.from, secret.to);
      text += removeInvisible(input.slice(from, start)) + this.labels[secret.kind];
      from = end;
    }
    text += removeInvisible(input.slice(from));
    return { text, kinds: found.map((secret) => secret.kind) };
  }
}
