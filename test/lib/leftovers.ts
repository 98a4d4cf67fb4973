/**
 * What a daemon run can leave behind when something went wrong, found and removed by
 * the worlds of the benchmarks and the chaos run: processes whose command line names
 * the run's folder (conmon, a stray daemon), the daemon's cgroups, mounts under the
 * folder. Each remover returns one line per kind of leftover it had to remove.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { sh } from './world.js';

export interface MountEntry {
  target: string;
  fstype: string;
}

/** Processes (not this one) whose command line mentions `needle`: pid and argv. */
export function processesMentioning(needle: string): { pid: number; argv: string[]; cmd: string }[] {
  const out: { pid: number; argv: string[]; cmd: string }[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const raw = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (!raw.includes(needle)) continue;
      const argv = raw.split('\0').filter((a) => a !== '');
      out.push({ pid: Number(entry), argv, cmd: argv.join(' ') });
    } catch {
      /* gone meanwhile */
    }
  }
  return out;
}

/** Mounts of this (the root) mount namespace whose target lies under `dir`, in mount order. */
export function mountsUnder(dir: string): MountEntry[] {
  const out: MountEntry[] = [];
  for (const line of fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    if (line === '') continue;
    const fields = line.split(' ');
    const target = unescapeMount(fields[4] ?? '');
    const sep = fields.indexOf('-');
    if (target === dir || target.startsWith(dir + '/')) out.push({ target, fstype: fields[sep + 1] ?? '' });
  }
  return out;
}

function unescapeMount(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/** Kill (SIGKILL) every process whose command line names `dir`. */
export function killProcessesMentioning(dir: string): string[] {
  const found = processesMentioning(dir);
  for (const p of found) tryKill(p.pid);
  return found.length > 0 ? [`processes left: ${found.map((p) => `${p.pid} ${p.cmd.slice(0, 60)}`).join('; ')}`] : [];
}

/** The daemon's cgroup parent berth-<id12> in every controller: its processes killed, its folders removed. */
export function removeDaemonCgroups(daemonId: string | undefined): string[] {
  if (!daemonId) return [];
  const parent = `berth-${daemonId.slice(0, 12)}`;
  const out: string[] = [];
  for (const ctrl of fs.readdirSync('/sys/fs/cgroup')) {
    const dir = path.join('/sys/fs/cgroup', ctrl, parent);
    if (!fs.existsSync(dir)) continue;
    const children = fs.readdirSync(dir, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => path.join(dir, d.name));
    for (const sub of [...children, dir]) for (const pid of readPids(sub)) tryKill(pid);
    for (const sub of [...children, dir]) {
      try {
        fs.rmdirSync(sub);
      } catch {
        /* reported below */
      }
    }
    out.push(`cgroup ${dir}${children.length > 0 ? ` (${children.length} container cgroups)` : ''}${fs.existsSync(dir) ? ', could not be removed' : ''}`);
  }
  return out;
}

/** Unmount (lazily, innermost first) everything mounted under `dir`. */
export async function unmountUnder(dir: string): Promise<string[]> {
  const mounts = mountsUnder(dir);
  for (const m of [...mounts].reverse()) await sh('umount', ['-l', m.target]);
  return mounts.length > 0 ? [`mounts left under ${dir}: ${mounts.length}`] : [];
}

function readPids(cgroupDir: string): number[] {
  try {
    return fs.readFileSync(path.join(cgroupDir, 'cgroup.procs'), 'utf8').split('\n').filter((x) => x !== '').map(Number);
  } catch {
    return [];
  }
}

function tryKill(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    /* already gone */
  }
}
