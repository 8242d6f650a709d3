/**
 * Part of npm run build: trains the NLU models (natural's Bayes tables, the nearest-sentence index
 * and the softmax) for the content in CONTENT_DIR (default intents/) and writes them to dist/nlu/,
 * so a server reads them back in milliseconds instead of training them at every start. A server
 * whose examples differ trains its own.
 */
import { loadBuildContent } from './buildContent.js';
import { MessageParser } from '../nlu/messageParser.js';
import { writeNluModels } from '../nlu/savedNluModel.js';

const started = performance.now();
const content = loadBuildContent();
// Trained here even when an earlier build's file is present: the build rewrites what it ships.
const { key, models } = new MessageParser(content, {}, null).modelsToSave();
const file = writeNluModels(key, models);
console.log(`NLU models trained and saved to ${file} in ${(performance.now() - started).toFixed(0)} ms`);
