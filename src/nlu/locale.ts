import type { ReplyScript } from './scriptConverter.js';
import type { Script } from './textNormalizer.js';

/** RFC 5646's advice for the longest tag an implementation should accept. */
export const maxLocaleLength = 35;

/** The canonical form of a BCP 47 language tag (`zh-hk` → `zh-HK`), or undefined when it is not one. */
export function canonicalLocale(tag: string): string | undefined {
  if (tag.length === 0 || tag.length > maxLocaleLength) return undefined;
  try {
    const [canonical] = Intl.getCanonicalLocales(tag);
    return canonical !== undefined && canonical.length <= maxLocaleLength ? canonical : undefined;
  } catch {
    return undefined;
  }
}

const parsed = (locale: string | undefined) => {
  if (locale === undefined) return undefined;
  try {
    return new Intl.Locale(locale);
  } catch {
    return undefined;
  }
};

/** Chinese as a browser names it: Mandarin (zh) or Cantonese (yue). */
const chinese = new Set(['zh', 'yue']);
const traditionalRegions = new Set(['TW', 'HK', 'MO']);
const hongKongWording = new Set(['HK', 'MO']);

/**
 * Whether a user with this locale reads traditional characters: a Chinese locale written in Hant
 * (zh-Hant, zh-Hant-CN) or, without a script, of Taiwan, Hong Kong or Macau. Taken from the tag as
 * written, not from likely-subtag data: zh-US or zh-SG stay simplified, the bot's default.
 */
export function readsTraditional(locale: string | undefined): boolean {
  const tag = parsed(locale);
  if (!tag || !chinese.has(tag.language)) return false;
  if (tag.script) return tag.script === 'Hant';
  return tag.region !== undefined && traditionalRegions.has(tag.region);
}

/**
 * The script and wording of replies to a user who writes in `script`: simplified as written, or
 * traditional with Hong Kong wording when the locale is of Hong Kong or Macau, Taiwan's otherwise.
 */
export function replyScriptFor(script: Script, locale: string | undefined): ReplyScript {
  if (script === 'simplified') return 'hans';
  const region = parsed(locale)?.region;
  return region !== undefined && hongKongWording.has(region) ? 'hant-hk' : 'hant-tw';
}

/** The script a new conversation opens in: traditional from the greeting on for users whose locale reads it. */
export function openingScript(locale: string | undefined): Script {
  return readsTraditional(locale) ? 'traditional' : 'simplified';
}
