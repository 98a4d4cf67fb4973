/**
 * Tool runs through a small long-lived helper process instead of the daemon's own fork.
 *
 * Node's spawn() forks the daemon and blocks its event loop until the child has exec'd:
 * 1.3 ms at rest, more with every descriptor and page the daemon holds, and many ms when
 * the two CPUs are busy (a CPU profile at 600 containers put 45% of berthd's busy time in
 * spawn()). The helper is a perl process of a few MB (perl-base is Essential on Debian):
 * it reads framed requests on its stdin, forks and execs each tool, collects its output
 * and exit status, and writes a framed answer; the daemon only writes and reads a pipe.
 * It exits when its stdin closes, so it ends with the daemon. If it cannot start or
 * dies, runs fall back to spawn().
 *
 * Frames are length-prefixed: request `N(len) N(id) N/a*(stdin) (N/a*)*(argv)`; answer
 * `N(len) N(id) N(kind) l>(code) N/a*(stdout) N/a*(stderr)`, kind 0 = exited with code,
 * 1 = killed by signal code, 2 = could not be started (stderr says why).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { guardStdio } from '../util/streams.js';
import { libexecPath } from '../util/libexec.js';

/** How a tool run ended. */
export type ToolOutcome = Exclude<Outcome, { kind: 'unavailable' }>;

export type Outcome =
  | { kind: 'exited'; code: number; stdout: string; stderr: string }
  | { kind: 'signaled'; signal: number; stdout: string; stderr: string }
  | { kind: 'failed'; message: string }
  /** The helper could not start (no perl): the tool did not run. */
  | { kind: 'unavailable' };


interface Pending {
  resolve: (o: Outcome) => void;
}

/** One helper process; `run` resolves with the tool's outcome, or undefined if the helper is unusable. */
class Spawner {
  private child: ChildProcess | undefined;
  private broken = false;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private buf: Buffer = Buffer.alloc(0);

  run(argv: readonly string[], input: string): Promise<Outcome> | undefined {
    const child = this.helper();
    if (!child?.stdin) return undefined;
    const id = this.nextId++;
    const parts = [u32(id), framed(Buffer.from(input)), ...argv.map((a) => framed(Buffer.from(a)))];
    const body = Buffer.concat(parts);
    const result = new Promise<Outcome>((resolve) => this.pending.set(id, { resolve }));
    if (this.pending.size === 1) this.ref(true);
    child.stdin.write(Buffer.concat([u32(body.length), body]));
    return result;
  }

  private helper(): ChildProcess | undefined {
    if (this.broken) return undefined;
    if (this.child) return this.child;
    let child: ChildProcess;
    try {
      child = spawn('perl', [libexecPath('spawner.pl')], { stdio: ['pipe', 'pipe', 'inherit'] });
    } catch {
      this.broken = true;
      return undefined;
    }
    this.child = child;
    guardStdio(child); // its exit is handled below
    child.stdout!.on('data', (b: Buffer) => this.receive(b));
    const gone = (outcome: Outcome): void => {
      if (this.child !== child) return;
      this.child = undefined;
      for (const p of this.pending.values()) p.resolve(outcome);
      this.pending.clear();
    };
    child.on('error', () => {
      this.broken = true; // no perl: spawn() from now on, and the runs waiting never ran
      gone({ kind: 'unavailable' });
    });
    // Runs in flight die with it: their callers see a failure (the tool may or may not have run).
    child.on('exit', (code, signal) => gone({ kind: 'failed', message: `the spawner helper exited (${signal ?? code})` }));
    this.ref(false);
    return child;
  }

  /** The helper keeps the daemon's event loop alive only while a run waits for it. */
  private ref(on: boolean): void {
    const c = this.child;
    if (!c) return;
    for (const h of [c, c.stdin, c.stdout] as ({ ref(): unknown; unref(): unknown } | null)[]) {
      if (h) void (on ? h.ref() : h.unref());
    }
  }

  private receive(chunk: Buffer): void {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    while (this.buf.length >= 4) {
      const len = this.buf.readUInt32BE(0);
      if (this.buf.length < 4 + len) break;
      const body = this.buf.subarray(4, 4 + len);
      this.buf = this.buf.subarray(4 + len);
      const id = body.readUInt32BE(0);
      const kind = body.readUInt32BE(4);
      const code = body.readInt32BE(8);
      const outLen = body.readUInt32BE(12);
      const stdout = body.subarray(16, 16 + outLen).toString();
      const stderr = body.subarray(20 + outLen, 20 + outLen + body.readUInt32BE(16 + outLen)).toString();
      const p = this.pending.get(id);
      if (!p) continue;
      this.pending.delete(id);
      if (this.pending.size === 0) this.ref(false);
      p.resolve(kind === 0 ? { kind: 'exited', code, stdout, stderr } : kind === 1 ? { kind: 'signaled', signal: code, stdout, stderr } : { kind: 'failed', message: stderr });
    }
    if (this.buf.length === 0) this.buf = Buffer.alloc(0);
  }
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

function framed(b: Buffer): Buffer {
  return Buffer.concat([u32(b.length), b]);
}

/** BERTH_SPAWNER=0 turns the helper off (every run forks the daemon, as before). */
const shared = process.env.BERTH_SPAWNER === '0' ? undefined : new Spawner();

/** Run argv through the helper; undefined when it is off or unusable (the caller spawns itself). */
export function spawnViaHelper(argv: readonly string[], input: string): Promise<Outcome> | undefined {
  return shared?.run(argv, input);
}

/** For tests: a helper of their own. */
export function newSpawner(): { run(argv: readonly string[], input: string): Promise<Outcome> | undefined } {
  return new Spawner();
}
