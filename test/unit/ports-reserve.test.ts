/**
 * Host-port reservation with real sockets, on 127.0.0.1 and ::1 only (the test process's
 * own loopback; nothing is bound on other addresses, nothing is sent elsewhere).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as dgram from 'node:dgram';
import { once } from 'node:events';
import * as net from 'node:net';
import { performance } from 'node:perf_hooks';
import { isBerthError } from '../../src/errors.js';
import {
  allocateAndReserve,
  bindAddresses,
  newPortAllocator,
  reserveHostPorts,
  socketsFor,
  type PortSpec,
  type PublishTarget,
} from '../../src/network/ports/index.js';
import { holdHostPorts } from '../../src/kernel/hostports.js';

const TARGET = { ipv4: '10.0.0.2' };
/** Reservation with real sockets on the loopback. */
const RESERVE = { reserve: async (m: readonly PortSpec[], t: PublishTarget) => reserveHostPorts(holdHostPorts, m, t) };
const local = (proto: PortSpec['proto'], h: [number, number], c: [number, number]): PortSpec => ({
  proto,
  hostIp: '127.0.0.1',
  hostPorts: { start: h[0], end: h[1] },
  containerPorts: { start: c[0], end: c[1] },
});

/** A port free on 127.0.0.1 right now (TCP and UDP are checked by the tests themselves). */
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function occupy(port: number): Promise<net.Server> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  return server;
}

describe('bindAddresses / socketsFor', () => {
  it('binds the families the container has, one socket per port', () => {
    assert.deepEqual(bindAddresses('', { ipv4: '10.0.0.2', ipv6: 'fd00::2' }), ['0.0.0.0', '::']);
    assert.deepEqual(bindAddresses('', { ipv4: '10.0.0.2' }), ['0.0.0.0']);
    assert.deepEqual(bindAddresses('127.0.0.1', { ipv4: '10.0.0.2' }), ['127.0.0.1']);
    const m = local('udp', [9000, 9002], [90, 92]);
    assert.deepEqual(
      socketsFor([m, { ...m, proto: 'sctp' }], TARGET).map((s) => `${s.proto}:${s.address}:${s.port}`),
      ['udp:127.0.0.1:9000', 'udp:127.0.0.1:9001', 'udp:127.0.0.1:9002'],
    );
  });
});

describe('reserveHostPorts', () => {
  it("holds a TCP port; a second holder fails with Docker 28's message; release frees it", async () => {
    const port = await freePort();
    const m = local('tcp', [port, port], [80, 80]);
    const first = await reserveHostPorts(holdHostPorts, [m], TARGET);
    assert.equal(first.sockets, 1);
    await assert.rejects(reserveHostPorts(holdHostPorts, [m], TARGET), (e: unknown) => {
      assert.ok(isBerthError(e));
      assert.equal(e.message, `failed to bind host port for 127.0.0.1:${port}:10.0.0.2:80/tcp: address already in use`);
      return true;
    });
    // A host process cannot take it either.
    await assert.rejects(occupy(port), /EADDRINUSE/);
    await first.release();
    await first.release(); // idempotent
    const again = await reserveHostPorts(holdHostPorts, [m], TARGET);
    await again.release();
  });

  it('holds UDP ports', async () => {
    const port = await freePort();
    const m = local('udp', [port, port], [53, 53]);
    const held = await reserveHostPorts(holdHostPorts, [m], TARGET);
    await assert.rejects(reserveHostPorts(holdHostPorts, [m], TARGET), /failed to bind host port for 127\.0\.0\.1:\d+:10\.0\.0\.2:53\/udp: address already in use/);
    await held.release();
  });

  it('is all or nothing: one busy port of a range releases the rest', async () => {
    const port = await freePort();
    const blocker = await occupy(port);
    try {
      const m = local('tcp', [port - 2, port + 2], [100, 104]);
      await assert.rejects(reserveHostPorts(holdHostPorts, [m], TARGET), new RegExp(`127\\.0\\.0\\.1:${port}:10\\.0\\.0\\.2:102/tcp: address already in use`));
      // The other four were closed again.
      const others = await reserveHostPorts(holdHostPorts, [local('tcp', [port - 2, port - 1], [1, 2]), local('tcp', [port + 1, port + 2], [3, 4])], TARGET);
      await others.release();
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
  });

  it('holds a 1000-port range quickly (parallel binds)', async () => {
    let held: Awaited<ReturnType<typeof reserveHostPorts>> | undefined;
    let range: [number, number] = [0, 0];
    for (let attempt = 0; attempt < 20 && !held; attempt++) {
      const start = 20000 + Math.floor(Math.random() * 9000);
      range = [start, start + 999];
      const t0 = performance.now();
      try {
        held = await reserveHostPorts(holdHostPorts, [local('tcp', range, range)], TARGET);
        console.log(`# reserve 1000 TCP ports on 127.0.0.1: ${(performance.now() - t0).toFixed(1)} ms`);
      } catch {
        held = undefined;
      }
    }
    assert.ok(held, 'found a free 1000-port block');
    assert.equal(held.sockets, 1000);
    const t1 = performance.now();
    await held.release();
    console.log(`# release 1000 TCP ports: ${(performance.now() - t1).toFixed(1)} ms`);
    await occupy(range[0]).then((s) => new Promise<void>((resolve) => s.close(() => resolve())));
  });
});

describe('allocateAndReserve', () => {
  it('skips an ephemeral port a host process has', async () => {
    const port = await freePort();
    const blocker = await occupy(port);
    try {
      const state = newPortAllocator({ start: port, end: port + 5 });
      const got = await allocateAndReserve(state, 'c1', [{ proto: 'tcp', hostIp: '127.0.0.1', hostPorts: { start: 0, end: 0 }, containerPorts: { start: 80, end: 80 } }], TARGET, RESERVE);
      try {
        assert.notEqual(got.mappings[0]?.hostPorts.start, port);
        assert.equal(got.state.allocations.length, 1);
        assert.deepEqual(state.allocations, []);
      } finally {
        await got.reservation.release();
      }
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
  });

  it('fails for an exact port a host process has, holding nothing', async () => {
    const port = await freePort();
    const blocker = await occupy(port);
    try {
      await assert.rejects(
        allocateAndReserve(newPortAllocator(), 'c1', [local('tcp', [port, port], [80, 80])], TARGET, RESERVE),
        new RegExp(`failed to bind host port for 127\\.0\\.0\\.1:${port}:10\\.0\\.0\\.2:80/tcp: address already in use`),
      );
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
  });
});

/** The relay tests stand a "container" on 127.0.0.1 and reach it through ::1 (IPv6 host, IPv4-only target). */
const LOOP = { ipv4: '127.0.0.1' };

async function echoTcp(): Promise<net.Server> {
  const server = net.createServer({ allowHalfOpen: true }, (c) => c.pipe(c));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

async function echoUdp(): Promise<dgram.Socket> {
  const socket = dgram.createSocket('udp4');
  socket.on('message', (msg, from) => socket.send(Buffer.concat([Buffer.from('echo '), msg]), from.port, from.address));
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return socket;
}

const portOf = (s: net.Server | dgram.Socket): number => (s.address() as net.AddressInfo).port;

/** Reserves [::1]:<free port> for a mapping to the given container port, with retries on a busy port. */
async function reserveOnIpv6Loopback(proto: 'tcp' | 'udp', containerPort: number): Promise<{ port: number; held: Awaited<ReturnType<typeof reserveHostPorts>> }> {
  for (let attempt = 0; ; attempt++) {
    const port = 20000 + Math.floor(Math.random() * 9000);
    const m: PortSpec = { proto, hostIp: '::1', hostPorts: { start: port, end: port }, containerPorts: { start: containerPort, end: containerPort } };
    try {
      return { port, held: await reserveHostPorts(holdHostPorts, [m], LOOP) };
    } catch (e: unknown) {
      if (attempt >= 20) throw e;
    }
  }
}

describe('the relay', () => {
  it('carries TCP from ::1 to an IPv4-only container, half-close included, and ends its connections on release', { timeout: 10_000 }, async () => {
    const upstream = await echoTcp();
    const { port, held } = await reserveOnIpv6Loopback('tcp', portOf(upstream));
    try {
      const client = net.connect({ host: '::1', port, allowHalfOpen: true });
      let reply = '';
      client.on('data', (b: Buffer) => (reply += b.toString()));
      await once(client, 'connect');
      client.end('hello over ::1'); // the reply still comes after our FIN
      await once(client, 'end');
      assert.equal(reply, 'hello over ::1');
      client.destroy();

      const open = net.connect({ host: '::1', port });
      await once(open, 'connect');
      open.write('x');
      await once(open, 'data');
      const closed = once(open, 'close');
      const t0 = performance.now();
      await held.release(); // must not wait for the client
      await closed;
      assert.ok(performance.now() - t0 < 1000);
    } finally {
      await held.release();
      await new Promise<void>((resolve) => upstream.close(() => resolve()));
    }
  });

  it('carries UDP from ::1 to an IPv4-only container and each reply back to its own client', { timeout: 10_000 }, async () => {
    const upstream = await echoUdp();
    const { port, held } = await reserveOnIpv6Loopback('udp', portOf(upstream));
    const clients = [dgram.createSocket('udp6'), dgram.createSocket('udp6')];
    try {
      const replies = clients.map((c, i) => {
        const got = once(c, 'message') as Promise<[Buffer]>;
        c.send(`client ${i}`, port, '::1');
        return got;
      });
      const texts = (await Promise.all(replies)).map(([msg]) => msg.toString());
      assert.deepEqual(texts, ['echo client 0', 'echo client 1']);
    } finally {
      for (const c of clients) c.close();
      await held.release();
      upstream.close();
    }
  });
});
