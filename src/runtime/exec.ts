/**
 * Exec sessions (docker exec), two ways:
 *
 * - Without a tty: `runc exec` as our own child, its stdio being pipes we hold, so the
 *   process writes straight into them (stdout and stderr kept apart) and runc's exit
 *   status is the process's. runc's own messages go to a JSON log file (--log), so a
 *   failure to start is told apart from the process's stderr.
 * - With a tty: runc needs a console socket to hand the pty master to (SCM_RIGHTS,
 *   which Node cannot receive), so conmon does it (conmon --exec --exec-attach) and we
 *   speak to the pty through its attach socket (attach-relay.ts), resize through its ctl FIFO.
 */
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough, Transform, type TransformCallback } from 'node:stream';
import { attachSession, resizePty } from './attach.js';
import { execArgv, isConmon, readPid, spawnConmon } from './conmon.js';
import { runcMessage, runcSays, type Runc } from './runc.js';
import { startTool } from '../kernel/exec.js';
import type { ExecExit, ExecSession } from './types.js';

export interface ExecTarget {
  runc: Runc;
  /** Container id. */
  id: string;
  execId: string;
  /** Private directory of this session (removed when it ends); holds process.json. */
  dir: string;
  stdin: boolean;
}

/** Exit code Docker reports when the command could not be run (126) or found (127). */
export function startFailureCode(message: string): number {
  return commandFailureCode(message) ?? 126;
}

/**
 * Docker's exit code for a runtime failure that is the command's: 126 when it may not be
 * run (permission denied, a directory), 127 when it is missing; undefined for any other.
 */
export function commandFailureCode(message: string): 126 | 127 | undefined {
  if (/permission denied|is a directory/i.test(message)) return 126;
  return runcSays(message, 'no-executable') ? 127 : undefined;
}

/** How dockerd words an exec the runtime could not start (containerd's "unknown" code last). */
export function execFailure(runtimeMessage: string): ExecExit {
  return { exitCode: startFailureCode(runtimeMessage), error: `OCI runtime exec failed: ${runtimeMessage}: unknown` };
}

export async function execDirect(t: ExecTarget): Promise<ExecSession> {
  const pidFile = join(t.dir, 'pid');
  const logFile = join(t.dir, 'runc.log');
  const argv = [...t.runc.globalArgs, '--log', logFile, '--log-format', 'json', 'exec', '--process', join(t.dir, 'process.json'), '--pid-file', pidFile, t.id];
  const child = startTool(t.runc.binary, argv, { stdin: t.stdin });
  // Read at once: Node discards a child's output nobody reads by the time it exits.
  const stdout = child.stdout!.pipe(new PassThrough());
  // What comes on stderr before the process runs is runc's own complaint, which the
  // client gets worded as dockerd does instead: held until the process has started.
  const stderr = new HeldStream();
  child.stderr!.pipe(stderr);
  let spawnError: string | undefined;
  const closed = new Promise<number>((resolve) => {
    child.once('error', (e: Error) => {
      spawnError = e.message;
      resolve(-1);
    });
    child.once('close', (code, signal) => resolve(code ?? (signal ? 128 : -1)));
  });
  const pid = await waitForPid(pidFile, closed);
  const exit = closed.then(async (code): Promise<ExecExit> => {
    const failure = spawnError ?? (code === 0 ? undefined : await runcFailure(logFile));
    await rm(t.dir, { recursive: true, force: true });
    return failure !== undefined ? execFailure(failure) : { exitCode: code };
  });
  if (pid !== undefined) stderr.release();
  else void exit.then((x) => (x.error === undefined ? stderr.release() : stderr.discard()));
  return {
    pid: pid ?? 0,
    exit,
    stdin: child.stdin,
    stdout,
    stderr,
    resize: () => Promise.resolve(),
    close: () => {
      // Detach: the process runs on, its further output is dropped.
      child.stdin?.destroy();
      for (const [from, to] of [[child.stdout, stdout], [child.stderr, stderr]] as const) {
        from?.unpipe(to);
        from?.resume();
        to.end();
      }
    },
    kill: (signal) => signalPid(pid, signal),
  };
}

export async function execTty(t: ExecTarget & { conmon: string }): Promise<ExecSession> {
  const argv = execArgv({
    conmon: t.conmon,
    runtime: t.runc.binary,
    runtimeArgs: t.runc.globalArgs,
    id: t.id,
    name: t.id,
    execId: t.execId,
    dir: t.dir,
    pidFile: join(t.dir, 'pid'),
    conmonPidFile: join(t.dir, 'conmon.pid'),
    processSpec: join(t.dir, 'process.json'),
    tty: true,
    stdin: t.stdin,
  });
  const conmon = spawnConmon(t.conmon, argv, { execAttach: true });
  const cleanup = async (): Promise<void> => {
    conmon.sync.close();
    conmon.attach?.close();
    conmon.start?.destroy();
    await rm(t.dir, { recursive: true, force: true });
  };
  // Before the start pipe closes: conmon takes EOF there as "go" and would run the command.
  const abort = async (): Promise<void> => {
    const pid = await readPid(join(t.dir, 'conmon.pid'));
    if (pid !== undefined && isConmon(pid)) signalPid(pid, 'SIGKILL');
    await cleanup();
  };
  try {
    conmon.start!.write('0'); // lets conmon set up and report its attach socket
    await conmon.attach!.next('attach socket');
    const session = await attachSession({ dir: t.dir, tty: true }, { stdin: t.stdin });
    conmon.start!.write('1'); // now it may run `runc exec`: nothing printed is lost
    const started = await conmon.sync.next('exec pid');
    if (started.data <= 0) {
      session.close();
      await cleanup();
      return { ...session, pid: 0, exit: Promise.resolve(execFailure(runcMessage(started.message ?? 'exec failed'))), kill: () => undefined };
    }
    const pid = started.data;
    const exit = (async (): Promise<ExecExit> => {
      const ended = await conmon.sync.next('exit code').catch(() => ({ data: 255 }));
      await session.ended;
      await cleanup();
      return { exitCode: ended.data };
    })();
    return {
      ...session,
      pid,
      exit,
      resize: (size) => resizePty(t.dir, size).catch(() => undefined),
      kill: (signal) => signalPid(pid, signal),
    };
  } catch (e: unknown) {
    await abort();
    throw e;
  }
}

/** Poll for runc's pid file until it appears or runc exits (then one last look). */
async function waitForPid(path: string, exited: Promise<unknown>): Promise<number | undefined> {
  let done = false;
  void exited.then(() => (done = true));
  for (let delay = 2; ; delay = Math.min(delay * 2, 50)) {
    const pid = await readPid(path);
    if (pid !== undefined || done) return pid ?? (await readPid(path));
    await Promise.race([exited, new Promise((r) => setTimeout(r, delay))]);
  }
}

/** runc's own error from its JSON log, if it logged one (the exec never ran). */
async function runcFailure(logFile: string): Promise<string | undefined> {
  let text: string;
  try {
    text = await readFile(logFile, 'utf8');
  } catch {
    return undefined;
  }
  const errors: string[] = [];
  for (const line of text.split('\n')) {
    try {
      const entry = JSON.parse(line) as { level?: unknown; msg?: unknown };
      if ((entry.level === 'error' || entry.level === 'fatal') && typeof entry.msg === 'string') errors.push(entry.msg);
    } catch {
      // not a JSON line
    }
  }
  return errors.length ? errors.join('; ') : undefined;
}

function signalPid(pid: number | undefined, signal: NodeJS.Signals): void {
  if (!pid) return;
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

/**
 * Passes what it is given through once released; until then keeps it (or, discarded,
 * drops all of it). The end waits for the decision too.
 */
class HeldStream extends Transform {
  private held: Buffer[] | null = [];
  private pendingEnd: TransformCallback | undefined;
  private dropping = false;

  release(): void {
    const held = this.held;
    if (held === null) return;
    this.held = null;
    if (!this.dropping) for (const b of held) this.push(b);
    const end = this.pendingEnd;
    this.pendingEnd = undefined;
    end?.();
  }

  discard(): void {
    this.dropping = true;
    this.release();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    if (this.held !== null) this.held.push(chunk);
    else if (!this.dropping) this.push(chunk);
    done();
  }

  override _flush(done: TransformCallback): void {
    if (this.held === null) done();
    else this.pendingEnd = done;
  }
}
