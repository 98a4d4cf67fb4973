/**
 * The few terminal facts the container verbs need, read off the CLI's streams so that
 * tests (plain in-memory streams) see "not a terminal": whether a stream is a TTY, its
 * size, raw mode for stdin, and size changes (Node turns SIGWINCH into a `resize` event
 * on a TTY output stream).
 */
import { spawnSync } from 'node:child_process';

export interface TtySize {
  readonly height: number;
  readonly width: number;
}

interface TtyOutput {
  readonly isTTY: true;
  readonly rows: number;
  readonly columns: number;
  on(event: 'resize', listener: () => void): unknown;
  off(event: 'resize', listener: () => void): unknown;
}

interface TtyInput {
  readonly isTTY: true;
  readonly isRaw: boolean;
  readonly fd?: number;
  setRawMode(mode: boolean): unknown;
}

function isTtyOutput(s: unknown): s is TtyOutput {
  return typeof s === 'object' && s !== null && (s as { isTTY?: unknown }).isTTY === true && typeof (s as { columns?: unknown }).columns === 'number';
}

function isTtyInput(s: unknown): s is TtyInput {
  return typeof s === 'object' && s !== null && (s as { isTTY?: unknown }).isTTY === true && typeof (s as { setRawMode?: unknown }).setRawMode === 'function';
}

export function isTerminal(stream: unknown): boolean {
  return typeof stream === 'object' && stream !== null && (stream as { isTTY?: unknown }).isTTY === true;
}

/** The size of a terminal output stream; {0, 0} when it is not one (docker's GetTtySize). */
export function ttySize(stream: unknown): TtySize {
  return isTtyOutput(stream) ? { height: stream.rows, width: stream.columns } : { height: 0, width: 0 };
}

/**
 * Puts a terminal input stream in raw mode (keys pass through one by one, ctrl-C is a
 * byte for the container) and returns the function that restores it. Idempotent
 * restore; a no-op for anything that is not a terminal.
 */
export function makeRaw(stream: unknown): () => void {
  if (!isTtyInput(stream) || stream.isRaw) return () => {};
  stream.setRawMode(true);
  // docker's raw mode (cfmakeraw) also stops output processing; Node's keeps ONLCR, which
  // would turn the container's "\r\n" into "\r\r\n". Leaving raw mode restores it.
  if (typeof stream.fd === 'number') spawnSync('stty', ['-opost'], { stdio: [stream.fd, 'ignore', 'ignore'] });
  let restored = false;
  return () => {
    if (restored) return;
    restored = true;
    stream.setRawMode(false);
  };
}

/** Calls `listener` whenever the terminal behind `stream` changes size; returns the unsubscribe. */
export function onResize(stream: unknown, listener: () => void): () => void {
  if (!isTtyOutput(stream)) return () => {};
  stream.on('resize', listener);
  return () => stream.off('resize', listener);
}
