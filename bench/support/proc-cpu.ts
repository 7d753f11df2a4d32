/**
 * CPU time of processes, read from /proc (Linux): the benches report CPU per operation in each
 * process, which depends much less than wall time on what else the machine runs.
 */
import { readdirSync, readFileSync } from 'node:fs';

interface ProcStat {
  ppid: number;
  /** user + system CPU ms, all threads */
  ms: number;
}

/** Parent pid and CPU ms of a process; throws where there is none. */
function procStat(pid: number | string): ProcStat {
  const fields = readFileSync(`/proc/${String(pid)}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return { ppid: Number(fields[1]), ms: (Number(fields[11]) + Number(fields[12])) * 10 };
}

/** Every process's stat by pid (one that ends meanwhile is left out); throws where there is no /proc. */
function allProcStats(): Map<number, ProcStat> {
  const stats = new Map<number, ProcStat>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      stats.set(Number(d), procStat(d));
    } catch {
      // ended meanwhile
    }
  }
  return stats;
}

/** CPU ms of a process (all its threads); undefined where there is no /proc. */
export function cpuMsOf(pid: number | string): number | undefined {
  try {
    return procStat(pid).ms;
  } catch {
    return undefined;
  }
}

/** CPU ms of this process's children except `exclude` (e.g. the clients' process, leaving the chaincodes). */
export function childrenCpuMs(exclude: number | undefined): number {
  let total = 0;
  for (const [pid, t] of allProcStats()) if (t.ppid === process.pid && pid !== exclude) total += t.ms;
  return total;
}

/** CPU ms of `pid` and all its descendants (or of `pid` alone); undefined where there is no /proc. */
export function cpuOfTree(pid: number | undefined, alone = false): number | undefined {
  if (pid === undefined) return undefined;
  let stats: Map<number, ProcStat>;
  try {
    stats = allProcStats();
  } catch {
    return undefined;
  }
  let total = 0;
  const todo = [pid];
  while (todo.length > 0) {
    const p = todo.pop() as number;
    total += stats.get(p)?.ms ?? 0;
    if (!alone) for (const [child, s] of stats) if (s.ppid === p) todo.push(child);
  }
  return total;
}
