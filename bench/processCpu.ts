import { readdirSync, readFileSync } from 'node:fs';

/** USER_HZ: /proc counts CPU time in ticks of 10 ms. */
const msPerTick = 10;

/** CPU time (user + system) a process has used, in ms; 0 once it is gone. */
function processCpuMs(pid: number): number {
  try {
    // Fields after the command name (which may hold spaces, so split after its closing parenthesis).
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) * msPerTick;
  } catch {
    return 0;
  }
}

/** The processes and every process below them (a cluster's primary and its workers). */
function withDescendants(pids: readonly number[]): number[] {
  const parents = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      parents.set(Number(entry), Number(readFileSync(`/proc/${entry}/stat`, 'utf8').split(') ')[1]!.split(' ')[1]));
    } catch {
      // gone meanwhile
    }
  }
  const found = new Set(pids);
  for (let grew = true; grew; ) {
    grew = false;
    for (const [pid, parent] of parents) {
      if (!found.has(pid) && found.has(parent)) grew = Boolean(found.add(pid));
    }
  }
  return [...found];
}

/** Every running process whose command is `name` (postgres backends come and go with the pools). */
function processesNamed(name: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() === name) pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

export interface CpuBreakdown {
  /** % of one core (100 = one core busy the whole window) spent by the server instances together. */
  servers: number;
  postgres: number;
  redis: number;
  /** This process: the load generator. */
  loadGenerator: number;
}

/**
 * Where the cores went while `run` ran: the server instances (by pid, with their workers), PostgreSQL's and Redis's
 * processes (by name), and this process. What a machine with two cores can give more instances is
 * what is left of 200% after these.
 */
export async function measureCpuBreakdown<T>(serverPids: readonly number[], run: () => Promise<T>): Promise<{ result: T; cpu: CpuBreakdown }> {
  const timesOf = (pids: readonly number[]) => new Map(pids.map((pid) => [pid, processCpuMs(pid)]));
  const sample = () => ({ servers: timesOf(withDescendants(serverPids)), postgres: timesOf(processesNamed('postgres')), redis: timesOf(processesNamed('redis-server')) });
  const ownMs = () => {
    const own = process.cpuUsage();
    return (own.user + own.system) / 1000;
  };
  const before = sample();
  const ownBefore = ownMs();
  const started = performance.now();
  const result = await run();
  const wallMs = performance.now() - started;
  const after = sample();
  // What each process still running used since the first sample (all of it for one started since).
  // A process that ended in between (an autovacuum worker) is left out: a little undercounted, never negative.
  const used = (key: keyof typeof before) => [...after[key]].reduce((total, [pid, ms]) => total + ms - (before[key].get(pid) ?? 0), 0);
  const percent = (ms: number) => (ms / wallMs) * 100;
  return { result, cpu: { servers: percent(used('servers')), postgres: percent(used('postgres')), redis: percent(used('redis')), loadGenerator: percent(ownMs() - ownBefore) } };
}
