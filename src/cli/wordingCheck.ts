/**
 * npm run wording:check [id-prefix]: every response (text and buttons) as users of each traditional
 * script read it, next to the characters-only conversion, so a reviewer from Taiwan or Hong Kong can
 * spot a word to add to intents/wording.yml. Lists overrides no response uses.
 */
import { isContentError, loadContent } from '../content/loadContent.js';
import { ScriptConverter, convertSimplified } from '../nlu/scriptConverter.js';

const content = (() => {
  try {
    return loadContent();
  } catch (error) {
    if (!isContentError(error)) throw error;
    console.error(`wording:check: ${error.message}`);
    process.exit(2);
  }
})();
const prefix = process.argv[2] ?? '';
const converter = new ScriptConverter(content.wording);
const texts: [string, string][] = [...content.responses]
  .filter(([id]) => id.startsWith(prefix))
  .flatMap(([id, response]) => [[id, response.text] as [string, string], ...(response.quickReplies ?? []).map((button): [string, string] => [`${id} (button)`, button.title])]);

let shown = 0;
for (const [id, text] of texts) {
  const characters = convertSimplified(text, 'tw-characters');
  const tw = converter.convert(text, 'hant-tw');
  const hk = converter.convert(text, 'hant-hk');
  // Only what regional wording changes: the rest is the same characters in both places.
  if (tw === characters && hk === characters) continue;
  shown++;
  console.log(`${id}\n  字  ${characters}\n  台  ${tw}\n  港  ${hk}\n`);
}
console.log(`${shown} of ${texts.length} texts are worded differently for Taiwan or Hong Kong.`);

const all = texts.map(([, text]) => text).join('\n');
for (const [script, overrides] of Object.entries(content.wording)) {
  for (const phrase of Object.keys(overrides ?? {})) {
    if (!all.includes(phrase)) console.log(`intents/wording.yml: ${script} "${phrase}" is in no response${prefix ? ` starting with ${prefix}` : ''}`);
  }
}
