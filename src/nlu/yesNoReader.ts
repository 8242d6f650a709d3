import type { AnswerWords, YesNoKind } from '../content/schemas.js';

export type YesNo = 'yes' | 'no' | 'other';

type WordRole = 'particle' | 'thanks' | 'hedge' | 'negator' | 'yes' | 'no' | 'notAnAnswer';

/** Punctuation, spaces and symbols carry nothing in a short answer (emoji are words, kept). */
const separators = /[\s\p{P}~～^＾]/gu;

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
      add(words.kinds[kind].no, 'no');
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
    const chars = [...compact(normalized)];
    if (chars.length === 0 || chars.length > 20) return 'other';
    const roles: WordRole[] = [];
    let unexplained = 0;
    for (let at = 0; at < chars.length; ) {
      let matched = 0;
      for (let length = Math.min(vocabulary.longest, chars.length - at); length > 0; length--) {
        const role = vocabulary.roles.get(chars.slice(at, at + length).join(''));
        if (role) {
          roles.push(role);
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
    if (roles.includes('notAnAnswer') || unexplained > 0) return 'other';
    if (roles.includes('no') || roles.includes('negator')) return 'no';
    // "好的谢谢" after an answer and its offer mostly closes the topic: a thanked yes is left to the
    // classifier (thanks) rather than taken as a yes that starts something. A thanked no stays a no.
    if (roles.includes('yes') && !roles.includes('thanks')) return 'yes';
    return 'other';
  }
}

function compact(text: string): string {
  return text.toLowerCase().replace(separators, '');
}
