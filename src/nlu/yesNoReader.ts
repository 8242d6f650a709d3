import type { AnswerWords, YesNoKind } from '../content/schemas.js';

export type YesNo = 'yes' | 'no' | 'other';

/** `undone`: a kind's own no that says something is finished or gone (提完了, 失败); a negator before it turns it round (还没提完). */
type WordRole = 'particle' | 'thanks' | 'hedge' | 'negator' | 'yes' | 'no' | 'undone' | 'notAnAnswer';

/** Punctuation, spaces and symbols carry nothing in a short answer (emoji are words, kept), but part it. */
const separators = /[\s\p{P}~～^＾]+/gu;
const breakMark = '\u0000';

/**
 * Reads a short Chinese answer to a yes/no question, the way people write them: echo answers
 * (有 / 没有, 通过了 / 没通过, 解绑了), negation anywhere (还没好, 不需要, 未通过), particles and
 * doubling (嗯嗯, 对的呀, 好滴), hedges (好像还有一点), English and emoji (after the lexicon's
 * spellings). Character n-grams cannot tell 有 from 没有; this reader exists for that.
 *
 * It answers only when its words explain the whole message; "不解绑了" or "余额怎么办" are "other",
 * left to the intent classifier, so a new request is never taken for a yes or a no.
 */
export class YesNoReader {
  /** Per kind of question: word → role, longest words first when matching. */
  private readonly vocabularies = new Map<YesNoKind, { roles: Map<string, WordRole>; longest: number }>();

  private readonly notAnAnswer: string[];

  constructor(words: AnswerWords) {
    // 解绑 and the like are "not an answer" only as words of their own; for holding back, the hesitations count.
    this.notAnAnswer = words.notAnAnswer.map(compact).filter((word) => word.length > 1 && !['解绑', '绑定', '转人工'].includes(word));
    for (const kind of Object.keys(words.kinds) as YesNoKind[]) {
      const roles = new Map<string, WordRole>();
      // Later entries win: the kind's own words over the generic ones, "not an answer" over all.
      const add = (list: readonly string[], role: WordRole) => {
        for (const word of list) roles.set(compact(word), role);
      };
      add(words.particles, 'particle');
      add(words.politeness, 'thanks');
      add(words.kinds[kind].neutral, 'particle');
      add(words.hedges, 'hedge');
      add(words.negators, 'negator');
      add(words.yes, 'yes');
      add(words.no, 'no');
      add(words.kinds[kind].yes, 'yes');
      add(words.kinds[kind].no, 'undone');
      add(words.notAnAnswer, 'notAnAnswer');
      roles.delete('');
      this.vocabularies.set(kind, { roles, longest: Math.max(...[...roles.keys()].map((word) => [...word].length)) });
    }
  }

  /** Whether the text holds a word that is never an answer ("等一下", "什么意思", "不知道"). */
  holdsBack(normalized: string): boolean {
    const text = compact(normalized);
    return this.notAnAnswer.some((word) => text.includes(word));
  }

  /** @param normalized the message after TextNormalizer (simplified, lower case, lexicon spellings). */
  read(normalized: string, kind: YesNoKind): YesNo {
    const vocabulary = this.vocabularies.get(kind);
    if (!vocabulary) return 'other';
    // Separators become one break: "没有，用完了" is two answers (no, used up), "没有用完" one (not used up).
    const chars = [...normalized.toLowerCase().replace(separators, breakMark)];
    const length = chars.filter((char) => char !== breakMark).length;
    if (length === 0 || length > 20) return 'other';
    const words: { word: string; role: WordRole | 'break' }[] = [];
    let unexplained = 0;
    for (let at = 0; at < chars.length; ) {
      if (chars[at] === breakMark) {
        words.push({ word: breakMark, role: 'break' });
        at++;
        continue;
      }
      let matched = 0;
      for (let length = Math.min(vocabulary.longest, chars.length - at); length > 0; length--) {
        const word = chars.slice(at, at + length).join('');
        const role = vocabulary.roles.get(word);
        if (role) {
          words.push({ word, role });
          matched = length;
          break;
        }
      }
      if (matched === 0) {
        // An amount in "还有十几块", "大概三十块" or "剩 3 块" is part of the answer; anything else is not explained.
        if (!/[\p{N}零一二两三四五六七八九十百千万几块元毛角分]/u.test(chars[at]!)) unexplained++;
        matched = 1;
      }
      at += matched;
    }
    // Every word must be an answer word: "我不想解绑了" holds a no, but says something else.
    if (unexplained > 0 || words.some(({ role }) => role === 'notAnAnswer')) return 'other';
    // "还没提完" / "没全取出来" / "没失败": a negation right before a kind's own no (particles between,
    // no break) says the opposite. Any other negator or no (还没好, 不需要, 提完了) makes it a no.
    const turned: WordRole[] = [];
    // Where in `turned` the last negation stands, while the next word (particles aside) may be the no it turns round.
    let negation: number | undefined;
    for (const word of words) {
      if (word.role === 'particle') continue;
      if (word.role === 'break') {
        negation = undefined;
      } else if (word.role === 'undone' && negation !== undefined) {
        turned[negation] = 'yes';
        negation = undefined;
      } else {
        negation = isNegation(word) ? turned.length : undefined;
        turned.push(word.role);
      }
    }
    if (turned.some((role) => role === 'no' || role === 'undone' || role === 'negator')) return 'no';
    // "好的谢谢" after an answer and its offer mostly closes the topic: a thanked yes is left to the
    // classifier (thanks) rather than taken as a yes that starts something. A thanked no stays a no.
    if (turned.includes('yes') && !turned.includes('thanks')) return 'yes';
    return 'other';
  }
}

/** Generic noes that are a negation of what follows when something follows ("没有用完", "还没花完"). */
const negatingNoes = new Set(['没有', '还没', '还没有']);

function isNegation({ word, role }: { word: string; role: WordRole | 'break' }): boolean {
  return role === 'negator' || (role === 'no' && negatingNoes.has(word));
}

function compact(text: string): string {
  return text.toLowerCase().replace(separators, '');
}
