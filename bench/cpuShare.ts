import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import type { BenchServer, ServerUsage } from './serverProcess.js';

/**
 * Where the machine's CPU went during a run, in % of one core (100 = one core busy the whole run):
 * the server process, this process (the load generator), and everything else on the machine.
 * A server near 100% is the bottleneck (Node runs its JavaScript on one core); a large "other"
 * means something outside the benchmark competed for the cores.
 */
export interface CpuShare {
  server: number;
  client: number;
  other: number;
}

/**
 * CPU time the whole machine has spent busy, in ms. On Linux from /proc/stat, which counts softirq
 * (where loopback networking runs, and which the kernel also charges to the processes);
 * os.cpus() leaves it out.
 */
function machineBusyMs(): number {
  if (existsSync('/proc/stat')) {
    // cpu  user nice system idle iowait irq softirq steal …, in USER_HZ (100 per second on Linux).
    const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0] = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/).slice(1).map(Number);
    return (user + nice + system + irq + softirq) * 10;
  }
  return os.cpus().reduce((total, { times }) => total + times.user + times.nice + times.sys + times.irq, 0);
}
const ownCpuMs = () => {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
};

export async function measureCpu<T>(server: BenchServer, run: () => Promise<T>): Promise<{ result: T; cpu: CpuShare; usage: ServerUsage }> {
  const serverBefore = (await server.usage()).cpuSeconds * 1000;
  const machineBefore = machineBusyMs();
  const clientBefore = ownCpuMs();
  const started = performance.now();
  const result = await run();
  const wallMs = performance.now() - started;
  const machine = machineBusyMs() - machineBefore;
  const client = ownCpuMs() - clientBefore;
  const usage = await server.usage();
  const serverMs = usage.cpuSeconds * 1000 - serverBefore;
  const percent = (ms: number) => (ms / wallMs) * 100;
  return { result, usage, cpu: { server: percent(serverMs), client: percent(client), other: Math.max(0, percent(machine - serverMs - client)) } };
}

/** How busy the machine is without us, in % of one core, sampled over `ms`. */
export async function busyWithoutUs(ms = 2000): Promise<number> {
  const machineBefore = machineBusyMs();
  const ownBefore = ownCpuMs();
  await new Promise((resolve) => setTimeout(resolve, ms));
  return Math.max(0, ((machineBusyMs() - machineBefore - (ownCpuMs() - ownBefore)) / ms) * 100);
}

export const cpuText = ({ server, client, other }: CpuShare) => `${server.toFixed(0)}/${client.toFixed(0)}/${other.toFixed(0)}`;
