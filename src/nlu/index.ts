export { MessageParser, defaultParserOptions, fallbackIntent, type ParseContext, type ParseResult, type ParserOptions } from './messageParser.js';
export { SecretRedactor, type SecretKind, type RedactionResult } from './secretRedactor.js';
export { TextNormalizer, detectScript, toSimplified, toTraditional, foldWidth, type Script } from './textNormalizer.js';
export { evaluate, kFolds, type EvaluationReport, type LabelledText } from './evaluation.js';
export { readLabelledJsonl, JsonlError } from './labelledJsonl.js';
