/** /proc/<pid>/stat, read for the tests' and benchmarks' process checks. */
import * as fs from 'node:fs';

export interface ProcStat {
  comm: string;
  ppid: number;
  /** CPU time in ms: its own (utime+stime) and its waited-for children's (cutime+cstime). */
  ownMs: number;
  childrenMs: number;
}

const TICK_MS = 10; // USER_HZ is 100 on Linux

/** The process's stat line, parsed; undefined when it is gone. */
export function procStat(pid: number): ProcStat | undefined {
  let stat: string;
  try {
    stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name in field 2 may hold spaces and parentheses: fields follow the last ')'.
  const close = stat.lastIndexOf(')');
  const f = stat.slice(close + 2).split(' ').map(Number);
  return { comm: stat.slice(stat.indexOf('(') + 1, close), ppid: f[1]!, ownMs: (f[11]! + f[12]!) * TICK_MS, childrenMs: (f[13]! + f[14]!) * TICK_MS };
}

/** The pid of a child of `ppid` whose command name is `comm`, if one runs. */
export function childNamed(ppid: number, comm: string): number | undefined {
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const s = procStat(Number(entry));
    if (s?.comm === comm && s.ppid === ppid) return Number(entry);
  }
  return undefined;
}
