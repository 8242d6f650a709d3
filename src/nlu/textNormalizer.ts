import type { Lexicon } from '../content/schemas.js';
import { toSimplified, toTraditional } from './scriptConverter.js';

export { toSimplified, toTraditional };

/** Full-width ASCII (ＷｅＣｈａｔ，１２３) and the ideographic space fold to their half-width forms, one code unit for one. */
export function foldWidth(text: string): string {
  return text.replace(/[\uFF01-\uFF5E\u3000]/g, (char) =>
    char === '\u3000' ? ' ' : String.fromCharCode(char.charCodeAt(0) - 0xfee0),
  );
}

export type Script = 'simplified' | 'traditional';

/**
 * Which script a message is written in, or undefined when it has no character that tells
 * (digits, English, or characters the two scripts share such as 好 and 我).
 */
export function detectScript(text: string): Script | undefined {
  const simplified = toSimplified(text);
  if (simplified !== text) return 'traditional';
  return /\p{Script=Han}/u.test(text) && toTraditional(text) !== text ? 'simplified' : undefined;
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const isAlphanumeric = (text: string) => /^[a-z0-9 ]+$/.test(text);

/**
 * Turns raw user text into the form the classifier was trained on: half-width, lower case,
 * simplified characters, one spelling per domain word.
 */
export class TextNormalizer {
  private readonly synonymPattern: RegExp;
  private readonly canonicalOf: Map<string, string>;

  constructor(lexicon: Pick<Lexicon, 'synonyms'>) {
    this.canonicalOf = new Map();
    for (const [canonical, variants] of Object.entries(lexicon.synonyms)) {
      // The canonical word maps to itself so that "人工客服" is not rewritten by its own variant "人工".
      for (const word of [canonical, ...variants]) {
        this.canonicalOf.set(toSimplified(word.toLowerCase()), canonical);
      }
    }
    // Longest first: the regex engine takes the first alternative that matches at a position.
    const alternatives = [...this.canonicalOf.keys()]
      .sort((a, b) => b.length - a.length)
      // English and number variants only match whole words: "pay" not inside "paypal", "88" not inside "1888".
      .map((word) => (isAlphanumeric(word) ? `(?<![a-z0-9])${escapeRegExp(word)}(?![a-z0-9])` : escapeRegExp(word)));
    this.synonymPattern = new RegExp(alternatives.join('|'), 'g');
  }

  normalize(text: string): string {
    const folded = toSimplified(foldWidth(text.normalize('NFC')).toLowerCase());
    return folded
      .replace(this.synonymPattern, (match) => this.canonicalOf.get(match) ?? match)
      .replace(/\s+/g, ' ')
      .trim();
  }
}
