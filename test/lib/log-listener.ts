/**
 * Listeners standing for the log drivers' destinations in a test's namespace: UDP, TCP,
 * TLS and unix stream servers (this file run as a script under nsenter), and a unix
 * datagram server (a perl one-liner: Node has no unix datagram sockets). Each reports
 * what it receives, as it comes, one JSON object a line:
 *
 *   {"ev":"ready"}                       bound
 *   {"ev":"conn","conn":N}               a stream client connected
 *   {"ev":"data","conn":N,"b64":"…"}     a datagram, or a chunk of a stream (perl's: "hex")
 *
 * `stall` accepts connections and never reads from them (a destination that hangs).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { createServer as netServer, type Socket } from 'node:net';
import { createInterface } from 'node:readline';
import { createServer as tlsServer } from 'node:tls';
import { fileURLToPath } from 'node:url';

export type ListenerMode = (
  | { kind: 'udp'; port: number }
  | { kind: 'tcp'; port: number; stall?: boolean }
  | { kind: 'tls'; port: number; cert: string; key: string }
  | { kind: 'unix'; path: string }
  | { kind: 'unixgram'; path: string }
) & {
  /** Only count the times this marker arrives (benchmarks): {"ev":"count","n":N} every 100 ms. */
  count?: string;
};

const UNIXGRAM_COUNT = String.raw`
use strict; use IO::Socket::UNIX; use Socket; use Time::HiRes qw(time); $| = 1;
my $s = IO::Socket::UNIX->new(Type => SOCK_DGRAM, Local => $ARGV[0]) or die "bind: $!";
print "{\"ev\":\"ready\"}\n";
my ($buf, $n, $last) = ('', 0, 0);
while (defined $s->recv($buf, 262144)) { $n++; if (time - $last > 0.1) { $last = time; print "{\"ev\":\"count\",\"n\":$n}\n"; } }
`;

const UNIXGRAM = String.raw`
use strict; use IO::Socket::UNIX; use Socket; $| = 1;
my $s = IO::Socket::UNIX->new(Type => SOCK_DGRAM, Local => $ARGV[0]) or die "bind: $!";
print "{\"ev\":\"ready\"}\n";
my $buf;
while (defined $s->recv($buf, 262144)) { print '{"ev":"data","conn":0,"hex":"' . unpack('H*', $buf) . "\"}\n"; }
`;

export class LogListener {
  /** Everything received, per connection (datagrams each their own entry under conn 0). */
  readonly chunks: { conn: number; data: Buffer }[] = [];
  connections = 0;
  /** Markers counted so far (count mode), and when the count last grew. */
  count = 0;
  countAt = 0;
  private readonly child: ChildProcess;
  private readyWait: Promise<void>;

  private constructor(mode: ListenerMode, netns: string | null) {
    const script = fileURLToPath(import.meta.url);
    const argv = mode.kind === 'unixgram' ? ['perl', '-e', mode.count ? UNIXGRAM_COUNT : UNIXGRAM, mode.path] : [process.execPath, script, JSON.stringify(mode)];
    const full = netns ? ['nsenter', `--net=${netns}`, '--', ...argv] : argv;
    this.child = spawn(full[0]!, full.slice(1), { stdio: ['ignore', 'pipe', 'inherit'] });
    this.readyWait = new Promise((resolve, reject) => {
      this.child.once('exit', (code) => reject(new Error(`listener exited ${code}`)));
      createInterface({ input: this.child.stdout! }).on('line', (line) => {
        const ev = JSON.parse(line) as { ev: string; conn?: number; b64?: string; hex?: string; n?: number };
        if (ev.ev === 'ready') resolve();
        else if (ev.ev === 'count' && ev.n !== this.count) [this.count, this.countAt] = [ev.n ?? 0, Date.now()];
        else if (ev.ev === 'conn') this.connections++;
        else if (ev.ev === 'data') this.chunks.push({ conn: ev.conn ?? 0, data: ev.hex !== undefined ? Buffer.from(ev.hex, 'hex') : Buffer.from(ev.b64 ?? '', 'base64') });
      });
    });
  }

  /** Start one; `netns` is a namespace path for network listeners (null: this namespace, for unix sockets). */
  static async start(mode: ListenerMode, netns: string | null): Promise<LogListener> {
    const l = new LogListener(mode, netns);
    await l.readyWait;
    return l;
  }

  /** The datagrams received. */
  datagrams(): Buffer[] {
    return this.chunks.map((c) => c.data);
  }

  /** The bytes of each stream connection, in order. */
  streams(): Buffer[] {
    const by = new Map<number, Buffer[]>();
    for (const c of this.chunks) by.set(c.conn, [...(by.get(c.conn) ?? []), c.data]);
    return [...by.values()].map((parts) => Buffer.concat(parts));
  }

  /** Wait until `done` holds (polling), or fail after `ms`. */
  async until(done: () => boolean, ms = 10_000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!done()) {
      if (Date.now() > deadline) throw new Error(`listener: condition not met within ${ms} ms (${this.chunks.length} chunks)`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  stop(): void {
    this.child.kill('SIGKILL');
  }
}

/** The listener itself, run as `node log-listener.js '<mode json>'`. */
function serve(mode: ListenerMode): void {
  const write = (o: object): void => void process.stdout.write(`${JSON.stringify(o)}\n`);
  let counted = 0;
  let tail: Buffer = Buffer.alloc(0);
  const marker = mode.count ? Buffer.from(mode.count) : null;
  if (marker) setInterval(() => write({ ev: 'count', n: counted }), 100);
  /** What arrived: reported, or in count mode only counted (a marker split over two chunks still counts once). */
  const got = (conn: number, d: Buffer): void => {
    if (!marker) return write({ ev: 'data', conn, b64: d.toString('base64') });
    const data = tail.length > 0 ? Buffer.concat([tail, d]) : d;
    for (let i = data.indexOf(marker); i >= 0; i = data.indexOf(marker, i + marker.length)) counted++;
    tail = data.subarray(Math.max(0, data.length - marker.length + 1));
  };
  const emit = write;
  if (mode.kind === 'udp') {
    const s = createSocket('udp4');
    s.on('message', (m) => got(0, m));
    s.bind(mode.port, '127.0.0.1', () => emit({ ev: 'ready' }));
    return;
  }
  let n = 0;
  const onConn = (sock: Socket): void => {
    const conn = ++n;
    emit({ ev: 'conn', conn });
    if (mode.kind === 'tcp' && mode.stall) {
      sock.pause();
      return;
    }
    sock.on('data', (d: Buffer) => got(conn, d));
    sock.on('error', () => undefined);
  };
  if (mode.kind === 'tls') {
    const server = tlsServer({ cert: readFileSync(mode.cert), key: readFileSync(mode.key) }, onConn);
    server.listen(mode.port, '127.0.0.1', () => emit({ ev: 'ready' }));
    return;
  }
  const server = netServer(onConn);
  if (mode.kind === 'unix') server.listen(mode.path, () => emit({ ev: 'ready' }));
  else if (mode.kind === 'tcp') server.listen(mode.port, '127.0.0.1', () => emit({ ev: 'ready' }));
}

if (process.argv[1] === fileURLToPath(import.meta.url) && process.argv[2]) serve(JSON.parse(process.argv[2]) as ListenerMode);
