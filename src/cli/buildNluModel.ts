/**
 * Part of npm run build: trains the softmax model for the content in CONTENT_DIR (default intents/)
 * and writes it to dist/nlu/, so a server reads it back in milliseconds instead of training it for
 * about a second at every start. A server whose examples differ trains its own.
 */
import { loadBuildContent } from './buildContent.js';
import { MessageParser } from '../nlu/messageParser.js';
import { writeSoftmax } from '../nlu/savedSoftmax.js';

const started = performance.now();
const content = loadBuildContent();
const trained = new MessageParser(content).softmaxToSave();
if (trained) {
  const file = writeSoftmax(trained.key, trained.model);
  console.log(`NLU model trained and saved to ${file} in ${(performance.now() - started).toFixed(0)} ms`);
}
