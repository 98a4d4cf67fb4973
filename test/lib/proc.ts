/** /proc/<pid>/stat, read for the tests' and benchmarks' process checks. */
import { spawn } from 'node:child_process';
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

/** A process (in a namespace, through nsenter) that is ready once its output matches `readyOn`; `done` gives its output when it ends, `stop` interrupts it. */
export function started(args: string[], readyOn: RegExp): { ready: Promise<void>; done: Promise<string>; stop: () => void } {
  const child = spawn(args[0]!, args.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  let markReady: () => void = () => undefined;
  const ready = new Promise<void>((res) => (markReady = res));
  const check = (): void => {
    if (readyOn.test(out + err)) markReady();
  };
  child.stdout.on('data', (b: Buffer) => ((out += b.toString()), check()));
  child.stderr.on('data', (b: Buffer) => ((err += b.toString()), check()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  const done = new Promise<string>((res) =>
    child.on('close', () => {
      clearTimeout(timer);
      markReady();
      res(out);
    }),
  );
  return { ready, done, stop: () => void child.kill('SIGINT') };
}
