/** The daemon's log: one line per event on stderr, filtered by --log-level. */
import type { LogLevel } from './options.js';

const RANK: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3, fatal: 4 };

export interface Logger {
  debug(msg: string): void;
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
  /** Change the level (a SIGHUP's reload). */
  setLevel(level: LogLevel): void;
}

export function createLogger(initial: LogLevel): Logger {
  let level = initial;
  const at = (l: LogLevel) => (msg: string) => {
    if (RANK[l] >= RANK[level]) process.stderr.write(`${new Date().toISOString()} ${l.toUpperCase()} ${msg}\n`);
  };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), setLevel: (l) => (level = l) };
}
