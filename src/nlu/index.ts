export { MessageParser, defaultParserOptions, fallbackIntent, type ParseContext, type ParseResult, type ParserOptions } from './messageParser.js';
export { SecretRedactor, redactionVersion, type SecretKind, type RedactionResult, type RedactionContext, type RedactionStep } from './secretRedactor.js';
export { removeInvisible } from './detectionView.js';
export { TextNormalizer, detectScript, toSimplified, toTraditional, foldWidth, type Script } from './textNormalizer.js';
export { ScriptConverter, labelsInScript, replyScripts, type RegionalWording, type ReplyScript } from './scriptConverter.js';
export { canonicalLocale, maxLocaleLength, openingScript, readsTraditional, replyScriptFor } from './locale.js';
export { evaluate, kFolds, type EvaluationReport, type LabelledText } from './evaluation.js';
export { readLabelledJsonl, JsonlError } from './labelledJsonl.js';
