/**
 * conmon: the per-container monitor that runs `runc create` (or `runc exec`), holds
 * the container's stdio, writes its log and exit code, and serves the attach socket.
 * It daemonizes, so containers outlive the daemon.
 *
 * Talking to it (conmon API version 1): pipes passed as extra fds, named in env vars.
 *   _OCI_SYNCPIPE   conmon -> us: {"data": pid} once created ({"data": -1, "message": …} on
 *                   failure); for an exec, a second {"data": exitCode} at the end
 *   _OCI_STARTPIPE  us -> conmon (exec --exec-attach only): first write lets it fork; the
 *                   second lets it run `runc exec`, once we are attached
 *   _OCI_ATTACHPIPE conmon -> us (exec --exec-attach only): {"data": 0} when the attach
 *                   socket is listening
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { systemError } from '../errors.js';
import { guardStdio } from '../util/streams.js';

interface CommonArgs {
  conmon: string;
  /** OCI runtime binary and its global arguments (--root=…), each a single argv element. */
  runtime: string;
  runtimeArgs: readonly string[];
  /** Container id (the runc id). */
  id: string;
  name: string;
  /** Directory for conmon's attach socket, ctl/winsz FIFOs (the bundle for a container). */
  dir: string;
  pidFile: string;
  conmonPidFile: string;
  tty: boolean;
  stdin: boolean;
}

export interface CreateArgs extends CommonArgs {
  exitDir: string;
  logPath: string | null;
  /** conmon's --log-size-max: the log file is started afresh past it. */
  logSizeMax?: number;
  leaveStdinOpen: boolean;
}

export interface ExecArgs extends CommonArgs {
  /** Unique id of the exec session (conmon's --cuuid). */
  execId: string;
  processSpec: string;
}

function commonArgv(a: CommonArgs, cuuid: string): string[] {
  const argv = [
    '--api-version', '1',
    '-c', a.id,
    '-u', cuuid,
    '-n', a.name,
    '-r', a.runtime,
    // One argv element each: glib would not take a value that starts with "--".
    ...a.runtimeArgs.map((x) => `--runtime-arg=${x}`),
    '-b', a.dir,
    '-p', a.pidFile,
    '-P', a.conmonPidFile,
    // The attach socket goes in `dir` itself rather than <socket-dir>/<cuuid>, so no
    // symlink directory is needed; clients connect relative to `dir` (108-byte limit).
    '--full-attach',
    '--socket-dir-path', a.dir,
    '--log-level', 'warning',
  ];
  if (a.tty) argv.push('-t');
  if (a.stdin) argv.push('-i');
  return argv;
}

/** conmon argv to create a container (runc create). */
export function createArgv(a: CreateArgs): string[] {
  const argv = commonArgv(a, a.id);
  argv.push('--exit-dir', a.exitDir);
  argv.push('-l', a.logPath === null ? 'none' : `k8s-file:${a.logPath}`);
  if (a.logPath !== null && a.logSizeMax !== undefined) argv.push('--log-size-max', String(a.logSizeMax));
  if (a.stdin && a.leaveStdinOpen) argv.push('--leave-stdin-open');
  return argv;
}

/** conmon argv to run an exec session (runc exec --detach) that we attach to first. */
export function execArgv(a: ExecArgs): string[] {
  const argv = commonArgv(a, a.execId);
  argv.push('-e', '--exec-process-spec', a.processSpec, '--exec-attach', '-l', 'none');
  return argv;
}

export interface SyncMessage {
  data: number;
  message?: string;
}

/** Reads conmon's newline-delimited JSON messages from one pipe. */
export class SyncReader {
  private buf = '';
  private readonly queue: SyncMessage[] = [];
  private waiter: ((m: SyncMessage | null) => void) | null = null;
  private ended = false;

  constructor(
    private readonly pipe: Duplex,
    private readonly context: () => string,
  ) {
    pipe.setEncoding('utf8');
    pipe.on('data', (chunk: string) => this.push(chunk));
    pipe.on('end', () => this.finish());
    pipe.on('close', () => this.finish());
    pipe.on('error', () => this.finish());
  }

  /** The next message; rejects if the pipe closes first. */
  async next(what: string): Promise<SyncMessage> {
    const m = this.queue.shift() ?? (this.ended ? null : await new Promise<SyncMessage | null>((r) => (this.waiter = r)));
    if (m === null) throw systemError(`conmon: no ${what} reported${this.context()}`);
    return m;
  }

  close(): void {
    this.pipe.destroy();
  }

  private push(chunk: string): void {
    this.buf += chunk;
    let nl: number;
    while ((nl = this.buf.indexOf('\n')) >= 0) {
      const line = this.buf.slice(0, nl).trim();
      this.buf = this.buf.slice(nl + 1);
      if (!line) continue;
      try {
        this.deliver(parseSyncMessage(line));
      } catch {
        // conmon only writes JSON here; a garbled line is skipped rather than fatal
      }
    }
  }

  private deliver(m: SyncMessage | null): void {
    const w = this.waiter;
    this.waiter = null;
    if (w) w(m);
    else if (m) this.queue.push(m);
  }

  private finish(): void {
    if (this.ended) return;
    this.ended = true;
    this.deliver(null);
  }
}

export function parseSyncMessage(line: string): SyncMessage {
  const v = JSON.parse(line) as { data?: unknown; message?: unknown };
  if (typeof v.data !== 'number') throw systemError(`conmon: unexpected message ${line}`);
  return typeof v.message === 'string' ? { data: v.data, message: v.message } : { data: v.data };
}

export interface Spawned {
  child: ChildProcess;
  sync: SyncReader;
  /** Present for exec sessions. */
  start?: Duplex;
  attach?: SyncReader;
}

/**
 * Start conmon. It forks and the first process exits at once; the daemonized conmon
 * keeps the pipes. Its early stderr (before it detaches) is kept for error messages.
 */
export function spawnConmon(conmon: string, argv: readonly string[], opts: { execAttach: boolean }): Spawned {
  const extra: 'pipe'[] = opts.execAttach ? ['pipe', 'pipe', 'pipe'] : ['pipe'];
  const env: NodeJS.ProcessEnv = { ...process.env, _OCI_SYNCPIPE: '3' };
  // A daemon run by systemd must not hand its notify/activation sockets to runc,
  // which would forward them into the container.
  for (const k of ['NOTIFY_SOCKET', 'LISTEN_PID', 'LISTEN_FDS', 'LISTEN_FDNAMES']) delete env[k];
  if (opts.execAttach) {
    env['_OCI_STARTPIPE'] = '4';
    env['_OCI_ATTACHPIPE'] = '5';
  }
  const child = spawn(conmon, [...argv], { stdio: ['ignore', 'pipe', 'pipe', ...extra], env, detached: true });
  // The daemonized conmon keeps these pipes; they reset when it dies.
  guardStdio(child);
  let stderr = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (s: string) => (stderr += s));
  child.stdout?.resume();
  let spawnError = '';
  child.on('error', (e: Error) => (spawnError = e.message));
  child.unref();
  const context = (): string => {
    const why = spawnError || stderr.trim();
    return why ? `: ${why}` : '';
  };
  const sync = new SyncReader(pipeAt(child, 3), context);
  if (!opts.execAttach) return { child, sync };
  return { child, sync, start: pipeAt(child, 4), attach: new SyncReader(pipeAt(child, 5), context) };
}

function pipeAt(child: ChildProcess, fd: number): Duplex {
  const s = (child.stdio as unknown as (Duplex | null)[])[fd];
  if (!s) throw systemError(`conmon: no pipe at fd ${fd}`);
  return s;
}

/** Wait for the first conmon process to exit (after it wrote the conmon pidfile). */
export async function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    // 'exit', not 'close': the daemonised conmon keeps the sync socket (fd 3) open for the
    // container's life, so 'close' could wait until a timeout closed it (60 s stalls).
    else child.once('exit', () => resolve());
  });
}

/**
 * Is pid a live conmon process? (Guards against pid reuse before signalling it.) One
 * synchronous read of /proc/<pid>/stat, whose second field is the executable's name:
 * cheap enough for liveness polls of hundreds of containers (an async read costs
 * several thread-pool round trips; /proc answers without blocking).
 */
export function isConmon(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    const stat = readFileSync(join('/proc', String(pid), 'stat'), 'utf8');
    const close = stat.lastIndexOf(')');
    const comm = stat.slice(stat.indexOf('(') + 1, close);
    return comm.includes('conmon') && stat.charAt(close + 2) !== 'Z';
  } catch {
    return false;
  }
}

/** Read a pid file; undefined if absent or empty. */
export async function readPid(path: string): Promise<number | undefined> {
  try {
    const n = parseInt((await readFile(path, 'utf8')).trim(), 10);
    return Number.isInteger(n) && n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}
