// CPU seconds of processes on this machine (from /proc), to say which side of a benchmark used the cores: the
// collectors, the database server, the load generator.
import { readdirSync, readFileSync } from 'node:fs';

const TICKS_PER_SECOND = 100;

interface ProcStat { pid: number; ppid: number; own: number; children: number }

function procStat(pid: number): ProcStat | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command (which may hold spaces), counted from field 3 (state).
    const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
    const n = (field: number): number => Number(rest[field - 3]);
    return { pid, ppid: n(4), own: (n(14) + n(15)) / TICKS_PER_SECOND, children: (n(16) + n(17)) / TICKS_PER_SECOND };
  } catch {
    return undefined;
  }
}

function allPids(): number[] {
  return readdirSync('/proc').filter((d) => /^\d+$/.test(d)).map(Number);
}

/**
 * CPU seconds used so far by a process and all its descendants, live or exited and reaped (their time is in the
 * parent's children fields; children not yet reaped are counted while they are alive).
 */
export function treeCpuSeconds(root: number): number {
  const stats = allPids().map(procStat).filter((s): s is ProcStat => s !== undefined);
  const byParent = new Map<number, ProcStat[]>();
  for (const s of stats) byParent.set(s.ppid, [...(byParent.get(s.ppid) ?? []), s]);
  const rootStat = stats.find((s) => s.pid === root);
  if (!rootStat) return 0;
  let total = 0;
  const walk = (s: ProcStat): void => {
    total += s.own + s.children;
    for (const child of byParent.get(s.pid) ?? []) walk(child);
  };
  walk(rootStat);
  return total;
}

/** The pid of the process whose command line holds every one of `args` (a server started with its own port). */
export function pidByArgs(args: readonly string[]): number | undefined {
  for (const pid of allPids()) {
    let cmdline: string[];
    try { cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0'); } catch { continue; }
    if (args.every((a) => cmdline.includes(a))) return pid;
  }
  return undefined;
}

/** CPU seconds of this process so far. */
export const ownCpuSeconds = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
