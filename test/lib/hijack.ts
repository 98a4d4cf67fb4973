/** A raw hijacked connection to berthd (attach, exec start), for what the docker CLI hides. */
import * as net from 'node:net';

export interface RawStream {
  readonly socket: net.Socket;
  /** Everything received after the 101 headers, as text. */
  output(): string;
  /** The 101's status line and headers. */
  head(): string;
  /** Resolves once berthd has closed the connection (or the client destroyed it). */
  readonly closed: Promise<void>;
  /** Resolve once the output matches `re`; reject after `ms` with what came. */
  waitFor(re: RegExp, ms?: number): Promise<void>;
}

/** POST `path` with Upgrade: tcp and resolve once berthd has answered 101. */
export async function upgrade(sock: string, path: string, body?: unknown): Promise<RawStream> {
  const socket = net.connect(sock);
  const data = body === undefined ? '' : JSON.stringify(body);
  socket.write(
    `POST ${path} HTTP/1.1\r\nHost: berth\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n` +
      (data ? `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(data)}\r\n` : '') +
      `\r\n${data}`,
  );
  let received = '';
  let headersDone = false;
  const waiters = new Set<() => void>();
  socket.on('data', (b: Buffer) => {
    received += b.toString('latin1');
    for (const w of waiters) w();
  });
  socket.on('error', () => undefined);
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  const stream: RawStream = {
    socket,
    closed,
    output: () => (headersDone ? received.slice(received.indexOf('\r\n\r\n') + 4) : ''),
    head: () => received.slice(0, Math.max(0, received.indexOf('\r\n\r\n'))),
    waitFor: (re, ms = 5000) =>
      new Promise((resolve, reject) => {
        const check = (): void => {
          if (!re.test(stream.output())) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no ${re} in ${JSON.stringify(stream.output())}`));
        }, ms);
        waiters.add(check);
        check();
      }),
  };
  await new Promise<void>((resolve, reject) => {
    const check = (): void => {
      const end = received.indexOf('\r\n\r\n');
      if (end < 0) return;
      waiters.delete(check);
      const status = received.slice(0, received.indexOf('\r\n'));
      if (!status.startsWith('HTTP/1.1 101')) reject(new Error(`not upgraded: ${received}`));
      headersDone = true;
      resolve();
    };
    waiters.add(check);
    socket.once('close', () => reject(new Error(`closed before the answer: ${received}`)));
  });
  return stream;
}

/** A multiplexed stream's frames joined per stream (latin1 text); throws on a bad header. */
export function demux(raw: string): { stdout: string; stderr: string } {
  const out = { stdout: '', stderr: '' };
  const b = Buffer.from(raw, 'latin1');
  for (let at = 0; at < b.length; ) {
    if (at + 8 > b.length) throw new Error(`truncated frame header in ${JSON.stringify(raw)}`);
    const kind = b[at];
    const size = b.readUInt32BE(at + 4);
    if ((kind !== 1 && kind !== 2) || b[at + 1] !== 0 || b[at + 2] !== 0 || b[at + 3] !== 0) throw new Error(`bad frame header in ${JSON.stringify(raw)}`);
    const payload = b.subarray(at + 8, at + 8 + size).toString('latin1');
    if (kind === 1) out.stdout += payload;
    else out.stderr += payload;
    at += 8 + size;
  }
  return out;
}
