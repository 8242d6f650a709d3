/*
 * Web chat widget of the wallet-unbinding support bot.
 *
 * Embed with <script src="https://host/widget.js" defer></script> (add data-open="true" to open at
 * load). The server bundles these modules into one minified widget.js (src/server/widgetAssets.ts),
 * with the interface labels inside, so the bubble shows as soon as the stylesheet is there. Message
 * text is only ever set through text nodes, never parsed as HTML.
 */
import { STARTUP_TIMEOUT_MS } from './config.js';
import { withTimeout } from './dom.js';
import { loadStylesheet } from './http.js';
import { build, close, open } from './panel.js';
import { state } from './state.js';
import { onScriptChange } from './labels.js';
import { relabelProgress } from './progress.js';
import { followScriptInChrome } from './chromeLabels.js';
import { watchNetwork } from './network.js';

async function init() {
  if (document.readyState === 'loading') {
    await new Promise((resolve) => document.addEventListener('DOMContentLoaded', resolve, { once: true }));
  }
  // An unstyled bubble would sit in the page's flow: wait for the stylesheet (loaded in parallel with nothing else).
  await withTimeout(loadStylesheet(), STARTUP_TIMEOUT_MS, undefined);
  build();
  onScriptChange(relabelProgress);
  followScriptInChrome();
  watchNetwork();
  if (state.openRequested) open();
}

// Included twice: the first copy keeps the page.
if (!window.WalletUnbindWidget) {
  window.WalletUnbindWidget = { open, close };
  init();
}
