// CPU and memory of the measured processes (the service and its cluster workers) and of the whole machine,
// read from /proc from outside, so that measuring costs the measured processes nothing.
import { readdirSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

function parentOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return 0;
  }
}

/** The process and all its descendants (cluster workers). */
export function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const parent = parentOf(Number(entry));
    const list = children.get(parent) ?? [];
    list.push(Number(entry));
    children.set(parent, list);
  }
  const found: number[] = [];
  const stack = [root];
  while (stack.length > 0) {
    const pid = stack.pop() as number;
    found.push(pid);
    stack.push(...(children.get(pid) ?? []));
  }
  return found;
}

const pageKibibytes = 4;

/** Resident memory of the processes, summed, in MiB. */
function residentMebibytes(pids: readonly number[]): number {
  let kibibytes = 0;
  for (const pid of pids) {
    try {
      kibibytes += Number(readFileSync(`/proc/${pid}/statm`, 'utf8').split(' ')[1]) * pageKibibytes;
    } catch {
      // exited
    }
  }
  return kibibytes / 1024;
}

/** CPU time of the processes, summed, in clock ticks (100 per second on Linux). */
function cpuTicks(pids: readonly number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // exited
    }
  }
  return ticks;
}

/** Samples the whole tree's resident memory every 200 ms until stopped; returns the peak in MiB. */
export function sampleResidentMemory(root: number): { stop(): number } {
  let pids = processTree(root);
  let peak = residentMebibytes(pids);
  let ticks = 0;
  const timer = setInterval(() => {
    ticks += 1;
    if (ticks % 10 === 0) pids = processTree(root);
    peak = Math.max(peak, residentMebibytes(pids));
  }, 200);
  return {
    stop(): number {
      clearInterval(timer);
      return Math.max(peak, residentMebibytes(processTree(root)));
    },
  };
}

/** Waits (at most `timeoutMilliseconds`) until the tree uses under a tenth of a core for two half-seconds in a row. */
export async function waitUntilIdle(root: number, timeoutMilliseconds = 60_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMilliseconds;
  let quiet = 0;
  while (quiet < 2 && Date.now() < deadline) {
    const pids = processTree(root);
    const before = cpuTicks(pids);
    const started = performance.now();
    await sleep(500);
    const busyCores = (cpuTicks(pids) - before) / ((performance.now() - started) / 10);
    quiet = busyCores < 0.1 ? quiet + 1 : 0;
  }
  return quiet >= 2;
}

/** Busy CPU ticks of the whole machine (user, nice, system, irq, softirq, steal) from /proc/stat. */
function machineBusyTicks(): number {
  const fields = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/).map(Number);
  return [1, 2, 3, 6, 7, 8].reduce((sum, index) => sum + (fields[index] ?? 0), 0);
}

/**
 * Measures until `stop()` how many cores the processes other than the service and the bench used, and the CPU
 * time of the service itself.
 */
export function startCpuAccounting(servicePid: number): {
  stop(): { otherCpuCores: number; serviceCpuSeconds: number };
} {
  const started = performance.now();
  const machine = machineBusyTicks();
  const service = cpuTicks(processTree(servicePid));
  const bench = process.cpuUsage();
  return {
    stop() {
      const seconds = (performance.now() - started) / 1000;
      const benchUsage = process.cpuUsage(bench);
      const benchTicks = (benchUsage.user + benchUsage.system) / 10_000;
      const serviceTicks = cpuTicks(processTree(servicePid)) - service;
      const otherTicks = machineBusyTicks() - machine - serviceTicks - benchTicks;
      return {
        otherCpuCores: Number(Math.max(0, otherTicks / 100 / seconds).toFixed(2)),
        serviceCpuSeconds: serviceTicks / 100,
      };
    },
  };
}
