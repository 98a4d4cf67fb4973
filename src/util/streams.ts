/**
 * Error listeners for the streams berthd holds. A stream that emits 'error' with no
 * listener throws it out of the event loop and ends the daemon, and the daemon's pipes
 * and sockets fail in ordinary ways: a child that dies leaves its pipes reset
 * (ECONNRESET, EPIPE), a client that goes away resets its connection. Each owner learns
 * of the end from 'close' or the child's exit; the error itself carries nothing to act on.
 */
import type { ChildProcess } from 'node:child_process';
import type { Stream, Writable } from 'node:stream';

function ignore(): void {
  // the owner learns of the end from 'close' or the child's exit
}

/** Give each stream an 'error' listener that ignores the error. Returns nothing to chain on. */
export function ignoreStreamErrors(...streams: (Stream | null | undefined)[]): void {
  for (const s of streams) s?.on('error', ignore);
}

/** Every stdio pipe of a child, the extra ones included (conmon's fds 3-5). */
export function guardStdio(child: ChildProcess): void {
  ignoreStreamErrors(...(child.stdio as (Stream | null | undefined)[]));
}

/** Resolves when `stream` takes writes again ('drain'), or is gone ('close'): a wait that cannot hang. */
export async function drained(stream: Writable): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      stream.off('drain', done);
      stream.off('close', done);
      resolve();
    };
    stream.once('drain', done);
    stream.once('close', done);
  });
}
