/**
 * npm run bench:startup: how long a freshly started server takes to greet its first visitor, for
 * each way of starting it, repeated (the median is what a deploy sees; one run is noise on a shared
 * machine), and how much memory it holds idle afterwards.
 *
 *   npm run bench:startup -- --runs 7 --only compiled
 *   npm run bench:startup -- --only tsc --launch 'tsc=node /tmp/tscout/src/server/main.js'
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { measureColdStart, tsxLaunch, type ColdStartResult, type Launch } from './coldStart.js';
import { loadConversationScript } from './conversationScript.js';
import { killTrackedChildren } from './serverProcess.js';

const launches: Record<string, Launch> = {
  'npx-tsx': tsxLaunch,
  'node-tsx': { executable: process.execPath, args: ['--import', 'tsx', 'src/server/main.ts'] },
  // One worker unless a launch says otherwise (the server's default is one per core).
  compiled: { executable: process.execPath, args: ['dist/server/main.js'] },
  'compiled-2-workers': { executable: process.execPath, args: ['dist/server/main.js'], env: { WORKERS: '2' } },
  'npm-start': { executable: 'npm', args: ['start', '--silent'] },
  // What the README's first command runs on this machine: npm start with one worker per core.
  'npm-start-per-core': { executable: 'npm', args: ['start', '--silent'], env: { WORKERS: String(availableParallelism()) } },
};

const { values } = parseArgs({ options: { runs: { type: 'string', default: '5' }, only: { type: 'string', multiple: true }, launch: { type: 'string', multiple: true } } });
const runs = Number(values.runs);
// --launch name=command adds a way of starting (a tsc build elsewhere, say): words split on spaces.
for (const extra of values.launch ?? []) {
  const [name, command] = [extra.slice(0, extra.indexOf('=')), extra.slice(extra.indexOf('=') + 1)];
  const [executable, ...args] = command.split(' ');
  launches[name] = { executable: executable === 'node' ? process.execPath : executable!, args };
}
const chosen = values.only ?? Object.keys(launches);
const firstStep = loadConversationScript()[0]!;
const median = (numbers: number[]) => [...numbers].sort((a, b) => a - b)[Math.floor(numbers.length / 2)]!;
const ms = (value: number) => `${value.toFixed(0)} ms`;

const tmp = mkdtempSync(path.join(tmpdir(), 'startup-bench-'));
try {
  console.log(`${runs} cold starts each, a new database every time; median (min–max)`);
  for (const name of chosen) {
    const launch = launches[name];
    if (!launch) throw new Error(`unknown launch ${name}: one of ${Object.keys(launches).join(', ')}`);
    const results: ColdStartResult[] = [];
    for (let run = 0; run < runs; run++) {
      // Memory is read on the last run only: the idle wait would slow every run down.
      const idleMemoryAfterMs = run === runs - 1 ? 2_000 : undefined;
      results.push(await measureColdStart(path.join(tmp, `${name}-${run}`, 'chatbot.db'), firstStep, { launch, ...(idleMemoryAfterMs ? { idleMemoryAfterMs } : {}) }));
    }
    const column = (pick: (result: ColdStartResult) => number) => {
      const numbers = results.map(pick);
      return `${ms(median(numbers))} (${ms(Math.min(...numbers))}–${ms(Math.max(...numbers))})`;
    };
    const memory = results.at(-1)!.idleMemory!;
    console.log(`\n${name}: \`${results[0]!.command}\``);
    console.log(`  spawn → "listening" logged   ${column((result) => result.toListeningLogMs)}`);
    console.log(`  spawn → greeting (POST /api/conversations 201)   ${column((result) => result.toFirstConversationMs)}`);
    console.log(`  spawn → first message answered   ${column((result) => result.toFirstAnswerMs)}`);
    console.log(`  idle 2 s after the first answer: RSS ${memory.rssMb.toFixed(0)} MB, heap used ${memory.heapUsedMb.toFixed(0)} MB`);
    console.log(`  graceful stops ${results.filter((result) => result.gracefulStop).length}/${runs}, processes left behind ${results.reduce((sum, result) => sum + result.leftBehind, 0)}`);
  }
} finally {
  killTrackedChildren();
  rmSync(tmp, { recursive: true, force: true });
}
