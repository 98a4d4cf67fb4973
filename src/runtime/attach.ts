/**
 * Stdio sessions over conmon's attach socket (through the relay), and pty resizing
 * through conmon's ctl FIFO ("1 <rows> <cols>\n"; conmon applies it with TIOCSWINSZ).
 */
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { PassThrough, type Writable } from 'node:stream';
import { startRelay, type Frame } from './attach-relay.js';
import { conflict, invalid } from '../errors.js';
import type { StdioSession, WindowSize } from './types.js';

export interface AttachTarget {
  /** Directory holding conmon's `attach` socket and `ctl` FIFO. */
  dir: string;
  tty: boolean;
}

/** Connect to the process conmon supervises in target.dir. */
export async function attachSession(target: AttachTarget, opts: { stdin: boolean }): Promise<StdioSession & { ended: Promise<void> }> {
  const relay = await startRelay(target.dir, 'attach', opts.stdin);
  const { child, decoder } = relay;
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  // Backpressure: a slow reader pauses the relay, which stops reading conmon's socket.
  let waiting = 0;
  const drained = (): void => {
    if (--waiting === 0) child.stdout?.resume();
  };
  const deliver = (frames: Frame[]): void => {
    for (const f of frames) {
      if (f.kind !== 'data') continue;
      const out = f.stream === 'stderr' && !target.tty ? stderr : stdout;
      if (!out.write(f.data) && !out.listeners('drain').includes(drained)) {
        waiting++;
        child.stdout?.pause();
        out.once('drain', drained);
      }
    }
  };
  deliver(relay.early);
  child.stdout?.on('data', (chunk: Buffer) => deliver(decoder.push(chunk)));
  const ended = new Promise<void>((resolve) => {
    child.once('close', () => {
      stdout.end();
      stderr.end();
      resolve();
    });
  });
  child.stdout?.resume();
  let closed = false;
  const stdin: Writable | null = opts.stdin ? child.stdin : null;
  stdin?.on('error', () => undefined); // the process may exit while a client still writes
  return {
    stdin,
    stdout,
    stderr,
    ended,
    resize: (size) => (target.tty ? resizePty(target.dir, size) : Promise.resolve()),
    close: () => {
      if (closed) return;
      closed = true;
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    },
  };
}

/** Ask conmon to resize the pty. Conflict if conmon is gone (the process exited). */
export async function resizePty(dir: string, size: WindowSize): Promise<void> {
  const rows = Math.trunc(size.rows);
  const cols = Math.trunc(size.cols);
  if (!(rows > 0 && rows < 65536 && cols > 0 && cols < 65536)) throw invalid(`invalid window size ${size.rows}x${size.cols}`);
  await control(dir, `1 ${rows} ${cols}\n`);
}

/** Ask conmon to start its log file afresh (control message 2). Conflict if conmon is gone. */
export async function reopenLog(dir: string): Promise<void> {
  await control(dir, '2 0 0\n');
}

/** One line on conmon's control FIFO. */
async function control(dir: string, line: string): Promise<void> {
  let fh;
  try {
    // Non-blocking: opening a FIFO nobody reads fails (ENXIO) instead of hanging.
    fh = await open(`${dir}/ctl`, constants.O_WRONLY | constants.O_NONBLOCK);
  } catch (e: unknown) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENXIO' || code === 'ENOENT') throw conflict('container is not running');
    throw e;
  }
  try {
    await fh.write(line);
  } finally {
    await fh.close();
  }
}
