import * as OpenCC from 'opencc-js';
import { Trie } from 'opencc-js/core';
import CJKCompatibilityIdeographs from 'opencc-js/dict/CJK_Compatibility_Ideographs';
import HKPhrases from 'opencc-js/dict/HKPhrases';
import HKVariants from 'opencc-js/dict/HKVariants';
import HKVariantsPhrases from 'opencc-js/dict/HKVariantsPhrases';
import STCharacters from 'opencc-js/dict/STCharacters';
import STPhrases from 'opencc-js/dict/STPhrases';
import STPhrasesGenerated from 'opencc-js/dict/STPhrases_GeneratedFromRegionalPhrases';
import TWPhrases from 'opencc-js/dict/TWPhrases';
import TWVariants from 'opencc-js/dict/TWVariants';
import TWVariantsPhrases from 'opencc-js/dict/TWVariantsPhrases';

/**
 * The script and wording a reply is written in: simplified, or traditional with Taiwan's or Hong
 * Kong's words (簡訊 / 短訊 for 短信, 軟體 / 軟件 for 软件). Clients show their own labels in it too.
 */
export const replyScripts = ['hans', 'hant-tw', 'hant-hk'] as const;
export type ReplyScript = (typeof replyScripts)[number];
export type TraditionalScript = Exclude<ReplyScript, 'hans'>;

/** The language tag of text in each traditional script. */
const languageTags: Record<TraditionalScript, string> = { 'hant-tw': 'zh-TW', 'hant-hk': 'zh-HK' };

/**
 * Where OpenCC's phrase tables word something wrongly for our users: per traditional script, a
 * simplified phrase (as the responses write it) and exactly what the user reads instead
 * (`intents/wording.yml`).
 */
export type RegionalWording = Partial<Record<TraditionalScript, Record<string, string>>>;

/** Built on first use, then kept: the tables are large and most processes need few of them. */
function lazy<T>(build: () => T): () => T {
  let value: T | undefined;
  let built = false;
  return () => {
    if (!built) {
      value = build();
      built = true;
    }
    return value as T;
  };
}

const trieOf = (...dicts: string[]) => {
  const trie = new Trie();
  trie.loadDictGroup(dicts);
  return trie;
};

/**
 * Simplified → OpenCC's traditional, by phrase then character: the ~50 000 phrases of STPhrases make
 * it the expensive table (about 20 MB of heap), which every regional conversion shares.
 */
const simplifiedToTraditional = lazy(() => trieOf(STPhrases, STPhrasesGenerated, STCharacters));
const compatibilityIdeographs = lazy(() => trieOf(CJKCompatibilityIdeographs));

/**
 * OpenCC cuts the text at the phrases of STPhrases before converting, so a regional phrase never
 * spans two of them. Its own converters build a second trie of those phrases for that; this one
 * asks the shared trie instead, a match longer than one character being a phrase (STPhrases holds no
 * single characters: a test checks it, and that the output equals OpenCC's converters').
 */
class PhraseSegmenter extends Trie {
  override matchPrefix(text: string, offset: number): { end: number; value: string } | null {
    const match = simplifiedToTraditional().matchPrefix(text, offset);
    if (!match) return null;
    const first = text.codePointAt(offset)!;
    return match.end - offset > (first > 0xffff ? 2 : 1) ? match : null;
  }
}
const segmenter = lazy(() => new PhraseSegmenter());

/** The second stage of OpenCC's s2tw, s2twp and s2hkp: each small next to the shared first one. */
const regionalStage = {
  /** Taiwan's character forms only (s2tw): how a message's script is told, never what users read. */
  'tw-characters': lazy(() => trieOf(TWVariantsPhrases, TWVariants)),
  'hant-tw': lazy(() => trieOf(TWPhrases, TWVariantsPhrases, TWVariants)),
  'hant-hk': lazy(() => trieOf(HKPhrases, HKVariantsPhrases, HKVariants)),
};
export type ConversionTarget = keyof typeof regionalStage;

/** OpenCC's `{ from: 'cn', to }` conversion for `tw` (characters), `twp` and `hkp`, sharing the expensive tables. */
export function convertSimplified(text: string, target: ConversionTarget): string {
  const regional = regionalStage[target]();
  const converted = segmenter()
    .segment(compatibilityIdeographs().convert(text))
    .map((segment) => regional.convert(simplifiedToTraditional().convert(segment)));
  return converted.join('');
}

/** Traditional (Taiwan or Hong Kong forms) → simplified, for reading what users write. Small: about 2 MB. */
const traditionalToSimplified = lazy(() => OpenCC.Converter({ from: 'tw', to: 'cn' }));

export function toSimplified(text: string): string {
  return traditionalToSimplified()(text);
}

/** Traditional characters without regional wording: what tells a simplified message from one in either script. */
export function toTraditional(text: string): string {
  return convertSimplified(text, 'tw-characters');
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Renders simplified text in a reply script: OpenCC's phrase-level Taiwan (`twp`) or Hong Kong
 * (`hkp`) conversion, except that the team's overrides are put in exactly as written.
 */
export class ScriptConverter {
  private readonly overrides = new Map<TraditionalScript, { pattern: RegExp; replacement: ReadonlyMap<string, string> }>();

  constructor(wording: RegionalWording = {}) {
    for (const script of ['hant-tw', 'hant-hk'] as const) {
      const entries = Object.entries(wording[script] ?? {});
      if (!entries.length) continue;
      // Longest first: the regex takes the first alternative that matches at a position.
      const phrases = entries.map(([phrase]) => phrase).sort((a, b) => b.length - a.length);
      this.overrides.set(script, { pattern: new RegExp(phrases.map(escapeRegExp).join('|'), 'g'), replacement: new Map(entries) });
    }
  }

  convert(text: string, script: ReplyScript): string {
    if (script === 'hans') return text;
    const override = this.overrides.get(script);
    if (!override) return convertSimplified(text, script);
    // The text between overridden phrases is converted as OpenCC would; the phrases are the team's.
    let out = '';
    let from = 0;
    for (const match of text.matchAll(override.pattern)) {
      out += convertSimplified(text.slice(from, match.index), script) + override.replacement.get(match[0])!;
      from = match.index + match[0].length;
    }
    return out + convertSimplified(text.slice(from), script);
  }

  /**
   * Interface labels (`ui.widget.*`) in a script, placeholders such as `{step}` left as they are. A
   * `….lang` label is the language tag of the others, so it becomes the script's (zh-TW, zh-HK):
   * screen readers pick their voice by it.
   */
  labels(texts: Readonly<Record<string, string>>, script: ReplyScript): Record<string, string> {
    return Object.fromEntries(
      Object.entries(texts).map(([key, text]) => [key, key.endsWith('.lang') && script !== 'hans' ? languageTags[script] : this.convertKeepingPlaceholders(text, script)]),
    );
  }

  private convertKeepingPlaceholders(text: string, script: ReplyScript): string {
    // `{total}` is ASCII and survives conversion, but a placeholder is the client's name, never wording.
    return text
      .split(/(\{\w+\})/)
      .map((part, index) => (index % 2 ? part : this.convert(part, script)))
      .join('');
  }
}

/**
 * The widget's interface labels in the script a conversation is in; the server calls it at start-up
 * to bundle each script's labels. Pass the content's `wording` so the team's overrides apply.
 */
export function labelsInScript(texts: Readonly<Record<string, string>>, script: ReplyScript, wording: RegionalWording = {}): Record<string, string> {
  return new ScriptConverter(wording).labels(texts, script);
}
