/**
 * Copies between the user's terminal and a hijacked attach/exec connection, the way
 * docker's hijackedIOStreamer does:
 * - output: raw bytes to stdout with a TTY, otherwise demultiplexed frames to
 *   stdout/stderr;
 * - input: stdin bytes to the connection, then a half-close (CloseWrite) at its end; with
 *   no stdin attached the half-close is sent at once;
 * - with a TTY and stdin, stdin is put in raw mode for the duration and the detach keys
 *   (ctrl-p ctrl-q by default) end the session client-side.
 * The session ends when the output ends (or, without output, when the input ends).
 */
import type { Hijacked } from './client.js';
import { copyOutput } from './stdcopy.js';
import { makeRaw } from './terminal.js';
import { DEFAULT_DETACH_KEYS, detachKeyCodes, EscapeDetector } from '../util/detach-keys.js';

export interface SessionIO {
  readonly connection: Hijacked;
  /** Forwarded to the container; undefined when stdin is not attached. */
  readonly stdin?: NodeJS.ReadableStream;
  readonly stdout?: NodeJS.WritableStream;
  readonly stderr?: NodeJS.WritableStream;
  /** The container (or exec) has a TTY: raw output, raw-mode stdin, detach keys. */
  readonly tty: boolean;
  /** `--detach-keys` ("ctrl-p,ctrl-q"); invalid or absent means the default. */
  readonly detachKeys?: string;
  /** Aborting ends the session early (docker cancels it when nothing reads output). */
  readonly signal?: AbortSignal;
}

/** How a session ended: the stream closed, or the user typed the detach keys. */
export type SessionEnd = 'closed' | 'detached';

/** Runs one session; always releases the connection and restores the terminal. */
export async function runSession(io: SessionIO): Promise<SessionEnd> {
  const { socket } = io.connection;
  const restoreInput = io.stdin && io.tty ? makeRaw(io.stdin) : (): void => {};
  const input = startInput(io, restoreInput);
  try {
    const hasOutput = io.stdout !== undefined || io.stderr !== undefined;
    const output = hasOutput ? pumpOutput(io, restoreInput) : undefined;
    // Once the session has ended, a late failure of the other side is of no interest.
    output?.catch(() => undefined);
    const aborted = abortPromise(io.signal);
    const first = await Promise.race([
      output ? output.then(() => 'output' as const) : new Promise<never>(() => {}),
      input.done,
      aborted,
    ]);
    if (first === 'detached') return 'detached';
    if (first === 'eof' && output) {
      await Promise.race([output, aborted]);
    }
    return 'closed';
  } finally {
    input.stop();
    restoreInput();
    socket.destroy();
  }
}

async function abortPromise(signal: AbortSignal | undefined): Promise<'aborted'> {
  if (!signal) return new Promise(() => {});
  if (signal.aborted) return Promise.resolve('aborted');
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve('aborted'), { once: true }));
}

async function pumpOutput(io: SessionIO, restoreInput: () => void): Promise<void> {
  const { socket, head } = io.connection;
  await copyOutput(socket, { ...(io.stdout ? { stdout: io.stdout } : {}), ...(io.stderr ? { stderr: io.stderr } : {}) }, io.tty, head);
  // docker gives the terminal back as soon as the container's output ends.
  if (io.tty) restoreInput();
}

interface InputPump {
  readonly done: Promise<'eof' | 'detached'>;
  stop(): void;
}

function startInput(io: SessionIO, restoreInput: () => void): InputPump {
  const { socket } = io.connection;
  const stdin = io.stdin;
  if (!stdin) {
    socket.end();
    return { done: Promise.resolve('eof'), stop: () => {} };
  }
  const escape = io.tty ? new EscapeDetector(parseDetachKeys(io.detachKeys)) : undefined;
  let settle: (end: 'eof' | 'detached') => void = () => {};
  const done = new Promise<'eof' | 'detached'>((resolve) => (settle = resolve));
  const onData = (chunk: Buffer | string): void => {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    const { forward, detached } = escape ? escape.feed(bytes) : { forward: bytes, detached: false };
    if (forward.length > 0 && socket.writable) socket.write(forward);
    if (detached) {
      stop();
      settle('detached');
    }
  };
  const onEnd = (): void => {
    stop();
    restoreInput();
    socket.end();
    settle('eof');
  };
  const stop = (): void => {
    stdin.off('data', onData);
    stdin.off('end', onEnd);
    stdin.off('error', onEnd);
    stdin.pause();
  };
  stdin.on('data', onData);
  stdin.on('end', onEnd);
  stdin.on('error', onEnd);
  stdin.resume();
  return { done, stop };
}

/** docker's term.ToBytes; an invalid spec falls back to the default, as the docker CLI does. */
export function parseDetachKeys(spec: string | undefined): readonly number[] {
  return (spec ? detachKeyCodes(spec) : undefined) ?? DEFAULT_DETACH_KEYS;
}
