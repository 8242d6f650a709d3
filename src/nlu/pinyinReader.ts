import { pinyin } from 'pinyin-pro';

const hanRun = /\p{Script=Han}+/gu;
/** Runs of Latin letters with the spaces and apostrophes between them: "wo yijing zai qian'bao". */
const latinRun = /[a-z]+(?:[\s']+[a-z]+)*/g;
const longestWord = 4;

/**
 * Reads pinyin typed without tones ("zenme jiebang qianbao", "meiyou") as the Chinese the bot
 * was trained on. Syllables are cut by the syllables of the training sentences, and each run of
 * syllables becomes the most frequent training word (up to four characters) that sounds the same,
 * so "jiebang" is 解绑 and not some other 解帮: the corpus says which characters are meant.
 * English words the lexicon does not know stay as they are: they do not cut into syllables.
 */
export class PinyinReader {
  /** Toneless syllables → the training words that sound like them, with how often each was seen. */
  private readonly words = new Map<string, Map<string, number>>();
  private readonly syllables = new Set<string>();
  private readonly longestSyllable: number;

  constructor(sentences: Iterable<string>) {
    for (const sentence of sentences) {
      for (const run of sentence.match(hanRun) ?? []) {
        const chars = [...run];
        const sounds = pinyin(run, { toneType: 'none', type: 'array', v: true }).map((sound) => sound.toLowerCase());
        if (sounds.length !== chars.length) continue;
        for (const sound of sounds) this.syllables.add(sound);
        for (let start = 0; start < chars.length; start++) {
          for (let length = 1; length <= longestWord && start + length <= chars.length; length++) {
            const key = sounds.slice(start, start + length).join(' ');
            const word = chars.slice(start, start + length).join('');
            const seen = this.words.get(key) ?? new Map<string, number>();
            seen.set(word, (seen.get(word) ?? 0) + 1);
            this.words.set(key, seen);
          }
        }
      }
    }
    this.longestSyllable = Math.max(0, ...[...this.syllables].map((syllable) => syllable.length));
  }

  /** The text with every run that is all pinyin written in characters; anything else unchanged. */
  read(normalized: string): string {
    if (!/[a-z]/.test(normalized)) return normalized;
    return normalized.replace(latinRun, (run) => {
      const syllables = run.split(/[\s']+/).map((token) => this.cut(token));
      // One short token ("ok", "a") is more likely English or a typo than pinyin.
      if (syllables.some((cut) => cut === undefined)) return run;
      const all = syllables.flat() as string[];
      if (all.length < 2) return run;
      return this.spell(all) ?? run;
    });
  }

  /** Cuts one token into training syllables, fewest syllables first ("xian" is 先, not "xi an"). */
  private cut(token: string): string[] | undefined {
    const normalizedToken = token.replace(/ü/g, 'v');
    const best: (string[] | undefined)[] = [[]];
    for (let end = 1; end <= normalizedToken.length; end++) {
      for (let length = Math.min(this.longestSyllable, end); length >= 1; length--) {
        const before = best[end - length];
        const syllable = normalizedToken.slice(end - length, end);
        if (before && this.syllables.has(syllable) && (!best[end] || before.length + 1 < best[end]!.length)) best[end] = [...before, syllable];
      }
    }
    return best[normalizedToken.length];
  }

  /** The syllables as characters, longest known word first; undefined when one is never seen. */
  private spell(syllables: string[]): string | undefined {
    let text = '';
    for (let at = 0; at < syllables.length; ) {
      let matched = 0;
      for (let length = Math.min(longestWord, syllables.length - at); length >= 1; length--) {
        const seen = this.words.get(syllables.slice(at, at + length).join(' '));
        if (!seen) continue;
        text += [...seen].sort((a, b) => b[1] - a[1])[0]![0];
        matched = length;
        break;
      }
      if (!matched) return undefined;
      at += matched;
    }
    return text;
  }
}
