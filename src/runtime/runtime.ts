/**
 * The Runtime: containers as OCI bundles run by runc under conmon. Every operation
 * reads its state from disk (layout.ts), so a restarted daemon picks up where the last
 * one left off; nothing is cached in memory.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { attachSession, reopenLog, resizePty } from './attach.js';
import { createArgv, exited, isConmon, readPid, spawnConmon } from './conmon.js';
import { execDirect, execTty } from './exec.js';
import { readExitCode, waitExitFile } from './exits.js';
import { Layout, isValidId, type BundleMeta } from './layout.js';
import { readLogs } from './logs.js';
import { execProcess, ociConfig, type OciConfig } from './oci.js';
import { hostLookups } from './host-lookups.js';
import { Runc, probeOciRuntime, runcMessage, runcSays, which } from './runc.js';
import { readUserFiles, resolveUser } from './users.js';
import { mountOverlay, unmount } from '../kernel/mount.js';
import { cgroupVersion, probeCgroupFeatures, readCgroupFiles, removeEmptyCgroupParent, type CgroupFeatures } from '../kernel/cgroup.js';
import { parseCgroupV1, parseCgroupV2, V1_FILES, V2_FILES } from './cgroup-stats.js';
import { ociResources } from './resources.js';
import { BerthError, conflict, invalid, messageOf, notFound, systemError } from '../errors.js';
import type { CgroupStats, ContainerState, ExecSession, ExecSpec, LogEntry, LogOptions, ProcessUser, ResourceUpdate, RunSpec, Runtime, StdioSession, WindowSize } from './types.js';

export interface RuntimeOptions {
  /** Daemon exec-root (e.g. /run/berth); the runtime keeps its state below it. */
  execRoot: string;
  /** cgroupfs parent of container cgroups ("berth" -> /sys/fs/cgroup/<ctrl>/berth/<id>). */
  cgroupParent?: string;
  /** Path of the OCI runtime binary; probed when absent (crun where it works, else runc). */
  ociRuntime?: string;
  /** Path of conmon; found on PATH when absent. */
  conmon?: string;
}

/** How long conmon may take to create a container before we give up on it. */
const CREATE_TIMEOUT_MS = 60_000;

export async function createRuntime(opts: RuntimeOptions): Promise<Runtime> {
  const [oci, conmon, nofileHard] = await Promise.all([
    opts.ociRuntime ? Promise.resolve(opts.ociRuntime) : probeOciRuntime(),
    which(opts.conmon ?? 'conmon'),
    readNofileHard(),
  ]);
  if (!conmon) throw new BerthError('Unavailable', 'conmon not found: install conmon');
  const layout = new Layout(opts.execRoot);
  const version = cgroupVersion();
  await mkdir(layout.exitDir, { recursive: true, mode: 0o700 });
  await mkdir(layout.runcRoot, { recursive: true, mode: 0o700 });
  return new ConmonRuntime(layout, new Runc(oci, layout.runcRoot), conmon, {
    cgroupParent: opts.cgroupParent ?? 'berth',
    nofileHard,
    cgroupVersion: version,
    cgroupFeatures: probeCgroupFeatures(version),
  });
}

class ConmonRuntime implements Runtime {
  /** conmon's pid per container, read once for the liveness polls of `wait`. */
  private readonly conmonPids = new Map<string, number>();
  /**
   * Creates under way. runc makes the cgroup parent, then the container's cgroup in it:
   * the empty parent is only removed while none is, or a removal could take it away in
   * between (the start then fails with "mkdir …/<id>: no such file or directory").
   */
  private creating = 0;

  constructor(
    private readonly layout: Layout,
    private readonly runc: Runc,
    private readonly conmon: string,
    private readonly host: { cgroupParent: string; nofileHard: number; cgroupVersion: 1 | 2; cgroupFeatures: CgroupFeatures },
  ) {}

  get ociRuntime(): string {
    return this.runc.binary;
  }

  get cgroupFeatures(): CgroupFeatures {
    return this.host.cgroupFeatures;
  }

  async create(spec: RunSpec): Promise<{ pid: number }> {
    if (!isValidId(spec.id)) throw invalid(`invalid container id: ${spec.id}`);
    const dir = this.layout.bundle(spec.id);
    try {
      await mkdir(dir, { mode: 0o700 });
    } catch (e: unknown) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw conflict(`container ${spec.id} already exists in the runtime`);
      throw e;
    }
    this.creating++;
    try {
      const meta: BundleMeta = {
        logPath: spec.logPath,
        tty: spec.process.tty,
        openStdin: spec.process.openStdin,
        rootfs: spec.rootfs.merged,
      };
      await writeFile(this.layout.meta(spec.id), JSON.stringify(meta));
      // An exit file from an earlier run (a crash between removing the bundle and it)
      // would make this run look stopped at the next daemon start, which then kills it.
      await rm(this.layout.exitFile(spec.id), { force: true });
      await mountOverlay({ lower: spec.rootfs.layers, upper: spec.rootfs.upper, work: spec.rootfs.work, target: spec.rootfs.merged });
      // After the mount: --group-add's names are the container's own /etc/group's.
      const config = ociConfig(spec, this.host, await hostLookups(spec));
      await writeFile(this.layout.config(spec.id), JSON.stringify(config, null, 2));
      const pid = await this.spawnMonitor(spec);
      this.creating--;
      return { pid };
    } catch (e: unknown) {
      this.creating--; // first: this may have been the parent's last user
      await this.delete(spec.id).catch(() => undefined);
      throw e;
    }
  }

  /** The cgroup parent goes with the last container, unless a create may be making it right now. */
  private releaseCgroupParent(): void {
    if (this.creating === 0) removeEmptyCgroupParent(this.host.cgroupParent);
  }

  /** Start conmon, which runs `runc create`; resolve with the container's pid. */
  private async spawnMonitor(spec: RunSpec): Promise<number> {
    const id = spec.id;
    const argv = createArgv({
      conmon: this.conmon,
      runtime: this.runc.binary,
      runtimeArgs: this.runc.globalArgs,
      id,
      name: spec.name ?? id,
      dir: this.layout.bundle(id),
      pidFile: this.layout.pidFile(id),
      conmonPidFile: this.layout.conmonPidFile(id),
      tty: spec.process.tty,
      stdin: spec.process.openStdin,
      exitDir: this.layout.exitDir,
      logPath: spec.logPath,
      ...(spec.logSizeMax !== undefined ? { logSizeMax: spec.logSizeMax } : {}),
      // As Docker: only a client leaving a tty-less StdinOnce container closes its stdin;
      // with a tty it only detaches, and the next attach types into the same stdin.
      leaveStdinOpen: !spec.process.stdinOnce || spec.process.tty,
    });
    const { child, sync } = spawnConmon(this.conmon, argv, { execAttach: false });
    const timer = setTimeout(() => sync.close(), CREATE_TIMEOUT_MS);
    try {
      const msg = await sync.next('container pid');
      if (msg.data <= 0) throw createError(runcMessage(msg.message ?? 'runtime failed'));
      await exited(child); // the conmon pidfile is written by then
      return msg.data;
    } finally {
      clearTimeout(timer);
      sync.close();
    }
  }

  async start(id: string): Promise<void> {
    await this.requireBundle(id);
    await this.runc.start(id);
  }

  async kill(id: string, signal: string | number): Promise<void> {
    await this.requireBundle(id);
    try {
      await this.runc.kill(id, signal);
    } catch (e: unknown) {
      if (e instanceof BerthError && (e.kind === 'Conflict' || e.kind === 'NotFound')) throw conflict(`container ${id} is not running`);
      throw e;
    }
  }

  async wait(id: string, signal?: AbortSignal): Promise<number> {
    await this.requireBundle(id);
    return waitExitFile(this.layout.exitFile(id), () => this.conmonAlive(id), signal);
  }

  async exitedAt(id: string): Promise<string | undefined> {
    try {
      return (await stat(this.layout.exitFile(id))).mtime.toISOString();
    } catch {
      return undefined;
    }
  }

  async state(id: string): Promise<ContainerState> {
    if (!(await this.hasBundle(id))) return { status: 'missing' };
    const exitCode = await readExitCode(this.layout.exitFile(id));
    if (exitCode !== undefined) return { status: 'stopped', exitCode };
    const s = await this.runc.state(id);
    if (!s || s.status === 'stopped') return { status: 'stopped' };
    return { status: s.status, pid: s.pid };
  }

  async list(): Promise<string[]> {
    let names: string[];
    try {
      names = await readdir(this.layout.bundles);
    } catch {
      return [];
    }
    return names.filter((n) => n !== 'exits' && isValidId(n));
  }

  async delete(id: string): Promise<void> {
    if (!isValidId(id)) throw invalid(`invalid container id: ${id}`);
    const failures: string[] = [];
    const step = async (what: string, f: () => Promise<unknown>): Promise<void> => {
      try {
        await f();
      } catch (e: unknown) {
        failures.push(`${what}: ${messageOf(e)}`);
      }
    };
    // Nothing was ever made, or it is gone already: no spawns (rm of a stopped container).
    if (!existsSync(this.layout.bundle(id)) && !existsSync(join(this.layout.runcRoot, id))) {
      this.releaseCgroupParent();
      return;
    }
    const meta = await this.readMeta(id).catch(() => undefined);
    await step('runtime state', () => this.runc.delete(id));
    await step('conmon', () => this.stopConmon(id));
    if (meta?.rootfs) await step('rootfs', () => unmount(meta.rootfs, { lazy: true }));
    await step('bundle', () => rm(this.layout.bundle(id), { recursive: true, force: true }));
    await step('exit file', () => rm(this.layout.exitFile(id), { force: true }));
    this.conmonPids.delete(id);
    this.releaseCgroupParent();
    if (failures.length) throw systemError(`removing runtime state of ${id}: ${failures.join('; ')}`);
  }

  async attach(id: string, opts: { stdin: boolean }): Promise<StdioSession> {
    const meta = await this.readMeta(id);
    if (opts.stdin && !meta.openStdin) throw conflict(`container ${id} was not created with stdin open`);
    return attachSession({ dir: this.layout.bundle(id), tty: meta.tty }, opts);
  }

  async resize(id: string, size: WindowSize): Promise<void> {
    const meta = await this.readMeta(id);
    if (meta.tty) await resizePty(this.layout.bundle(id), size);
  }

  async resolveUser(id: string, user: string): Promise<ProcessUser> {
    return this.lookUpUser((await this.readMeta(id)).rootfs, user);
  }

  private async lookUpUser(rootfs: string, user: string): Promise<ProcessUser> {
    const files = await readUserFiles(rootfs);
    return resolveUser(user, files.passwd, files.group);
  }

  async exec(id: string, spec: ExecSpec): Promise<ExecSession> {
    const state = await this.state(id);
    if (state.status !== 'running') throw conflict(`container ${id} is not running`);
    const config = JSON.parse(await readFile(this.layout.config(id), 'utf8')) as OciConfig;
    const user = spec.user ? await this.resolveUser(id, spec.user) : undefined;
    const execId = randomBytes(8).toString('hex');
    const dir = this.layout.execDir(id, execId);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await writeFile(join(dir, 'process.json'), JSON.stringify(execProcess(config.process, spec, user)));
    const target = { runc: this.runc, id, execId, dir, stdin: spec.stdin };
    try {
      return spec.tty ? await execTty({ ...target, conmon: this.conmon }) : await execDirect(target);
    } catch (e: unknown) {
      await rm(dir, { recursive: true, force: true });
      throw e;
    }
  }

  async pause(id: string): Promise<void> {
    await this.requireBundle(id);
    await this.runc.pause(id);
  }

  async resume(id: string): Promise<void> {
    await this.requireBundle(id);
    await this.runc.resume(id);
  }

  async update(id: string, resources: ResourceUpdate): Promise<void> {
    await this.requireBundle(id);
    await this.runc.update(id, JSON.stringify(ociResources(resources)));
  }

  async pids(id: string): Promise<number[]> {
    await this.requireBundle(id);
    return this.runc.pids(id);
  }

  async stats(id: string): Promise<CgroupStats> {
    await this.requireBundle(id);
    // The group ociConfig gave it (cgroupfs driver).
    const group = `/${this.host.cgroupParent}/${id}`;
    const v2 = this.host.cgroupVersion === 2;
    const files = await readCgroupFiles(this.host.cgroupVersion, group, v2 ? V2_FILES : V1_FILES);
    if (files.size === 0) throw conflict(`container ${id} is not running`);
    return v2 ? parseCgroupV2(files) : parseCgroupV1(files);
  }

  async reopenLog(id: string): Promise<void> {
    await reopenLog(this.layout.bundle(id));
  }

  logs(id: string, opts: LogOptions = {}): AsyncIterable<LogEntry> {
    return this.logEntries(id, opts);
  }

  private async *logEntries(id: string, opts: LogOptions): AsyncGenerator<LogEntry> {
    const meta = await this.readMeta(id);
    if (meta.logPath === null) return;
    const exited = opts.follow ? this.wait(id, opts.signal) : undefined;
    yield* readLogs(meta.logPath, opts, exited);
  }

  private async stopConmon(id: string): Promise<void> {
    const pid = await readPid(this.layout.conmonPidFile(id));
    if (pid === undefined) return;
    // After runc delete --force the container is gone and conmon exits by itself once it
    // has written the exit file; give it a moment before killing it.
    for (let i = 0; i < 40 && isConmon(pid); i++) await sleep(50);
    if (isConmon(pid)) process.kill(pid, 'SIGKILL');
  }

  private async conmonAlive(id: string): Promise<boolean> {
    let pid = this.conmonPids.get(id);
    if (pid === undefined) {
      pid = await readPid(this.layout.conmonPidFile(id));
      if (pid !== undefined) this.conmonPids.set(id, pid);
    }
    return pid !== undefined && isConmon(pid);
  }

  private async hasBundle(id: string): Promise<boolean> {
    if (!isValidId(id)) return false;
    try {
      await readFile(this.layout.meta(id));
      return true;
    } catch {
      return false;
    }
  }

  private async requireBundle(id: string): Promise<void> {
    if (!(await this.hasBundle(id))) throw notFound(`No such container: ${id}`);
  }

  private async readMeta(id: string): Promise<BundleMeta> {
    if (!isValidId(id)) throw notFound(`No such container: ${id}`);
    try {
      return JSON.parse(await readFile(this.layout.meta(id), 'utf8')) as BundleMeta;
    } catch {
      throw notFound(`No such container: ${id}`);
    }
  }
}

/** A failed `runc create`: a missing or unrunnable command is the user's (InvalidParameter). */
function createError(message: string): BerthError {
  return runcSays(message, 'no-executable') ? invalid(message) : systemError(`OCI runtime create failed: ${message}`);
}

/** The daemon's hard limit on open files (/proc/self/limits). */
async function readNofileHard(): Promise<number> {
  try {
    const text = await readFile('/proc/self/limits', 'utf8');
    const m = /^Max open files\s+\S+\s+(\S+)/m.exec(text);
    const hard = m?.[1];
    if (hard === 'unlimited') return Number.MAX_SAFE_INTEGER;
    const n = hard === undefined ? NaN : parseInt(hard, 10);
    return Number.isInteger(n) && n > 0 ? n : 1024;
  } catch {
    return 1024;
  }
}

async function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
