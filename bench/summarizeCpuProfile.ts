/**
 * Where a V8 CPU profile (`node --cpu-prof`) spent its time:
 *
 *   npx tsx bench/summarizeCpuProfile.ts <file.cpuprofile | folder> [--top 10] [--from-ms N] [--to-ms N] [--json]
 *
 * A folder stands for its largest profile (the main thread's). Self time is summed per function (name + file + line), then per package or project file, and
 * inclusive time is given for the project's own functions. --from-ms/--to-ms keep only the samples
 * taken in that window, in ms from the start of the profile (to leave start-up out).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { SourceMap, type SourceMapPayload } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

export interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileEntry {
  name: string;
  /** Where it is: a project file (`src/nlu/…:12`), a package (`express`), `node:…`, or a V8 category. */
  location: string;
  ms: number;
  /** Share of the busy time (everything but `(idle)`). */
  percent: number;
}

export interface ProfileSummary {
  windowMs: number;
  busyMs: number;
  idleMs: number;
  samples: number;
  selfByFunction: ProfileEntry[];
  selfByPlace: ProfileEntry[];
  inclusiveProjectFunctions: ProfileEntry[];
}

const projectRoot = fileURLToPath(new URL('..', import.meta.url));

/**
 * The project's .ts files run through tsx, which hands V8 whitespace-minified code: a profile's
 * line numbers for them are useless (a whole file is "line 1"). tsx keeps each transformed file with
 * its source map in its cache folder; the newest entry for a file maps a position back to the .ts line.
 */
class TsxSourceLines {
  private entries: Map<string, { file: string; mtimeMs: number }> | undefined;
  private readonly maps = new Map<string, SourceMap | null>();

  constructor(private readonly cacheDir = path.join(os.tmpdir(), `tsx-${process.getuid?.() ?? ''}`)) {}

  /** 0-based original line of a 0-based generated position in `file`, when tsx's cache has its map. */
  originalLine(file: string, line: number, column: number): number | undefined {
    const map = this.mapOf(file);
    const entry = map?.findEntry(line, column);
    return entry && 'originalLine' in entry ? entry.originalLine : undefined;
  }

  private mapOf(file: string): SourceMap | null {
    if (!this.maps.has(file)) {
      const cached = this.index().get(file);
      let map: SourceMap | null = null;
      if (cached) {
        try {
          map = new SourceMap((JSON.parse(readFileSync(cached.file, 'utf8')) as { map: SourceMapPayload }).map);
        } catch {
          map = null;
        }
      }
      this.maps.set(file, map);
    }
    return this.maps.get(file) ?? null;
  }

  private index(): Map<string, { file: string; mtimeMs: number }> {
    if (this.entries) return this.entries;
    this.entries = new Map();
    if (!existsSync(this.cacheDir)) return this.entries;
    for (const name of readdirSync(this.cacheDir)) {
      const file = path.join(this.cacheDir, name);
      try {
        const { mtimeMs } = statSync(file);
        const sources = (JSON.parse(readFileSync(file, 'utf8')) as { map?: { sources?: string[] } }).map?.sources ?? [];
        // Several versions of a file may be cached; the newest is the code that just ran.
        for (const source of sources) if ((this.entries.get(source)?.mtimeMs ?? -1) < mtimeMs) this.entries.set(source, { file, mtimeMs });
      } catch {
        // not one of tsx's entries
      }
    }
    return this.entries;
  }
}

/** `src/nlu/intentClassifier.ts`, `express`, `node:internal/…`, or '' for V8's own categories. */
function place(url: string): { place: string; inProject: boolean } {
  if (!url) return { place: '', inProject: false };
  const file = url.startsWith('file://') ? fileURLToPath(url) : url;
  const modules = file.lastIndexOf(`${path.sep}node_modules${path.sep}`);
  if (modules >= 0) {
    const [first, second] = file.slice(modules + 14).split(path.sep);
    return { place: first?.startsWith('@') ? `${first}/${second}` : (first ?? file), inProject: false };
  }
  if (file.startsWith(projectRoot)) return { place: path.relative(projectRoot, file), inProject: true };
  return { place: file, inProject: false };
}

export function summarizeCpuProfile(profile: CpuProfile, { top = 10, fromMs = 0, toMs = Number.POSITIVE_INFINITY } = {}): ProfileSummary {
  const tsxLines = new TsxSourceLines();
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);

  const describe = (node: ProfileNode) => {
    const { functionName, url, lineNumber, columnNumber } = node.callFrame;
    const where = place(url);
    const name = functionName || (url ? '(anonymous)' : '(unknown)');
    let line = String(lineNumber + 1);
    if (where.inProject && url.endsWith('.ts')) {
      const original = tsxLines.originalLine(fileURLToPath(url), lineNumber, columnNumber);
      line = original === undefined ? `${lineNumber + 1}:${columnNumber + 1} (generated)` : String(original + 1);
    }
    return {
      key: `${name}\u0000${where.place}:${lineNumber}:${columnNumber}`,
      name,
      location: where.place ? `${where.place}:${line}` : '',
      place: where.place || name, // (garbage collector), (program), (idle) stand for themselves
      inProject: where.inProject,
    };
  };
  const described = new Map(profile.nodes.map((node) => [node.id, describe(node)]));

  const self = new Map<string, { name: string; location: string; us: number }>();
  const byPlace = new Map<string, number>();
  const inclusive = new Map<string, { name: string; location: string; us: number }>();
  let idleUs = 0;
  let busyUs = 0;
  let counted = 0;

  // Sample i was taken at startTime + sum(timeDeltas[0..i]); it stands for the time until the next sample.
  let at = profile.startTime;
  for (let index = 0; index < profile.samples.length; index++) {
    at += profile.timeDeltas[index] ?? 0;
    const sinceStartMs = (at - profile.startTime) / 1000;
    if (sinceStartMs < fromMs || sinceStartMs > toMs) continue;
    const us = profile.timeDeltas[index + 1] ?? 0;
    const nodeId = profile.samples[index]!;
    const node = byId.get(nodeId);
    if (!node) continue;
    counted++;
    const info = described.get(nodeId)!;
    if (info.name === '(idle)') {
      idleUs += us;
      continue;
    }
    busyUs += us;
    const entry = self.get(info.key) ?? { name: info.name, location: info.location, us: 0 };
    entry.us += us;
    self.set(info.key, entry);
    byPlace.set(info.place, (byPlace.get(info.place) ?? 0) + us);

    // Inclusive: every project function on the stack, once per sample even when recursive.
    const seen = new Set<string>();
    for (let id: number | undefined = nodeId; id !== undefined; id = parent.get(id)) {
      const frame = described.get(id)!;
      if (!frame.inProject || seen.has(frame.key)) continue;
      seen.add(frame.key);
      const total = inclusive.get(frame.key) ?? { name: frame.name, location: frame.location, us: 0 };
      total.us += us;
      inclusive.set(frame.key, total);
    }
  }

  const entries = (values: Iterable<{ name: string; location: string; us: number }>) =>
    [...values]
      .sort((a, b) => b.us - a.us)
      .slice(0, top)
      .map(({ name, location, us }) => ({ name, location, ms: us / 1000, percent: busyUs ? (us / busyUs) * 100 : 0 }));
  return {
    windowMs: (busyUs + idleUs) / 1000,
    busyMs: busyUs / 1000,
    idleMs: idleUs / 1000,
    samples: counted,
    selfByFunction: entries(self.values()),
    selfByPlace: entries([...byPlace].map(([name, us]) => ({ name, location: '', us }))),
    inclusiveProjectFunctions: entries(inclusive.values()),
  };
}

/**
 * The profile itself, or the largest `.cpuprofile` in a folder: node writes one per thread, and
 * with `--import tsx` the module loader's thread leaves a second, nearly empty one.
 */
export function findCpuProfile(fileOrFolder: string): string {
  if (!statSync(fileOrFolder).isDirectory()) return fileOrFolder;
  const largest = readdirSync(fileOrFolder)
    .filter((name) => name.endsWith('.cpuprofile'))
    .map((name) => path.join(fileOrFolder, name))
    .sort((a, b) => statSync(b).size - statSync(a).size)[0];
  if (!largest) throw new Error(`no .cpuprofile in ${fileOrFolder}`);
  return largest;
}

export function formatSummary(summary: ProfileSummary): string {
  const lines: string[] = [];
  const table = (title: string, rows: ProfileEntry[], withLocation: boolean) => {
    lines.push(title);
    rows.forEach((row, index) => {
      const where = withLocation && row.location ? `  ${row.location}` : '';
      lines.push(`  ${String(index + 1).padStart(2)}. ${row.ms.toFixed(0).padStart(7)} ms ${row.percent.toFixed(1).padStart(5)}%  ${row.name}${where}`);
    });
    lines.push('');
  };
  lines.push(
    `${summary.samples} samples over ${(summary.windowMs / 1000).toFixed(1)} s: busy ${(summary.busyMs / 1000).toFixed(1)} s, idle ${(summary.idleMs / 1000).toFixed(1)} s (percentages are of busy time)`,
    '',
  );
  table('self time by function:', summary.selfByFunction, true);
  table('self time by package or project file:', summary.selfByPlace, false);
  table('inclusive time of the project’s own functions:', summary.inclusiveProjectFunctions, true);
  return lines.join('\n');
}

function main(argv: string[]): void {
  const option = (name: string) => {
    const index = argv.indexOf(name);
    return index >= 0 ? argv[index + 1] : undefined;
  };
  const target = argv.find((arg, index) => !arg.startsWith('--') && !['--top', '--from-ms', '--to-ms'].includes(argv[index - 1] ?? ''));
  if (!target) {
    console.error('usage: summarizeCpuProfile.ts <file.cpuprofile | folder> [--top 10] [--from-ms N] [--to-ms N] [--json]');
    process.exit(2);
  }
  const file = findCpuProfile(target);
  const summary = summarizeCpuProfile(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile, {
    top: Number(option('--top') ?? 10),
    fromMs: Number(option('--from-ms') ?? 0),
    toMs: Number(option('--to-ms') ?? Number.POSITIVE_INFINITY),
  });
  if (argv.includes('--json')) console.log(JSON.stringify({ file, ...summary }, null, 2));
  else console.log(`${file}\n${formatSummary(summary)}`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main(process.argv.slice(2));
