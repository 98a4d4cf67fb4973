/**
 * What a daemon run can leave behind when something went wrong, found and removed by
 * the worlds of the benchmarks and the chaos run: processes whose command line names
 * the run's folder (conmon, a stray daemon), the daemon's cgroups, mounts under the
 * folder. Each remover returns one line per kind of leftover it had to remove.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run_ = promisify(execFile);

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

/** Kill (SIGKILL) every process whose command line names `dir` a second after the first look, and name them. */
export function killProcessesMentioning(dir: string): string[] {
  // A daemon's namespace helpers die by its death (their parent-death signal): one still
  // on its way out a moment after the daemon's exit is no leak. What stays a second is.
  const deadline = Date.now() + 1000;
  let found = processesMentioning(dir);
  while (found.length > 0 && Date.now() < deadline) {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
    found = processesMentioning(dir);
  }
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
    // A killed process stays in its cgroup until it has exited; until then rmdir fails (EBUSY).
    for (const sub of [...children, dir]) waitEmpty(sub);
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
  for (const m of [...mounts].reverse()) await run_('umount', ['-l', m.target]).catch(() => undefined);
  return mounts.length > 0 ? [`mounts left under ${dir}: ${mounts.length}`] : [];
}

function readPids(cgroupDir: string): number[] {
  try {
    return fs.readFileSync(path.join(cgroupDir, 'cgroup.procs'), 'utf8').split('\n').filter((x) => x !== '').map(Number);
  } catch {
    return [];
  }
}

/** Wait (up to 5 s, blocking) until no process is left in the cgroup. */
function waitEmpty(cgroupDir: string): void {
  const tick = new Int32Array(new SharedArrayBuffer(4));
  for (let i = 0; i < 250 && readPids(cgroupDir).length > 0; i++) Atomics.wait(tick, 0, 0, 20);
}

function tryKill(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    /* already gone */
  }
}

/** The file in a world's folder that names its daemon (whose cgroups are berth-<first 12>). */
export const DAEMON_ID_FILE = 'daemon-id';

/** A test run (scripts/test.sh): its tag t<pid>, in its namespaces' names; its folder /tmp/berth-run-<pid>, its TMPDIR. */
export interface TestRun {
  tag: string;
  dir: string;
}

/** The runs whose runner (the pid in the tag) is gone: what a killed `make test` left. */
export function deadRuns(): TestRun[] {
  const pids = new Set<number>();
  for (const f of fs.readdirSync('/tmp')) if (/^berth-run-\d+$/.test(f)) pids.add(Number(f.slice('berth-run-'.length)));
  for (const n of namespaces()) for (const m of n.matchAll(/-t(\d+)-/g)) pids.add(Number(m[1]));
  return [...pids].filter((pid) => !fs.existsSync(`/proc/${pid}`)).map((pid) => ({ tag: `t${pid}`, dir: `/tmp/berth-run-${pid}` }));
}

/**
 * Remove all a run left: the cgroups of the daemons its worlds name, processes that name
 * its folder, mounts under it, namespaces carrying its tag, the folder. One line per kind
 * found; an empty folder alone is no leftover.
 */
export async function removeRunLeftovers(run: TestRun): Promise<string[]> {
  const entries = fs.existsSync(run.dir) ? fs.readdirSync(run.dir) : [];
  const daemonIds = entries.flatMap((e) => {
    try {
      return [fs.readFileSync(path.join(run.dir, e, DAEMON_ID_FILE), 'utf8').trim()];
    } catch {
      return [];
    }
  });
  const out = [...killProcessesMentioning(run.dir), ...daemonIds.flatMap((id) => removeDaemonCgroups(id)), ...(await unmountUnder(run.dir))];
  const netns = namespaces().filter((n) => n.includes(`-${run.tag}-`));
  for (const n of netns) await run_('ip', ['netns', 'del', n]).catch(() => undefined);
  if (netns.length > 0) out.push(`network namespaces: ${netns.join(' ')}`);
  if (entries.length > 0) out.push(`left in ${run.dir}: ${entries.join(' ')}`);
  fs.rmSync(run.dir, { recursive: true, force: true });
  return out;
}

function namespaces(): string[] {
  return fs.existsSync('/run/netns') ? fs.readdirSync('/run/netns') : [];
}
