import { defaultContentDir, isContentError, loadContent, type Content } from '../content/loadContent.js';

/**
 * The content a build step works from (CONTENT_DIR, default intents/). A mistake in it stops the
 * build with one line saying what and where, exit code 2, as it stops the server.
 */
export function loadBuildContent(): Content {
  try {
    return loadContent(process.env.CONTENT_DIR || defaultContentDir);
  } catch (error) {
    if (!isContentError(error)) throw error;
    console.error(`build: ${error.message}`);
    process.exit(2);
  }
}
