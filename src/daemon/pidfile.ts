/** The pid file: refuses to start a second daemon on the same roots. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { conflict } from '../errors.js';

export function writePidfile(file: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const old = readPid(file);
  if (old !== undefined && old !== process.pid && isAlive(old)) {
    throw conflict(`pid file found, ensure berthd is not running or delete ${file}`);
  }
  fs.writeFileSync(file, `${process.pid}\n`);
}

export function removePidfile(file: string): void {
  if (readPid(file) === process.pid) fs.rmSync(file, { force: true });
}

function readPid(file: string): number | undefined {
  try {
    const pid = Number(fs.readFileSync(file, 'utf8').trim());
    return pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** A live berthd (not a zombie, not a pid reused by another program). */
function isAlive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) return false;
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('berthd');
  } catch {
    return false;
  }
}
