/**
 * The OCI runtime command line (runc, or crun which takes the same verbs). One-shot
 * verbs go through kernel/exec's run(); the one place that reads the runtime's error
 * text is runcSays().
 */
import { access, constants, readFile } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { run, KernelCommandError } from '../kernel/exec.js';
import { conflict, invalid, BerthError, systemError } from '../errors.js';

export interface RuncState {
  status: 'created' | 'running' | 'paused' | 'stopped';
  pid: number;
}

export class Runc {
  constructor(
    /** Path of the runc (or crun) binary. */
    readonly binary: string,
    /** --root: this daemon's private state directory. */
    readonly root: string,
  ) {}

  /** Global arguments every invocation carries (one argv element each). */
  get globalArgs(): string[] {
    return [`--root=${this.root}`];
  }

  /** The container's state, or null when the runtime does not know it. */
  async state(id: string): Promise<RuncState | null> {
    try {
      const out = await run(this.binary, [...this.globalArgs, 'state', id]);
      const s = JSON.parse(out) as { status?: unknown; pid?: unknown };
      const status = s.status;
      if (status !== 'created' && status !== 'running' && status !== 'paused' && status !== 'stopped') {
        throw systemError(`runc state ${id}: unexpected status ${String(status)}`);
      }
      return { status, pid: typeof s.pid === 'number' ? s.pid : 0 };
    } catch (e: unknown) {
      if (runcSays(e, 'missing')) return null;
      throw e;
    }
  }

  async start(id: string): Promise<void> {
    await this.verb(['start', id]);
  }

  async kill(id: string, signal: string | number): Promise<void> {
    await this.verb(['kill', id, normalizeSignal(signal)]);
  }

  /** Delete runtime state, killing the container if it still runs. Idempotent. */
  async delete(id: string): Promise<void> {
    await this.verb(['delete', '--force', id]);
  }

  /** Freeze every process of the container (the cgroup freezer). */
  async pause(id: string): Promise<void> {
    await this.verb(['pause', id]);
  }

  /** Thaw a paused container. */
  async resume(id: string): Promise<void> {
    await this.verb(['resume', id]);
  }

  /** The host pids of every process in the container's cgroup (runc ps). */
  async pids(id: string): Promise<number[]> {
    const out = await this.verb(['ps', '--format', 'json', id]);
    const pids: unknown = JSON.parse(out.trim() || '[]');
    if (!Array.isArray(pids) || !pids.every((p) => typeof p === 'number')) throw systemError(`runc ps ${id}: unexpected output ${out.slice(0, 200)}`);
    return pids as number[];
  }

  /**
   * Apply cgroup limits to the running container: `resources` is an OCI LinuxResources
   * JSON. A refusal says the cause, runc's last word (before it come its failed attempts
   * to set the old limits back).
   */
  async update(id: string, resources: string): Promise<void> {
    try {
      await run(this.binary, [...this.globalArgs, 'update', '--resources', '-', id], { input: resources });
    } catch (e: unknown) {
      if (!(e instanceof KernelCommandError) || runcSays(e, 'missing') || runcSays(e, 'not-running')) throw translateRuncError(e);
      throw systemError(runcMessage(e.stderr).split('; ').at(-1) ?? e.stderr.trim());
    }
  }

  private async verb(args: string[]): Promise<string> {
    try {
      return await run(this.binary, [...this.globalArgs, ...args]);
    } catch (e: unknown) {
      throw translateRuncError(e);
    }
  }
}

/** "SIGTERM", "TERM", "term", "15", 15 -> what runc kill takes. */
export function normalizeSignal(signal: string | number): string {
  const s = String(signal).trim().toUpperCase();
  if (/^\d{1,2}$/.test(s)) return s;
  if (/^(SIG)?[A-Z][A-Z0-9]*(\+\d{1,2}|-\d{1,2})?$/.test(s)) return s.startsWith('SIG') ? s : `SIG${s}`;
  throw invalid(`invalid signal: ${String(signal)}`);
}

/** The msg="…" of runc's logrus line, else the whole text. */
export function runcMessage(stderr: string): string {
  const msgs = [...stderr.matchAll(/msg="((?:[^"\\]|\\.)*)"/g)].map((m) => (m[1] ?? '').replace(/\\(.)/g, '$1'));
  return msgs.length > 0 ? msgs.join('; ') : stderr.trim();
}

export type RuncCondition = 'missing' | 'not-running' | 'already-running' | 'no-executable';

/** The one place that reads runc's (and crun's) error text. Accepts an error or raw text. */
export function runcSays(e: unknown, what: RuncCondition): boolean {
  const text = e instanceof KernelCommandError ? e.stderr : typeof e === 'string' ? e : '';
  switch (what) {
    case 'missing':
      return /container does not exist|container .* does not exist|\/status.*No such file or directory/i.test(text);
    case 'not-running':
      return /container not running|is not running|container .* not running/i.test(text);
    case 'already-running':
      return /already running|cannot start a container that has stopped|cannot start an already running/i.test(text);
    case 'no-executable':
      return /executable file not found|no such file or directory|permission denied/i.test(text);
  }
}

/** runc failures the engine can act on become typed errors; the rest stay System. */
function translateRuncError(e: unknown): unknown {
  if (!(e instanceof KernelCommandError)) return e;
  const msg = runcMessage(e.stderr);
  if (runcSays(e, 'missing')) return new BerthError('NotFound', `No such container: ${msg}`);
  if (runcSays(e, 'not-running') || runcSays(e, 'already-running')) return conflict(msg);
  return systemError(`${e.argv[0] ?? 'runc'}: ${msg}`);
}

/**
 * Which cgroup layout the host has. crun refuses the hybrid layout (v1 controllers
 * plus cgroup2 at /sys/fs/cgroup/unified), which is why the runtime is probed.
 */
export function cgroupMode(mounts: string): 'unified' | 'hybrid' | 'legacy' {
  let v2Root = false;
  let v2Unified = false;
  for (const line of mounts.split('\n')) {
    const [, mnt, type] = line.split(' ');
    if (type === 'cgroup2' && mnt === '/sys/fs/cgroup') v2Root = true;
    if (type === 'cgroup2' && mnt === '/sys/fs/cgroup/unified') v2Unified = true;
  }
  if (v2Root) return 'unified';
  return v2Unified ? 'hybrid' : 'legacy';
}

/** crun when it is installed and the cgroup layout is one it supports, else runc. */
export function pickRuntime(found: { crun?: string; runc?: string }, mode: 'unified' | 'hybrid' | 'legacy'): string | undefined {
  if (found.crun && mode !== 'hybrid') return found.crun;
  return found.runc ?? found.crun;
}

/** Find an executable on PATH (or at an absolute path). */
export async function which(name: string): Promise<string | undefined> {
  const candidates = name.includes('/') ? [name] : (process.env['PATH'] ?? '/usr/sbin:/usr/bin:/sbin:/bin').split(delimiter).map((d) => join(d, name));
  for (const p of candidates) {
    try {
      await access(p, constants.X_OK);
      return p;
    } catch {
      // not here; try the next directory
    }
  }
  return undefined;
}

/** Probe the machine for the OCI runtime to use. Unavailable-style System error if none. */
export async function probeOciRuntime(): Promise<string> {
  const [crun, runc, mounts] = await Promise.all([which('crun'), which('runc'), readFile('/proc/self/mounts', 'utf8')]);
  const found: { crun?: string; runc?: string } = {};
  if (crun) found.crun = crun;
  if (runc) found.runc = runc;
  const pick = pickRuntime(found, cgroupMode(mounts));
  if (!pick) throw new BerthError('Unavailable', 'no OCI runtime found: install runc (or crun)');
  return pick;
}
