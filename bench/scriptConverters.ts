/**
 * npm run bench:scripts: what each simplified/traditional converter costs to build (time, heap kept
 * after a GC) and to use once, each case in a fresh process so one does not warm the next.
 * OpenCC's own converters are measured next to ours, which share the big phrase table.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as OpenCC from 'opencc-js';
import { convertSimplified, toSimplified, type ConversionTarget } from '../src/nlu/scriptConverter.js';

const sample = '短信验证：系统会发一条验证码到你注册时绑定的手机号码上，把收到的验证码输入到微信里即可。';
const runs = 5;

type Case = { label: string; build: () => (text: string) => string };
const opencc = (from: string, to: string): Case => ({ label: `opencc-js Converter {from: '${from}', to: '${to}'}`, build: () => OpenCC.Converter({ from, to }) });
const ours = (targets: ConversionTarget[]): Case => ({
  label: `ours: ${targets.join(' + ')}`,
  // Ours are lazy: building is the first conversion to each target.
  build: () => {
    for (const target of targets) convertSimplified('钱包', target);
    return (text) => convertSimplified(text, targets.at(-1)!);
  },
});
const cases: Record<string, Case> = {
  'opencc-tw2cn': opencc('tw', 'cn'),
  'opencc-cn2tw': opencc('cn', 'tw'),
  'opencc-cn2twp': opencc('cn', 'twp'),
  'opencc-cn2hkp': opencc('cn', 'hkp'),
  'opencc-all-three': {
    label: "opencc-js: cn→tw, cn→twp and cn→hkp, each its own Converter",
    build: () => {
      const built = [OpenCC.Converter({ from: 'cn', to: 'tw' }), OpenCC.Converter({ from: 'cn', to: 'twp' }), OpenCC.Converter({ from: 'cn', to: 'hkp' })];
      // All three stay reachable, as they would in a server that serves all three.
      return (text) => built.map((convert) => convert(text)).join('');
    },
  },
  'ours-tw2cn': { label: 'ours: traditional → simplified (lazy opencc-js tw→cn)', build: () => (toSimplified('錢包'), toSimplified) },
  'ours-characters': ours(['tw-characters']),
  'ours-twp': ours(['hant-tw']),
  'ours-hkp': ours(['hant-hk']),
  'ours-characters+twp': ours(['tw-characters', 'hant-tw']),
  'ours-all-three': ours(['tw-characters', 'hant-tw', 'hant-hk']),
};

const heapMb = () => {
  global.gc?.();
  return process.memoryUsage().heapUsed / 1048576;
};

const which = process.argv[2];
if (which) {
  const chosen = cases[which]!;
  const before = heapMb();
  const started = performance.now();
  const convert = chosen.build();
  const buildMs = performance.now() - started;
  const first = performance.now();
  convert(sample);
  const firstMs = performance.now() - first;
  const after = heapMb();
  // Kept alive across the measurement so the GC cannot drop the tables.
  process.stdout.write(JSON.stringify({ buildMs, heapMb: after - before, firstMs, keep: convert(sample).length }));
} else {
  const self = fileURLToPath(import.meta.url);
  console.log(`each case in a fresh process, median of ${runs} (Node ${process.version})\n`);
  console.log('| converter | build ms | heap kept MB | first conversion ms |\n|---|---|---|---|');
  for (const [key, { label }] of Object.entries(cases)) {
    const samples = Array.from({ length: runs }, () => JSON.parse(execFileSync(process.execPath, ['--expose-gc', '--import', 'tsx', self, key], { encoding: 'utf8' })) as { buildMs: number; heapMb: number; firstMs: number });
    const median = (pick: (sample: (typeof samples)[number]) => number) => samples.map(pick).sort((a, b) => a - b)[Math.floor(runs / 2)]!;
    console.log(`| ${label} | ${median((s) => s.buildMs).toFixed(0)} | ${median((s) => s.heapMb).toFixed(1)} | ${median((s) => s.firstMs).toFixed(2)} |`);
  }
}
