/**
 * Docker's signal names and numbers on Linux (moby/sys/signal): a kill's signal is
 * checked against them before anything else, as dockerd does. Pure.
 */
import { invalid } from '../../errors.js';

const NAMED: Record<string, number> = {
  HUP: 1, INT: 2, QUIT: 3, ILL: 4, TRAP: 5, ABRT: 6, IOT: 6, BUS: 7, FPE: 8, KILL: 9, USR1: 10,
  SEGV: 11, USR2: 12, PIPE: 13, ALRM: 14, TERM: 15, STKFLT: 16, CHLD: 17, CLD: 17, CONT: 18,
  STOP: 19, TSTP: 20, TTIN: 21, TTOU: 22, URG: 23, XCPU: 24, XFSZ: 25, VTALRM: 26, PROF: 27,
  WINCH: 28, IO: 29, POLL: 29, PWR: 30, SYS: 31, RTMIN: 34, RTMAX: 64,
};
for (let n = 1; n <= 15; n++) NAMED[`RTMIN+${n}`] = 34 + n;
for (let n = 1; n <= 14; n++) NAMED[`RTMAX-${n}`] = 64 - n;

const KNOWN = new Set(Object.values(NAMED));

/**
 * "SIGTERM", "term", "15" -> 15. A name Docker does not know, or 0, is `invalid signal: X`;
 * a number it does not know is `the linux daemon does not support signal N`.
 */
export function parseSignal(raw: string): number {
  const n = /^[+-]?\d+$/.test(raw) ? Number(raw) : NAMED[raw.toUpperCase().replace(/^SIG/, '')];
  if (n === undefined || n === 0 || !Number.isSafeInteger(n)) throw invalid(`invalid signal: ${raw}`);
  if (!KNOWN.has(n)) throw invalid(`the linux daemon does not support signal ${n}`);
  return n;
}

export const SIGKILL = 9;

/** The signal's number, or undefined for one Docker does not know (an image's odd StopSignal). */
export function signalNumber(raw: string): number | undefined {
  try {
    return parseSignal(raw);
  } catch {
    return undefined;
  }
}
