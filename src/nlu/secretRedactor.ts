import type { Lexicon } from '../content/schemas.js';
import { foldWidth } from './textNormalizer.js';

export type SecretKind = 'password' | 'idNumber' | 'bankCard' | 'phone' | 'verificationCode';

export interface RedactionResult {
  /** The text with every secret replaced by its label, e.g. "我的验证码是[验证码]". */
  text: string;
  /** What was found, in the order found; empty when the text holds no secret. */
  kinds: SecretKind[];
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Finds the secrets people paste into a support chat (verification codes, card, phone and ID
 * numbers, passwords) so that none of them is ever stored or logged as typed.
 * It errs towards redacting: a stray long number costs nothing, a leaked card number does.
 */
export class SecretRedactor {
  private readonly patterns: { kind: SecretKind; pattern: RegExp }[];
  private readonly labels: Lexicon['redactionLabels'];

  constructor(lexicon: Pick<Lexicon, 'passwordCues' | 'passwordConnectors' | 'numberUnits' | 'redactionLabels'>) {
    this.labels = lexicon.redactionLabels;
    const cues = lexicon.passwordCues.map(escapeRegExp).join('|');
    const connectors = lexicon.passwordConnectors.map(escapeRegExp).join('|');
    const units = [...lexicon.numberUnits].sort((a, b) => b.length - a.length).map(escapeRegExp).join('|');
    const noDigitBefore = '(?<![0-9])';
    const noDigitAfter = '(?![0-9])';
    this.patterns = [
      // The cue stays so the transcript still says a password was shared; only the value goes.
      // A value counts after a connector ("密码是…", "password: …"), or straight after the cue
      // when it is ASCII ("密码abc123"), so "密码忘了怎么办" is left alone.
      { kind: 'password', pattern: new RegExp(`((?:${cues})\\s*(?:(?:${connectors})\\s*[:=]?|[:=])\\s*)([^\\s,;!?\\u3001\\u3002]{3,})`, 'giu') },
      { kind: 'password', pattern: new RegExp(`((?:${cues})\\s*)([\\x21-\\x7e]{4,})`, 'giu') },
      { kind: 'idNumber', pattern: new RegExp(`${noDigitBefore}(?:[1-9][0-9]{5}(?:18|19|20)[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])[0-9]{3}[0-9x]|[1-9][0-9]{14})(?![0-9a-z])`, 'gi') },
      // Phone before card: an 11-digit mobile number would otherwise fall in the card range
      // only when grouped, but "+86 138 0013 8000" should still read as a phone.
      { kind: 'phone', pattern: new RegExp(`${noDigitBefore}(?:\\+?86[ -]?)?1[3-9][0-9](?:[ -]?[0-9]{4}){2}${noDigitAfter}`, 'g') },
      { kind: 'bankCard', pattern: new RegExp(`${noDigitBefore}[0-9](?:[ -]?[0-9]){12,18}${noDigitAfter}`, 'g') },
      // Not a code: part of a time, date, version or price ("10:30:00", "2024-05-12", "1234.50",
      // "¥1288"). A label before it ("验证码：482913") or a full stop after it ("是 482913。") is.
      { kind: 'verificationCode', pattern: new RegExp(`${noDigitBefore}(?<![¥\\uFFE5$][ ]?)(?<![0-9][.:/-])[0-9]{4,8}(?![0-9])(?![.:/-][0-9])(?!\\s*(?:${units}))`, 'giu') },
    ];
  }

  redact(input: string): RedactionResult {
    // Patterns match on width-folded text ("１２３４５６" is a code too), but what the user wrote
    // outside a secret is kept as written: folding maps one UTF-16 unit to one, so positions agree.
    let folded = foldWidth(input);
    let text = input;
    const kinds: SecretKind[] = [];
    for (const { kind, pattern } of this.patterns) {
      let nextFolded = '';
      let nextText = '';
      let from = 0;
      for (const match of folded.matchAll(pattern)) {
        kinds.push(kind);
        const kept = kind === 'password' ? match[1]!.length : 0;
        const start = match.index;
        nextFolded += folded.slice(from, start + kept) + this.labels[kind];
        nextText += text.slice(from, start + kept) + this.labels[kind];
        from = start + match[0].length;
      }
      folded = nextFolded + folded.slice(from);
      text = nextText + text.slice(from);
    }
    return { text, kinds };
  }

  /** Removes the labels `redact` put in, leaving the words around them. */
  strip(redacted: string): string {
    let text = redacted;
    for (const label of Object.values(this.labels)) text = text.split(label).join(' ');
    return text;
  }
}
