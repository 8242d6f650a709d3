/**
 * The widget's interface labels, bundled into widget.js by the server from intents/responses/ui.yml
 * (simplified, and converted for Taiwan and Hong Kong readers), so the bubble needs no request
 * before it can show, and a failed request never turns the interface into another language.
 */

/* global __WUB_LABELS__ */
// Replaced at bundle time (src/server/widgetAssets.ts): { hans: {...}, 'hant-tw': {...}, 'hant-hk': {...} }.
const LABELS = typeof __WUB_LABELS__ === 'object' && __WUB_LABELS__ ? __WUB_LABELS__ : { hans: {} };

export const SCRIPTS = Object.keys(LABELS);

/** The script the page's reader prefers, from the browser's languages, until the conversation says otherwise. */
export function scriptOfLanguages(languages) {
  for (const tag of languages || []) {
    const lower = String(tag).toLowerCase();
    if (!lower.startsWith('zh')) continue;
    if (/^zh-(hk|mo)\b/.test(lower) || /^zh-hant-(hk|mo)\b/.test(lower)) return 'hant-hk';
    if (/^zh-(tw|hant)\b/.test(lower)) return 'hant-tw';
    return 'hans';
  }
  return 'hans';
}

let current = scriptOfLanguages(typeof navigator === 'object' ? navigator.languages || [navigator.language] : []);

export const currentScript = () => current;

export function t(key, vars) {
  const template = (LABELS[current] && LABELS[current][key]) ?? LABELS.hans[key] ?? key;
  if (!vars) return template;
  return template.replace(/\{(\w+)\}/g, (match, name) => (name in vars ? String(vars[name]) : match));
}

/**
 * What to tell the user about a refused message, in their language: the server's `message` is for
 * developers, its `code` picks a text from ui.yml (ui.widget.error.<code>), else the generic one.
 */
export function errorText(code) {
  const key = `ui.widget.error.${code}`;
  return key in LABELS.hans ? t(key) : t('ui.widget.error');
}

const listeners = [];
/** Called after the script changed, for parts that build their labels themselves (progress, rating). */
export const onScriptChange = (listener) => listeners.push(listener);

/**
 * The conversation writes in another script (the user typed traditional, or the server chose it
 * from the locale): the interface follows, so the chrome never reads differently from the answers.
 */
export const followScript = (data) => data && typeof data.script === 'string' && useScript(data.script);

export function useScript(script) {
  if (!script || script === current || !(script in LABELS)) return;
  current = script;
  for (const listener of listeners) listener();
}
