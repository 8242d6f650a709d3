import { foldWidth } from './textNormalizer.js';

/**
 * Bidi controls (LRE…RLO, LRI…PDI, LRM/RLM, ALM) and invisible characters (zero-width space, joiners,
 * word joiner, BOM, soft hyphen). Nobody means them in a chat message; stored, an RTL override turns
 * "[卡号]" into "[号卡]" on the dashboard, and inside a number they hide it from detection.
 * Variation selectors stay: they choose how an emoji looks.
 */
export const invisibleCharacters = /[\u202A-\u202E\u2066-\u2069\u200E\u200F\u061C\u200B-\u200D\u2060\uFEFF\u00AD]/g;

export function removeInvisible(text: string): string {
  return text.replace(invisibleCharacters, '');
}

/** Chinese and financial numerals, traditional forms, and the spoken 两 (2) and 幺 (1 in phone numbers). */
const chineseDigits: Record<string, string> = {
  零: '0', 〇: '0', 一: '1', 二: '2', 三: '3', 四: '4', 五: '5', 六: '6', 七: '7', 八: '8', 九: '9',
  壹: '1', 贰: '2', 貳: '2', 叁: '3', 參: '3', 肆: '4', 伍: '5', 陆: '6', 陸: '6', 柒: '7', 捌: '8', 玖: '9',
  两: '2', 兩: '2', 幺: '1',
};
const chineseDigit = `[${Object.keys(chineseDigits).join('')}]`;
const anyDigit = `(?:[0-9]|${chineseDigit})`;
/**
 * A run of digits in either spelling, one separator at most between two of them. Only a run of at
 * least four, with at least two Chinese numerals (or all of them), is read as digits: "第七步", "三次",
 * "一个" and "5000零钱" stay words.
 */
const numeralRun = new RegExp(`${anyDigit}(?:[ .\\-/]?${anyDigit}){3,}`, 'g');

/**
 * The text as the detector reads it, with where each of its characters came from. Secrets are found
 * in `text`; `spanOf` turns a span of it back into the span of what the user wrote, so a replacement
 * removes the whole spelled secret (separators, full-width digits, numerals) and nothing else.
 */
export interface DetectionView {
  /** Invisible characters dropped; width folded, lower case, compatibility forms (①, 𝟙) as digits; numerals and a letter O between digits read as digits. */
  text: string;
  /** For each character of `text`, the index in the original where it starts and ends. */
  starts: number[];
  ends: number[];
}

export function detectionView(original: string): DetectionView {
  let text = '';
  const starts: number[] = [];
  const ends: number[] = [];
  for (let index = 0; index < original.length; ) {
    const char = String.fromCodePoint(original.codePointAt(index)!);
    const end = index + char.length;
    invisibleCharacters.lastIndex = 0;
    if (!invisibleCharacters.test(char)) {
      let read = foldWidth(char);
      // ①, 𝟙, ² and the like are digits to a reader; NFKC says which (one character only, so "㎡" stays).
      if (read === char && /\p{N}/u.test(char)) {
        const compatible = char.normalize('NFKC');
        if (/^[0-9]$/.test(compatible)) read = compatible;
      }
      const lower = read.toLowerCase();
      // One entry per UTF-16 unit, so a view index is a string index.
      for (let unit = 0; unit < lower.length; unit++) {
        starts.push(index);
        ends.push(end);
      }
      text += lower;
    }
    index = end;
  }
  // A letter O typed for a zero between digits ("6O2718"): same length, so the map still holds.
  text = text.replace(/(?<=[0-9])o(?=[0-9])/g, '0');
  text = text.replace(numeralRun, (run) => {
    const chinese = [...run].filter((char) => char in chineseDigits).length;
    return chinese >= 2 ? [...run].map((char) => chineseDigits[char] ?? char).join('') : run;
  });
  return { text, starts, ends };
}

/** The original span a span [from, to) of the view came from. */
export function originalSpan(view: DetectionView, from: number, to: number): [number, number] {
  return [view.starts[from]!, view.ends[to - 1]!];
}
