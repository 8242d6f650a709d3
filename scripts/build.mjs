/**
 * npm run build: the server compiled to JavaScript in dist/ (run with plain node, no tsx), the
 * widget bundled for the default content (dist/widget/) and its NLU model trained (dist/nlu/).
 * Uses esbuild, a runtime dependency, so a deployment installed with `npm ci --omit=dev` can build too. esbuild was chosen over tsc by
 * measurement (bench/RESULTS.md): tsc emits one file per module, which loads slower than one
 * bundle and keeps src/'s layout under dist/ (the paths to intents/, public/ and widget/ then
 * differ between source and build); type checking stays `npm run typecheck`'s job.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { build as esbuild } from 'esbuild';
import { buildInfoFile, projectRoot, sourceFingerprint } from './sourceFingerprint.mjs';

const distDir = path.join(projectRoot, 'dist');

/** Packages the build leaves to node_modules at run time (why: at `external` below). */
// pg-native and pg-cloudflare are pg's optional alternatives (a native driver, Cloudflare's
// sockets): pg loads them only when asked to, which this server never does.
const runtimeExternals = ['better-sqlite3', 'esbuild', '@node-rs/jieba', 'pino', 'botkit', 'botbuilder', 'botbuilder-*', 'ws', 'bufferutil', 'utf-8-validate', 'pg-native', 'pg-cloudflare', 'cloudflare:sockets'];

export async function build({ quiet = false } = {}) {
  const say = (message) => quiet || console.log(message);
  const started = performance.now();
  const fingerprint = sourceFingerprint();
  // A half-finished build must not look complete: the build info is removed first, written last.
  rmSync(buildInfoFile, { force: true });
  rmSync(path.join(distDir, 'server'), { recursive: true, force: true });
  rmSync(path.join(distDir, 'cli'), { recursive: true, force: true });
  rmSync(path.join(distDir, 'chunks'), { recursive: true, force: true });
  await esbuild({
    absWorkingDir: projectRoot,
    entryPoints: ['src/server/main.ts', 'src/cli/buildWidget.ts', 'src/cli/buildNluModel.ts', 'src/cli/buildCompiledContent.ts'],
    outbase: 'src',
    outdir: 'dist',
    // Each output file sits two folders below the project, as its source does, so the paths the
    // code builds from import.meta.url (../../intents, ../../public) hold in both.
    chunkNames: 'chunks/[name]-[hash]',
    bundle: true,
    // Botkit and the rest are loaded when first needed (the websocket channel): a chunk of its own.
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    // The pure-JavaScript dependencies are bundled in: loading express, zod, pinyin-pro and the rest
    // from one chunk instead of hundreds of files (each resolved through its package.json) starts
    // the server ≈0.2 s sooner (bench/RESULTS.md). They stay installed and are still what
    // package-lock.json pins. Left outside: native addons (better-sqlite3, esbuild, jieba), pino
    // (it loads its transports from files), and Botkit's side (botbuilder and ws), which is loaded
    // with the first websocket anyway.
    external: [...runtimeExternals],
    // Bundled CommonJS calls require() for node's own modules; an ES module has none of its own.
    banner: { js: "import { createRequire as createRequireForBundledPackages } from 'node:module'; const require = createRequireForBundledPackages(import.meta.url);" },
    sourcemap: 'linked',
    logLevel: 'warning',
    // The compiled server may use what this build made for it (dist/content/); the sources under tsx never do.
    define: { 'process.env.CHATBOT_BUILD_FINGERPRINT': JSON.stringify(fingerprint) },
  });
  const compiledMs = performance.now() - started;
  // What a server would otherwise make at start-up or on the first request, made once here, each by
  // the compiled code the server runs.
  rmSync(path.join(distDir, 'nlu'), { recursive: true, force: true });
  rmSync(path.join(distDir, 'content'), { recursive: true, force: true });
  for (const [step, what] of [['buildWidget.js', 'bundling the widget'], ['buildNluModel.js', 'training the NLU model'], ['buildCompiledContent.js', 'keeping the checked content']]) {
    const run = spawnSync(process.execPath, [path.join(distDir, 'cli', step)], { cwd: projectRoot, stdio: quiet ? 'pipe' : 'inherit', encoding: 'utf8' });
    if (run.status !== 0) throw new Error(`${what} failed (exit ${run.status}): ${run.stderr ?? ''}`);
  }
  mkdirSync(distDir, { recursive: true });
  writeFileSync(buildInfoFile, `${JSON.stringify({ sourceFingerprint: fingerprint, builtAt: new Date().toISOString() }, null, 2)}\n`);
  say(`build: server compiled in ${compiledMs.toFixed(0)} ms, everything in ${(performance.now() - started).toFixed(0)} ms (dist/)`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await build();
}
