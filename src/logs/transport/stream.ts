/**
 * Connections the network drivers write to: TCP, TLS and unix stream sockets (one
 * socket, reconnected by the driver as its protocol says) and connected UDP sockets.
 * Errors read as Go's dialer words them ("dial tcp 127.0.0.1:514: connect: connection
 * refused"), since Docker's drivers pass those on.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { isIP, connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';

export type StreamTarget =
  | { kind: 'tcp'; host: string; port: number }
  | { kind: 'tls'; host: string; port: number; tls: ConnectionOptions }
  | { kind: 'unix'; path: string };

const ERRNO_TEXT: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ENOENT: 'no such file or directory',
  ETIMEDOUT: 'i/o timeout',
  EHOSTUNREACH: 'no route to host',
  ENETUNREACH: 'network is unreachable',
  EACCES: 'permission denied',
  ECONNRESET: 'connection reset by peer',
  EPIPE: 'broken pipe',
  ENOTSOCK: 'socket operation on non-socket',
  EPROTOTYPE: 'protocol wrong type for socket',
  ENOTFOUND: 'no such host',
};

function describe(t: StreamTarget): string {
  return t.kind === 'unix' ? `unix ${t.path}` : `tcp ${joinHostPort(t.host, t.port)}`;
}

export function joinHostPort(host: string, port: number | string): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Go's net.OpError text for a failed dial. */
export function dialError(t: StreamTarget, e: unknown): Error {
  const code = (e as NodeJS.ErrnoException).code ?? '';
  const text = ERRNO_TEXT[code];
  if (text === undefined) return new Error(`dial ${describe(t)}: ${(e as Error).message}`);
  if (code === 'ENOTFOUND' && t.kind !== 'unix') return new Error(`dial tcp: lookup ${t.host}: no such host`);
  return new Error(`dial ${describe(t)}: connect: ${text}`);
}

/** One stream connection; write() waits while the peer does not read. */
export class StreamConn {
  private socket: Socket | null = null;
  private broken: Error | null = null;

  constructor(
    readonly target: StreamTarget,
    private readonly timeoutMs = 10_000,
  ) {}

  get connected(): boolean {
    return this.socket !== null && this.broken === null;
  }

  /** Connect (closing any earlier socket). Rejects with Go's dial error. */
  async connect(onData?: (b: Buffer) => void): Promise<void> {
    this.close();
    const t = this.target;
    const socket = await new Promise<Socket>((resolve, reject) => {
      const s: Socket =
        t.kind === 'unix'
          ? netConnect({ path: t.path })
          : t.kind === 'tcp'
            ? netConnect({ host: t.host, port: t.port })
            : tlsConnect({ host: t.host, port: t.port, ...(isIP(t.host) ? {} : { servername: t.host }), ...t.tls });
      const timer = setTimeout(() => s.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })), this.timeoutMs);
      s.once(t.kind === 'tls' ? 'secureConnect' : 'connect', () => {
        clearTimeout(timer);
        s.off('error', fail);
        resolve(s);
      });
      const fail = (e: Error): void => {
        clearTimeout(timer);
        s.destroy();
        const errno = (e as NodeJS.ErrnoException).code ?? '';
        reject(t.kind === 'tls' && !(errno in ERRNO_TEXT) ? new Error(`tls: failed to verify certificate: ${e.message}`) : dialError(t, e));
      };
      s.once('error', fail);
    });
    socket.setNoDelay(true);
    this.broken = null;
    socket.on('error', (e: Error) => (this.broken ??= e));
    socket.on('close', () => (this.broken ??= new Error('connection closed')));
    if (onData) socket.on('data', onData);
    else socket.resume();
    this.socket = socket;
  }

  /** Write; resolves when the kernel took it (waiting while the peer does not read). */
  async write(data: Buffer): Promise<void> {
    const s = this.socket;
    if (!s || this.broken) throw this.broken ?? new Error('not connected');
    if (s.write(data)) return;
    await new Promise<void>((resolve, reject) => {
      const done = (): void => {
        s.off('drain', done);
        s.off('close', done);
        if (this.broken) reject(this.broken);
        else resolve();
      };
      s.on('drain', done);
      s.on('close', done);
    });
  }

  close(): void {
    this.socket?.destroy();
    this.socket = null;
  }
}

/** Datagrams handed to Node at once before a send waits for the oldest to go. */
const UDP_IN_FLIGHT = 256;

/** A UDP socket connected to one address (sends never wait; the kernel drops what it cannot take). */
export class UdpConn {
  private constructor(private readonly socket: UdpSocket) {}

  /** Resolve and connect; rejects with Go's words for a host that does not resolve. */
  static async open(host: string, port: number): Promise<UdpConn> {
    let address = host;
    if (isIP(host) === 0) {
      try {
        address = (await lookup(host)).address;
      } catch {
        throw new Error(`dial udp: lookup ${host}: no such host`);
      }
    }
    const socket = createSocket(isIP(address) === 6 ? 'udp6' : 'udp4');
    socket.on('error', () => undefined); // ICMP unreachable on a later send: nobody listens, as UDP goes
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.connect(port, address, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    return new UdpConn(socket);
  }

  private inFlight = 0;
  private waiting: (() => void) | null = null;

  /** Hand a datagram to the kernel; waits only while many are still on their way (the socket's queue is Node's). */
  async send(data: Buffer): Promise<void> {
    if (this.inFlight >= UDP_IN_FLIGHT) await new Promise<void>((resolve) => (this.waiting = resolve));
    this.inFlight++;
    this.socket.send(data, () => {
      this.inFlight--;
      const w = this.waiting;
      this.waiting = null;
      w?.();
    });
  }

  close(): void {
    try {
      this.socket.close();
    } catch {
      /* closed already */
    }
  }
}
