/**
 * Part of npm run build: keeps the content of CONTENT_DIR (default intents/), loaded and checked, as
 * dist/content/content.json for the compiled server of this build (src/content/compiledContent.ts).
 */
import { defaultContentDir } from '../content/loadContent.js';
import { writeCompiledContent } from '../content/compiledContent.js';
import { loadBuildContent } from './buildContent.js';

const buildFingerprint = process.env.CHATBOT_BUILD_FINGERPRINT;
if (!buildFingerprint) {
  console.error('build: CHATBOT_BUILD_FINGERPRINT is not set (this step is run by scripts/build.mjs)');
  process.exit(2);
}
writeCompiledContent(loadBuildContent(), process.env.CONTENT_DIR || defaultContentDir, buildFingerprint);
