/**
 * Runs inside a container's network namespace (test/lib/name-probe.ts starts it there) and
 * asks, as that container would, whether a name has appeared on its overlay and whether
 * its address answers, or whether a name has gone. One command per
 * stdin line, one JSON answer per stdout line; times are epoch ms (fractional), the
 * clock the benchmark reads too.
 *
 *   {"op":"appear","name":"x","timeoutMs":10000} → {"name","ip","dnsAt","answerAt"}
 *   {"op":"vanish","name":"x","timeoutMs":30000} → {"name","goneAt"}: when the first
 *       query was sent that got an answer without the name's address
 *
 * The name is asked of the embedded DNS (127.0.0.11) every 5 ms, each query new. "Answers"
 * means a TCP SYN to a closed port of the address got the kernel's RST back: the same
 * path (ARP through the VXLAN link's proxy, the FDB, the tunnel) and the same round trip
 * as an ICMP echo, with no process started in the timed path. A new SYN goes every 10 ms
 * until one is answered.
 */
import * as dgram from 'node:dgram';
import * as net from 'node:net';
import * as readline from 'node:readline';
import { encodeName, readName } from '../../src/network/dns/message.js';

const RESOLVER = '127.0.0.11';
const CLOSED_PORT = 9;

const now = (): number => performance.timeOrigin + performance.now();

interface Answer {
  rcode: number;
  ip: string | undefined;
}

/** A query for `name` type A, class IN, recursion desired. */
function query(id: number, name: string): Buffer {
  const head = Buffer.alloc(12);
  head.writeUInt16BE(id, 0);
  head.writeUInt16BE(0x0100, 2);
  head.writeUInt16BE(1, 4);
  const tail = Buffer.alloc(4);
  tail.writeUInt16BE(1, 0);
  tail.writeUInt16BE(1, 2);
  return Buffer.concat([head, encodeName(name), tail]);
}

/** The reply's rcode and its first A record. */
function parseAnswer(buf: Buffer): Answer & { id: number } {
  const id = buf.readUInt16BE(0);
  const rcode = buf.readUInt16BE(2) & 0xf;
  const answers = buf.readUInt16BE(6);
  let off = readName(buf, 12).end + 4;
  for (let i = 0; i < answers; i++) {
    off = readName(buf, off).end;
    const type = buf.readUInt16BE(off);
    const len = buf.readUInt16BE(off + 8);
    if (type === 1 && len === 4) return { id, rcode, ip: [...buf.subarray(off + 10, off + 14)].join('.') };
    off += 10 + len;
  }
  return { id, rcode, ip: undefined };
}

/**
 * Ask for `name` every 5 ms until `done` accepts an answer; resolves with the answer, the
 * time it came and the time its query was sent (an unknown name is forwarded upstream,
 * whose answer may take seconds: the query's time says when the name was gone).
 */
function poll(name: string, timeoutMs: number, done: (a: Answer) => boolean): Promise<{ at: number; askedAt: number; answer: Answer }> {
  return new Promise((resolve, reject) => {
    const sock = dgram.createSocket('udp4');
    let id = Math.floor(Math.random() * 0xffff);
    const asked = new Map<number, number>();
    const finish = (f: () => void): void => {
      clearInterval(timer);
      clearTimeout(limit);
      sock.close();
      f();
    };
    sock.on('message', (msg) => {
      try {
        const a = parseAnswer(msg);
        const askedAt = asked.get(a.id);
        if (askedAt !== undefined && done(a)) finish(() => resolve({ at: now(), askedAt, answer: a }));
      } catch {
        /* a malformed reply: ask again */
      }
    });
    sock.on('error', (e) => finish(() => reject(e)));
    const ask = (): void => {
      id = (id + 1) & 0xffff;
      asked.set(id, now());
      sock.send(query(id, name), 53, RESOLVER);
    };
    const timer = setInterval(ask, 5);
    const limit = setTimeout(() => finish(() => reject(new Error(`${name}: no answer within ${timeoutMs} ms`))), timeoutMs);
    ask();
  });
}

/** Send a SYN to ip's closed port every 10 ms until one is answered (refused or accepted). */
function answered(ip: string, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const sockets: net.Socket[] = [];
    let settled = false;
    const finish = (f: () => void): void => {
      if (settled) return;
      settled = true;
      clearInterval(timer);
      clearTimeout(limit);
      for (const s of sockets) s.destroy();
      f();
    };
    const attempt = (): void => {
      const s = net.connect({ host: ip, port: CLOSED_PORT });
      sockets.push(s);
      s.on('connect', () => finish(() => resolve(now())));
      s.on('error', (e: NodeJS.ErrnoException) => {
        if (e.code === 'ECONNREFUSED') finish(() => resolve(now()));
      });
    };
    const timer = setInterval(attempt, 10);
    const limit = setTimeout(() => finish(() => reject(new Error(`${ip}: no answer within ${timeoutMs} ms`))), timeoutMs);
    attempt();
  });
}

async function handle(cmd: { op: string; name: string; timeoutMs: number }): Promise<Record<string, unknown>> {
  if (cmd.op === 'appear') {
    const dns = await poll(cmd.name, cmd.timeoutMs, (a) => a.ip !== undefined);
    const ip = dns.answer.ip!;
    const answerAt = await answered(ip, cmd.timeoutMs);
    return { name: cmd.name, ip, dnsAt: dns.at, answerAt };
  }
  if (cmd.op === 'vanish') {
    const gone = await poll(cmd.name, cmd.timeoutMs, (a) => a.ip === undefined);
    return { name: cmd.name, goneAt: gone.askedAt };
  }
  throw new Error(`unknown op ${cmd.op}`);
}

const rl = readline.createInterface({ input: process.stdin });
rl.on('line', (line) => {
  const cmd = JSON.parse(line) as { op: string; name: string; timeoutMs: number };
  handle(cmd).then(
    (r) => process.stdout.write(JSON.stringify(r) + '\n'),
    (e: unknown) => process.stdout.write(JSON.stringify({ name: cmd.name, error: e instanceof Error ? e.message : String(e) }) + '\n'),
  );
});
