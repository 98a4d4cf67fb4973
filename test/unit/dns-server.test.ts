/**
 * The per-container resolver against real sockets on loopback (the daemon's own
 * namespace stands in for the container's): local answers, forwarding, failover,
 * timeouts, spoofed replies, TCP, and host loopback upstreams (asked through sockets of
 * their own, which here are in the same namespace as the "container's").
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as dgram from 'node:dgram';
import * as net from 'node:net';
import { once } from 'node:events';
import { DnsDirectory } from '../../src/network/dns/directory.js';
import { ContainerResolver } from '../../src/network/dns/server.js';
import type { Upstream } from '../../src/network/dns/upstreams.js';
import { openLoopbackUdp } from '../../src/kernel/loopback-sockets.js';
import { encodeName, frameTcp, parseReplyHead, TcpFrameReader, TYPE, RCODE } from '../../src/network/dns/message.js';

/**
 * Forwarding timeouts of the resolver under test. A wait is told from no wait by time,
 * so the gap between them is wide (FAST_MS against TRY_MS) for a loaded CI machine.
 */
const TRY_MS = 400;
const TOTAL_MS = 1000;
const FAST_MS = 300;

const ME = 'a'.repeat(64);
const quiet = { debug: () => undefined, warn: (m: string) => assert.fail(m) };

function makeQuery(id: number, name: string, type: number = TYPE.A, flags = 0x0100): Buffer {
  const head = Buffer.alloc(12);
  head.writeUInt16BE(id, 0);
  head.writeUInt16BE(flags, 2);
  head.writeUInt16BE(1, 4);
  const tail = Buffer.alloc(4);
  tail.writeUInt16BE(type, 0);
  tail.writeUInt16BE(1, 2);
  return Buffer.concat([head, encodeName(name), tail]);
}

/** An upstream's reply to `q`: one A record 192.0.2.<last>, or just an rcode. */
function upstreamReply(q: Buffer, opts: { rcode?: number; last?: number; tc?: boolean }): Buffer {
  const head = Buffer.from(q);
  head.writeUInt16BE(0x8180 | (opts.tc ? 0x0200 : 0) | (opts.rcode ?? 0), 2);
  if (opts.last === undefined) return head;
  head.writeUInt16BE(1, 6);
  return Buffer.concat([head, Buffer.from(`c00c000100010000003c0004c00002${opts.last.toString(16).padStart(2, '0')}`, 'hex')]);
}

/** The A addresses of a reply (records written as upstreamReply and buildReply do). */
function addresses(reply: Buffer, questionEnd: number): string[] {
  const out: string[] = [];
  let pos = questionEnd;
  for (let i = 0; i < reply.readUInt16BE(6); i++) {
    out.push([...reply.subarray(pos + 12, pos + 16)].join('.'));
    pos += 16;
  }
  return out;
}

interface FakeUpstream {
  socket: dgram.Socket;
  address: string;
  queries: Buffer[];
  /** Source port of the last query (the resolver's upstream socket). */
  lastPort: number;
  /** How to answer a query; undefined: stay silent. */
  answer: (q: Buffer) => Buffer | undefined;
}

async function fakeUpstream(address: string, port: number): Promise<FakeUpstream> {
  const socket = dgram.createSocket('udp4');
  const fake: FakeUpstream = { socket, address, queries: [], lastPort: 0, answer: () => undefined };
  socket.on('message', (q: Buffer, r: dgram.RemoteInfo) => {
    fake.queries.push(q);
    fake.lastPort = r.port;
    const reply = fake.answer(q);
    if (reply) socket.send(reply, r.port, r.address);
  });
  socket.bind(port, address);
  await once(socket, 'listening');
  return fake;
}

class Client {
  private readonly socket = dgram.createSocket('udp4');
  private readonly waiting = new Map<number, (b: Buffer) => void>();
  constructor(private readonly port: number) {
    this.socket.on('message', (b: Buffer) => this.waiting.get(b.readUInt16BE(0))?.(b));
  }
  send(q: Buffer): void {
    this.socket.send(q, this.port, '127.0.0.1');
  }
  ask(q: Buffer, timeoutMs = 3000): Promise<Buffer | undefined> {
    return new Promise((resolve) => {
      const t = setTimeout(() => resolve(undefined), timeoutMs);
      this.waiting.set(q.readUInt16BE(0), (b) => {
        clearTimeout(t);
        resolve(b);
      });
      this.send(q);
    });
  }
  close(): void {
    this.socket.close();
  }
}

async function bound(s: dgram.Socket, address: string): Promise<dgram.Socket> {
  s.bind(0, address);
  await once(s, 'listening');
  return s;
}

describe('dns server', () => {
  const directory = new DnsDirectory();
  let resolver: ContainerResolver;
  let client: Client;
  let udpPort: number;
  let tcpPort: number;
  let live: FakeUpstream;
  let other: FakeUpstream;
  let tcpUpstream: net.Server;
  let tcpUpstreamHits = 0;
  const dead = '127.0.0.4';
  let upstream4Port: number;
  /** Sockets the resolver opened for host loopback upstreams, and the last TCP retry's upstream. */
  const hostSockets: dgram.Socket[] = [];
  let tcpRetriedTo: Upstream | undefined;
  /** A plain address is an upstream asked from the container's namespace. */
  const up = (u: string | Upstream): Upstream => (typeof u === 'string' ? { address: u, fromHost: false } : u);
  const config = (c: { upstreams?: Array<string | Upstream>; forward?: boolean }): void =>
    resolver.configure({ upstreams: (c.upstreams ?? [live.address]).map(up), forward: c.forward ?? true });
  const portOf = (s: dgram.Socket): number => s.address().port;
  /** One query to the resolver over TCP, and its reply. */
  const askOverTcp = async (q: Buffer): Promise<Buffer> => {
    const s = net.connect(tcpPort, '127.0.0.1');
    await once(s, 'connect');
    const reader = new TcpFrameReader();
    const reply = new Promise<Buffer>((resolve) => s.on('data', (c: Buffer) => reader.push(c).forEach(resolve)));
    s.write(frameTcp(q));
    try {
      return await reply;
    } finally {
      s.destroy();
    }
  };

  before(async () => {
    directory.addEndpoint({ containerId: ME, networkId: 'n1', networkName: 'front', name: 'me', aliases: [], links: [], ipv4: '10.1.0.2' });
    directory.addEndpoint({ containerId: 'b'.repeat(64), networkId: 'n1', networkName: 'front', name: 'web', aliases: ['svc'], links: [], ipv4: '10.1.0.3' });
    live = await fakeUpstream('127.0.0.2', 0);
    const port = (live.socket.address() as net.AddressInfo).port;
    other = await fakeUpstream('127.0.0.3', port);
    tcpUpstream = net.createServer((s) => {
      tcpUpstreamHits++;
      const reader = new TcpFrameReader();
      s.on('data', (c: Buffer) => {
        for (const q of reader.push(c)) s.write(frameTcp(upstreamReply(q, { last: 99 })));
      });
    });
    tcpUpstream.listen(port, '127.0.0.2');
    await once(tcpUpstream, 'listening');
    const udp = await bound(dgram.createSocket('udp4'), '127.0.0.1');
    const upstream4 = await bound(dgram.createSocket('udp4'), '127.0.0.1');
    const tcp = net.createServer();
    tcp.listen(0, '127.0.0.1');
    await once(tcp, 'listening');
    udpPort = (udp.address() as net.AddressInfo).port;
    upstream4Port = portOf(upstream4);
    tcpPort = (tcp.address() as net.AddressInfo).port;
    resolver = new ContainerResolver({
      containerId: ME,
      sockets: { udp, tcp, upstream4, upstream6: undefined },
      directory,
      config: { upstreams: [up(live.address)], forward: true },
      log: quiet,
      forwarding: {
        timing: { tryMs: TRY_MS, totalMs: TOTAL_MS },
        port,
        connectTcp: async (upstream, p) => {
          tcpRetriedTo = upstream;
          const s = net.connect(p, upstream.address);
          await once(s, 'connect');
          return s;
        },
        openHostUdp: (family) => {
          const s = openLoopbackUdp(family);
          hostSockets.push(s);
          return s;
        },
      },
    });
    client = new Client(udpPort);
  });

  after(() => {
    resolver.close();
    client.close();
    live.socket.close();
    other.socket.close();
    tcpUpstream.close();
  });

  it('answers its own names without asking upstream', async () => {
    live.queries = [];
    const q = makeQuery(1, 'WEB');
    const r = await client.ask(q);
    assert.ok(r);
    assert.equal(parseReplyHead(r)?.rcode, RCODE.NOERROR);
    assert.deepEqual(addresses(r, q.length), ['10.1.0.3']);
    assert.equal(live.queries.length, 0);
  });

  it('answers NODATA for a known name without an address of that type', async () => {
    const r = await client.ask(makeQuery(2, 'web', TYPE.AAAA));
    assert.equal(r?.readUInt16BE(6), 0);
    assert.equal(parseReplyHead(r!)?.rcode, RCODE.NOERROR);
  });

  it('forwards other names with a new id and relays the reply under the asker’s id', async () => {
    config({});
    live.queries = [];
    live.answer = (q) => upstreamReply(q, { last: 7 });
    const q = makeQuery(3, 'example.com');
    const r = await client.ask(q);
    assert.ok(r);
    assert.equal(r.readUInt16BE(0), 3);
    assert.deepEqual(addresses(r, q.length), ['192.0.2.7']);
    assert.equal(live.queries.length, 1);
    assert.deepEqual(live.queries[0]!.subarray(2), q.subarray(2));
  });

  it('relays NXDOMAIN from upstream', async () => {
    live.answer = (q) => upstreamReply(q, { rcode: RCODE.NXDOMAIN });
    const r = await client.ask(makeQuery(4, 'nope.example'));
    assert.equal(parseReplyHead(r!)?.rcode, RCODE.NXDOMAIN);
  });

  it('forwards names of containers the asker shares no network with (and reveals nothing)', async () => {
    directory.addEndpoint({ containerId: 'c'.repeat(64), networkId: 'n2', networkName: 'back', name: 'secret', aliases: [], links: [], ipv4: '10.2.0.9' });
    live.queries = [];
    live.answer = (q) => upstreamReply(q, { rcode: RCODE.NXDOMAIN });
    const r = await client.ask(makeQuery(5, 'secret'));
    assert.equal(parseReplyHead(r!)?.rcode, RCODE.NXDOMAIN);
    assert.equal(live.queries.length, 1);
  });

  it('answers SERVFAIL when the only upstream is dead, after the total timeout', async () => {
    config({ upstreams: [dead] });
    const t0 = Date.now();
    const r = await client.ask(makeQuery(6, 'example.com'));
    const took = Date.now() - t0;
    assert.equal(parseReplyHead(r!)?.rcode, RCODE.SERVFAIL);
    assert.ok(took >= TOTAL_MS - 20 && took < TOTAL_MS + 1500, `took ${took} ms`);
  });

  it('remembers a failure briefly: the retry of a failed question fails at once', async () => {
    config({ upstreams: [dead] });
    assert.equal(parseReplyHead((await client.ask(makeQuery(30, 'down.example')))!)?.rcode, RCODE.SERVFAIL);
    const t0 = Date.now();
    assert.equal(parseReplyHead((await client.ask(makeQuery(31, 'DOWN.example')))!)?.rcode, RCODE.SERVFAIL);
    assert.ok(Date.now() - t0 < FAST_MS, 'answered from the failure cache');
    // Another question is still forwarded (and waits).
    const t1 = Date.now();
    await client.ask(makeQuery(32, 'other.example'));
    assert.ok(Date.now() - t1 >= TOTAL_MS - 20);
  });

  it('tries an upstream that timed out last for a while', async () => {
    config({ upstreams: [dead, live.address] });
    live.answer = (q) => upstreamReply(q, { last: 5 });
    const q = makeQuery(33, 'first.example');
    const t0 = Date.now();
    assert.deepEqual(addresses((await client.ask(q))!, q.length), ['192.0.2.5']);
    assert.ok(Date.now() - t0 >= TRY_MS - 20, 'the first query waited for the dead upstream');
    const q2 = makeQuery(34, 'second.example');
    const t1 = Date.now();
    assert.deepEqual(addresses((await client.ask(q2))!, q2.length), ['192.0.2.5']);
    assert.ok(Date.now() - t1 < FAST_MS, 'the live upstream was asked first');
  });

  it('moves on from a dead upstream to a live one', async () => {
    config({ upstreams: [dead, live.address] });
    live.answer = (q) => upstreamReply(q, { last: 8 });
    const t0 = Date.now();
    const q = makeQuery(7, 'example.com');
    const r = await client.ask(q);
    assert.deepEqual(addresses(r!, q.length), ['192.0.2.8']);
    assert.ok(Date.now() - t0 >= TRY_MS - 20, 'waited for the first try');
  });

  it('moves on at once from SERVFAIL or REFUSED, and relays the last failure when all fail', async () => {
    config({ upstreams: [other.address, live.address] });
    other.answer = (q) => upstreamReply(q, { rcode: RCODE.REFUSED });
    live.answer = (q) => upstreamReply(q, { last: 9 });
    const t0 = Date.now();
    const q = makeQuery(8, 'example.com');
    assert.deepEqual(addresses((await client.ask(q))!, q.length), ['192.0.2.9']);
    assert.ok(Date.now() - t0 < FAST_MS, 'did not wait for a timeout');
    live.answer = (q2) => upstreamReply(q2, { rcode: RCODE.SERVFAIL });
    const r = await client.ask(makeQuery(9, 'example.com'));
    assert.equal(parseReplyHead(r!)?.rcode, RCODE.SERVFAIL);
  });

  it('ignores replies from elsewhere, with another id or another question', async () => {
    config({ upstreams: [live.address] });
    let spoofed = 0;
    live.answer = (q) => {
      const liar = dgram.createSocket('udp4');
      // A reply from another address, and replies for another question, then the real one.
      liar.bind(0, '127.0.0.3', () => {
        liar.send(upstreamReply(q, { last: 66 }), live.lastPort, '127.0.0.1', () => liar.close());
      });
      const wrongQuestion = upstreamReply(makeQuery(q.readUInt16BE(0), 'evil.example'), { last: 67 });
      live.socket.send(wrongQuestion, live.lastPort, '127.0.0.1');
      spoofed += 2;
      setTimeout(() => live.socket.send(upstreamReply(q, { last: 10 }), live.lastPort, '127.0.0.1'), 30);
      return undefined;
    };
    const q = makeQuery(10, 'example.com');
    const r = await client.ask(q);
    assert.equal(spoofed, 2);
    assert.deepEqual(addresses(r!, q.length), ['192.0.2.10']);
  });

  it('forwards a retransmitted query only once', async () => {
    config({ upstreams: [live.address] });
    live.queries = [];
    live.answer = (q) => {
      const reply = upstreamReply(q, { last: 11 });
      setTimeout(() => live.socket.send(reply, live.lastPort, '127.0.0.1'), 50);
      return undefined;
    };
    const q = makeQuery(11, 'example.com');
    const pending = client.ask(q);
    client.send(q);
    assert.ok(await pending);
    assert.equal(live.queries.length, 1);
  });

  it('answers SERVFAIL at once when not forwarding (internal network) or without upstreams', async () => {
    live.queries = [];
    for (const c of [{ forward: false }, { upstreams: [] }]) {
      config(c);
      const t0 = Date.now();
      const r = await client.ask(makeQuery(12, 'example.com'));
      assert.equal(parseReplyHead(r!)?.rcode, RCODE.SERVFAIL);
      assert.ok(Date.now() - t0 < FAST_MS);
    }
    assert.equal(live.queries.length, 0);
    // Its own names still resolve.
    assert.equal(parseReplyHead((await client.ask(makeQuery(13, 'web')))!)?.rcode, RCODE.NOERROR);
  });

  it('drops garbage, answers FORMERR to malformed queries, and keeps serving', async () => {
    config({});
    client.send(Buffer.from('garbage'));
    const formerr = await client.ask(Buffer.from('000e0100000100000000000009616263', 'hex'));
    assert.equal(parseReplyHead(formerr!)?.rcode, RCODE.FORMERR);
    assert.equal(parseReplyHead((await client.ask(makeQuery(15, 'web')))!)?.rcode, RCODE.NOERROR);
  });

  it('serves TCP, several queries on one connection', async () => {
    config({});
    live.answer = (q) => upstreamReply(q, { last: 12 });
    const s = net.connect(tcpPort, '127.0.0.1');
    await once(s, 'connect');
    const reader = new TcpFrameReader();
    const replies: Buffer[] = [];
    const done = new Promise<void>((resolve) => {
      s.on('data', (c: Buffer) => {
        replies.push(...reader.push(c));
        if (replies.length === 2) resolve();
      });
    });
    s.write(Buffer.concat([frameTcp(makeQuery(20, 'web')), frameTcp(makeQuery(21, 'example.com'))]));
    await done;
    s.destroy();
    const byId = new Map(replies.map((r) => [r.readUInt16BE(0), r]));
    assert.deepEqual(addresses(byId.get(20)!, makeQuery(20, 'web').length), ['10.1.0.3']);
    assert.deepEqual(addresses(byId.get(21)!, makeQuery(21, 'example.com').length), ['192.0.2.12']);
  });

  it('fetches a truncated upstream reply again over TCP for a TCP asker', async () => {
    config({});
    live.answer = (q) => upstreamReply(q, { tc: true });
    tcpUpstreamHits = 0;
    const q = makeQuery(22, 'big.example');
    const r = await askOverTcp(q);
    assert.equal(tcpUpstreamHits, 1);
    assert.equal(parseReplyHead(r)?.truncated, false);
    assert.deepEqual(addresses(r, q.length), ['192.0.2.99']);
    // A UDP asker gets the truncated reply (and retries over TCP itself).
    const u = await client.ask(makeQuery(23, 'big.example'));
    assert.equal(parseReplyHead(u!)?.truncated, true);
  });

  const fromHost = (address: string): Upstream => ({ address, fromHost: true });

  it("asks a host loopback upstream through a socket of the daemon's namespace, opened once", async () => {
    config({ upstreams: [fromHost(live.address)] });
    live.answer = (q) => upstreamReply(q, { last: 30 });
    for (const id of [30, 31]) {
      const q = makeQuery(id, 'host.example');
      assert.deepEqual(addresses((await client.ask(q))!, q.length), ['192.0.2.30']);
    }
    assert.equal(hostSockets.length, 1);
    assert.equal(live.lastPort, portOf(hostSockets[0]!));
    assert.notEqual(live.lastPort, upstream4Port);
  });

  it("takes a host upstream's reply only on the host socket (not from the container's own loopback)", async () => {
    config({ upstreams: [fromHost(live.address)] });
    live.answer = (q) => {
      live.socket.send(upstreamReply(q, { last: 66 }), upstream4Port, '127.0.0.1');
      setTimeout(() => live.socket.send(upstreamReply(q, { last: 32 }), live.lastPort, '127.0.0.1'), 30);
      return undefined;
    };
    const q = makeQuery(32, 'host.example');
    assert.deepEqual(addresses((await client.ask(q))!, q.length), ['192.0.2.32']);
  });

  it('mixes host and container upstreams in order, failing over between them', async () => {
    config({ upstreams: [fromHost(other.address), live.address] });
    other.answer = (q) => upstreamReply(q, { rcode: RCODE.SERVFAIL });
    live.answer = (q) => upstreamReply(q, { last: 33 });
    const q = makeQuery(33, 'mixed.example');
    assert.deepEqual(addresses((await client.ask(q))!, q.length), ['192.0.2.33']);
    assert.equal(other.lastPort, portOf(hostSockets[0]!));
    assert.equal(live.lastPort, upstream4Port);
  });

  it('retries a truncated reply of a host upstream over TCP from the host side', async () => {
    config({ upstreams: [fromHost(live.address)] });
    live.answer = (q) => upstreamReply(q, { tc: true });
    const q = makeQuery(34, 'big.example');
    const r = await askOverTcp(q);
    assert.deepEqual(addresses(r, q.length), ['192.0.2.99']);
    assert.deepEqual(tcpRetriedTo, fromHost(live.address));
  });

  it('closes its host sockets with it', () => {
    assert.ok(hostSockets.length > 0);
    resolver.close();
    for (const s of hostSockets) assert.throws(() => s.address(), /Not running/);
  });
});
