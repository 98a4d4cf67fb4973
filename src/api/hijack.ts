/**
 * Hijacked connections (attach, exec): after a 101 the socket carries raw stdio.
 * Without a TTY, output is framed: [stream, 0, 0, 0, size uint32 BE] + payload.
 */
import type { Duplex, Readable } from 'node:stream';
import type { ApiRequest } from './router.js';
import type { StdioSession } from '../runtime/index.js';
import { invalid } from '../errors.js';
import { DEFAULT_DETACH_KEYS, detachKeyCodes, EscapeDetector } from '../util/detach-keys.js';
import { ignoreStreamErrors } from '../util/streams.js';

export const RAW_STREAM = 'application/vnd.docker.raw-stream';
export const MULTIPLEXED_STREAM = 'application/vnd.docker.multiplexed-stream';

/** Connections taken over: an error after that is told inside the stream, never as an HTTP answer. */
const taken = new WeakSet<Duplex>();

/** Whether hijack() took this connection over. */
export function isHijacked(socket: Duplex): boolean {
  return taken.has(socket);
}

/**
 * How long the stream waits after the 101 before its first bytes. docker-py reads the
 * answer's headers through a buffered reader and then reads the stream from the socket
 * underneath: bytes that came with the headers are lost in that buffer. dockerd's first
 * bytes come later by chance (a log to open, a process to start); ours, a log replayed
 * from memory or an error known at once, would often come in the same read.
 */
const HEADERS_ALONE_MS = 20;

/**
 * Take over the connection: answer 101 (or 200 without Upgrade) and hand back the
 * socket once the headers have gone out on their own. `tty` says the stream is raw;
 * without it output is framed (multiplexed).
 */
export async function hijack(req: ApiRequest, tty: boolean): Promise<Duplex> {
  const socket = req.upgrade?.socket ?? req.raw.socket;
  taken.add(socket);
  ignoreStreamErrors(socket); // a client may reset the connection at any time
  const type = tty ? RAW_STREAM : MULTIPLEXED_STREAM;
  const head = req.upgrade
    ? `HTTP/1.1 101 UPGRADED\r\nContent-Type: ${type}\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n`
    : `HTTP/1.1 200 OK\r\nContent-Type: ${type}\r\n\r\n`;
  socket.write(head);
  if (req.upgrade && req.upgrade.head.length > 0) socket.unshift(req.upgrade.head);
  await new Promise((r) => setTimeout(r, HEADERS_ALONE_MS));
  return socket;
}

/** The detachKeys of an attach or exec: the default when none, dockerd's refusal when invalid. */
export function detachKeysOf(spec: string | undefined): readonly number[] {
  if (spec === undefined || spec === '') return DEFAULT_DETACH_KEYS;
  const codes = detachKeyCodes(spec);
  if (!codes) throw invalid(`Invalid detach keys (${spec}) provided`);
  return codes;
}

/** What a hijacked stream carries on stdout: raw with a tty, else in a stdout frame. */
export function stdoutBytes(tty: boolean, text: string): Buffer {
  const b = Buffer.from(text);
  return tty ? b : frame(1, b);
}

/**
 * End a hijacked stream with a last message on stdout, as dockerd reports a failure
 * once the connection is taken over: the client prints it and sees the stream end.
 */
export function endWithMessage(socket: Duplex, tty: boolean, text: string): void {
  if (socket.destroyed) return;
  socket.end(stdoutBytes(tty, text));
}

export function frame(stream: 0 | 1 | 2 | 3, payload: Buffer): Buffer {
  const h = Buffer.alloc(8);
  h[0] = stream;
  h.writeUInt32BE(payload.length, 4);
  return Buffer.concat([h, payload]);
}

/**
 * Pipe a stdio session over a hijacked socket until the process's output ends.
 * Resolves when the socket is done; a socket already gone closes the session at once.
 */
export async function pipeSession(
  socket: Duplex,
  session: StdioSession,
  opts: {
    tty: boolean;
    stdout: boolean;
    stderr: boolean;
    stdin: boolean;
    closeStdinOnEnd: boolean;
    /**
     * The stream ends only once this resolves (the client reads the exit code as soon as
     * it ends); a text it resolves with is written on stdout last (an exec's failure).
     */
    endAfter?: Promise<string | undefined>;
    /** Typed into stdin, these end the attachment and leave the process running (docker's escapeProxy). */
    detachKeys: readonly number[];
  },
): Promise<void> {
  return new Promise((resolve) => {
    if (socket.destroyed) {
      session.close();
      return resolve();
    }
    let open = 0;
    const finish = (): void => {
      void (opts.endAfter ?? Promise.resolve(undefined)).then(
        (last) => (last === undefined ? socket.end() : endWithMessage(socket, opts.tty, last)),
        () => socket.end(),
      );
    };
    const forward = (r: Readable, stream: 1 | 2, wanted: boolean): void => {
      open++;
      let done = false;
      const ended = (): void => {
        if (done) return;
        done = true;
        if (--open === 0) finish();
      };
      r.on('data', (b: Buffer) => {
        if (!wanted || socket.destroyed) return;
        // A client that reads slowly slows the process down rather than filling our memory.
        if (!socket.write(opts.tty ? b : frame(stream, b))) {
          r.pause();
          socket.once('drain', () => r.resume());
        }
      });
      r.on('end', ended);
      r.on('error', ended);
    };
    forward(session.stdout, 1, opts.stdout);
    forward(session.stderr, 2, opts.stderr);
    if (opts.stdin && session.stdin) {
      const stdin = session.stdin;
      const escape = new EscapeDetector(opts.detachKeys);
      const onData = (b: Buffer): void => {
        const { forward, detached } = escape.feed(b);
        if (forward.length > 0) stdin.write(forward);
        if (!detached) return;
        socket.off('data', onData);
        socket.end();
      };
      socket.on('data', onData);
      socket.on('end', () => {
        if (opts.closeStdinOnEnd) stdin.end();
      });
      stdin.on('error', () => undefined);
    }
    // Reading the upgrade's JSON body may have paused the socket, and a 'data' listener
    // does not resume a stream paused explicitly: stdin would never flow.
    socket.resume();
    socket.on('close', () => {
      session.close();
      resolve();
    });
  });
}
