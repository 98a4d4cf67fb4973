/**
 * Datagrams to a unix socket (journald's native socket, syslog's unixgram://). Node has
 * no unix datagram sockets, so a small perl helper (perl-base is Essential on Debian)
 * holds one, connected to the path, and sends what it reads from its stdin:
 *
 *   stdin   frames [op: u8][length: u32 BE][payload]: op 0 sends the payload as one
 *           datagram, op 1 (re)connects and answers "probe ok" / "probe err <reason>"
 *   stdout  those answers, and "err <reason>" for a datagram that could not be sent
 *           (after one reconnect and retry)
 *
 * One helper per socket path, shared by every container that logs there; it ends when
 * the last user releases it, or with the daemon (its stdin closes). A destination that
 * stops reading blocks only its own helper; the pipe in front of it fills, and the
 * shipper's queue before that.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { libexecPath } from '../../util/libexec.js';


export class UnixgramSender {
  private readonly probes: ((err: string | null) => void)[] = [];
  private users = 0;
  private dead = false;
  /** Datagrams the helper could not send, and the last reason. */
  failed = 0;
  lastError = '';

  private constructor(
    readonly path: string,
    private readonly child: ChildProcess,
    private readonly onIdle: () => void,
  ) {
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => this.answer(line));
    child.stdin!.on('error', () => undefined);
    child.on('exit', () => {
      this.dead = true;
      for (const p of this.probes.splice(0)) p('helper exited');
    });
  }

  /** A helper for `path`: shared, from `pool`, one more user. */
  static acquire(pool: Map<string, UnixgramSender>, path: string): UnixgramSender {
    let s = pool.get(path);
    if (!s || s.dead) {
      const child = spawn('perl', [libexecPath('unixgram.pl'), path], { stdio: ['pipe', 'pipe', 'ignore'] });
      child.on('error', () => undefined);
      s = new UnixgramSender(path, child, () => pool.delete(path));
      pool.set(path, s);
    }
    s.users++;
    return s;
  }

  /** Connect again now; rejects with the reason ("No such file or directory", "Connection refused"). */
  async probe(): Promise<void> {
    if (this.dead) throw new Error('the unix datagram helper is not running');
    const answer = new Promise<string | null>((resolve) => this.probes.push(resolve));
    this.child.stdin!.write(frame(1, Buffer.alloc(0)));
    const err = await answer;
    if (err !== null) throw new Error(err);
  }

  /** Queue one datagram; waits while the helper's pipe is full. */
  async send(datagram: Buffer): Promise<void> {
    if (this.dead) throw new Error('the unix datagram helper is not running');
    const stdin = this.child.stdin!;
    if (!stdin.write(frame(0, datagram))) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          stdin.off('drain', done);
          this.child.off('exit', done);
          resolve();
        };
        stdin.once('drain', done);
        this.child.once('exit', done);
      });
    }
  }

  /** One user less; the last one ends the helper. */
  release(): void {
    if (--this.users > 0) return;
    this.onIdle();
    this.child.stdin!.end();
  }

  private answer(line: string): void {
    if (line.startsWith('probe ')) {
      const p = this.probes.shift();
      p?.(line === 'probe ok' ? null : line.slice('probe err '.length));
    } else if (line.startsWith('err ')) {
      this.failed++;
      this.lastError = line.slice(4);
    }
  }
}

function frame(op: number, payload: Buffer): Buffer {
  const h = Buffer.alloc(5);
  h[0] = op;
  h.writeUInt32BE(payload.length, 1);
  return Buffer.concat([h, payload]);
}
