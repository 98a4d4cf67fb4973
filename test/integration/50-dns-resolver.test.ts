/**
 * The embedded resolver in real namespaces, without berthd: three namespaces stand for
 * containers (only lo, plus a veth to an "upstream" namespace for c1), resolvers are
 * attached to them, and busybox nslookup asks 127.0.0.11 from inside. The upstream is
 * a tiny DNS responder whose socket lives in its own namespace, reachable only from c1.
 *
 *   c1 (alpha: net1)  --veth 10.77.0.2 <-> 10.77.0.53--  up (fake upstream :53)
 *   c2 (beta: net1 + net2)
 *   c3 (gamma: net2, internal)
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { EmbeddedDns } from '../../src/network/dns/index.js';
import { encodeName, frameTcp, TcpFrameReader, TYPE } from '../../src/network/dns/message.js';
import { NetnsAgent } from '../../src/kernel/nssocket.js';
import { spawn } from 'node:child_process';
import { FakeUpstream } from '../lib/fake-dns.js';

const TAG = `dns-test-${randomBytes(3).toString('hex')}`;
const NS = { c1: `${TAG}-c1`, c2: `${TAG}-c2`, c3: `${TAG}-c3`, c4: `${TAG}-c4`, up: `${TAG}-up` } as const;
const path = (ns: string) => `/run/netns/${ns}`;
const ID = { alpha: 'a1'.repeat(32), beta: 'b2'.repeat(32), gamma: 'c3'.repeat(32), delta: 'd4'.repeat(32) };
const UPSTREAM = '10.77.0.53';

/** Run a command (argv), stdin closed; never throws on exit codes. */
function sh(cmd: string, args: readonly string[], timeoutMs = 20_000): Promise<{ code: number; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (out += b.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, out });
    });
  });
}

async function must(cmd: string, args: readonly string[]): Promise<void> {
  const r = await sh(cmd, args);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.code}: ${r.out}`);
}

/** busybox nslookup inside a namespace; its output and how long it took. */
async function nslookup(ns: string, ...args: string[]): Promise<{ out: string; ms: number; addresses: string[] }> {
  const t0 = Date.now();
  const r = await sh('nsenter', [`--net=${path(ns)}`, '--', 'busybox', 'nslookup', ...args, '127.0.0.11']);
  const out = r.out;
  const addresses = [...out.matchAll(/^Address: (\S+)$/gm)].map((m) => m[1]!).filter((a) => !a.startsWith('127.0.0.11'));
  return { out, ms: Date.now() - t0, addresses };
}

function aQuery(id: number, name: string): Buffer {
  const head = Buffer.from([id >> 8, id & 0xff, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]);
  return Buffer.concat([head, encodeName(name), Buffer.from([0, TYPE.A, 0, 1])]);
}

describe('embedded DNS resolver in namespaces', () => {
  const dns = new EmbeddedDns({
    log: { debug: () => undefined, warn: (m) => process.stderr.write(`${m}\n`) },
    daemonUpstreams: [UPSTREAM],
    hostResolvConf: '',
  });
  let upstream: FakeUpstream | undefined;
  const attachMs: number[] = [];

  before(async () => {
    for (const ns of Object.values(NS)) {
      await must('ip', ['netns', 'add', ns]);
      await must('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    }
    await must('ip', ['-n', NS.c1, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', NS.up]);
    await must('ip', ['-n', NS.c1, 'addr', 'add', '10.77.0.2/24', 'dev', 'eth0']);
    await must('ip', ['-n', NS.up, 'addr', 'add', `${UPSTREAM}/24`, 'dev', 'eth0']);
    await must('ip', ['-n', NS.c1, 'link', 'set', 'eth0', 'up']);
    await must('ip', ['-n', NS.up, 'link', 'set', 'eth0', 'up']);
    upstream = await FakeUpstream.start(path(NS.up), UPSTREAM, { 'www.example.test': '192.0.2.1' });

    const ep = { aliases: [] as string[], links: [] };
    dns.addEndpoint({ ...ep, containerId: ID.alpha, networkId: 'n1', networkName: 'net1', name: 'alpha', aliases: ['svc'], ipv4: '10.1.0.2' });
    dns.addEndpoint({ ...ep, containerId: ID.beta, networkId: 'n1', networkName: 'net1', name: 'beta', aliases: ['svc'], ipv4: '10.1.0.3' });
    dns.addEndpoint({ ...ep, containerId: ID.beta, networkId: 'n2', networkName: 'net2', name: 'beta', ipv4: '10.2.0.3' });
    dns.addEndpoint({ ...ep, containerId: ID.gamma, networkId: 'n2', networkName: 'net2', name: 'gamma', ipv4: '10.2.0.4', ipv6: 'fd00:2::4' });
    dns.addEndpoint({ ...ep, containerId: ID.delta, networkId: 'n1', networkName: 'net1', name: 'delta', aliases: ['svc'], ipv4: '10.1.0.5' });
    const attach = async (id: string, ns: string, internal: boolean) => {
      const t0 = performance.now();
      await dns.attach(id, path(ns), { dns: [], internal });
      attachMs.push(performance.now() - t0);
    };
    await Promise.all([attach(ID.alpha, NS.c1, false), attach(ID.beta, NS.c2, false), attach(ID.gamma, NS.c3, true)]);
  });

  after(async () => {
    dns.close();
    upstream?.close();
    for (const ns of Object.values(NS)) await sh('ip', ['netns', 'del', ns]);
    const left = (await sh('ip', ['netns', 'list'])).out;
    assert.ok(!left.includes(TAG), `namespaces left behind: ${left}`);
    process.stderr.write(`# attach (3 in parallel) took ${attachMs.map((m) => m.toFixed(0)).join(', ')} ms\n`);
  });

  it('resolves container names, ids and aliases on a shared network', async () => {
    assert.deepEqual((await nslookup(NS.c1, 'beta')).addresses, ['10.1.0.3']);
    assert.deepEqual((await nslookup(NS.c1, 'BETA')).addresses, ['10.1.0.3']);
    assert.deepEqual((await nslookup(NS.c1, ID.beta.slice(0, 12))).addresses, ['10.1.0.3']);
    assert.deepEqual((await nslookup(NS.c2, 'alpha.net1')).addresses, ['10.1.0.2']);
  });

  it('resolves names on both networks of a container on two', async () => {
    assert.deepEqual((await nslookup(NS.c2, 'alpha')).addresses, ['10.1.0.2']);
    assert.deepEqual((await nslookup(NS.c2, 'gamma')).addresses, ['10.2.0.4', 'fd00:2::4']);
  });

  it('never answers a name from a network the asker is not on', async () => {
    upstream!.seen.length = 0;
    const fromC1 = await nslookup(NS.c1, 'gamma');
    assert.deepEqual(fromC1.addresses, []);
    assert.ok(!fromC1.out.includes('10.2.0.4'), fromC1.out);
    assert.ok(upstream!.seen.some((s) => s.name === 'gamma'), 'the unknown name went upstream');
    const fromC3 = await nslookup(NS.c3, 'alpha');
    assert.deepEqual(fromC3.addresses, []);
    assert.ok(!fromC3.out.includes('10.1.0.2'), fromC3.out);
  });

  it('answers PTR for container addresses', async () => {
    const r = await nslookup(NS.c1, '10.1.0.3');
    assert.match(r.out, /name = beta\.net1/);
  });

  it('returns every address behind an alias, in varying order', async () => {
    const orders = new Set<string>();
    for (let i = 0; i < 8; i++) {
      const r = await nslookup(NS.c1, '-type=a', 'svc');
      assert.deepEqual([...r.addresses].sort(), ['10.1.0.2', '10.1.0.3', '10.1.0.5']);
      orders.add(r.addresses.join(','));
    }
    assert.ok(orders.size > 1, 'round robin');
  });

  it('answers over TCP', async () => {
    const agent = NetnsAgent.start(path(NS.c1));
    try {
      const [sock] = await agent.open([{ kind: 'tcp-connect', address: '127.0.0.11', port: 53 }] as const);
      const reader = new TcpFrameReader();
      const reply = new Promise<Buffer>((resolve, reject) => {
        sock.on('data', (c: Buffer) => reader.push(c).forEach(resolve));
        sock.on('error', reject);
      });
      sock.resume();
      const q = aQuery(0x4242, 'alpha');
      sock.write(frameTcp(q));
      const r = await reply;
      sock.destroy();
      assert.equal(r.readUInt16BE(0), 0x4242);
      assert.equal(r.readUInt16BE(6), 1);
      assert.deepEqual([...r.subarray(q.length + 12, q.length + 16)], [10, 1, 0, 2]);
    } finally {
      agent.close();
    }
  });

  it('forwards other names from inside the container namespace and relays the answer', async () => {
    upstream!.seen.length = 0;
    const r = await nslookup(NS.c1, '-type=a', 'www.example.test');
    assert.deepEqual(r.addresses, ['192.0.2.1']);
    assert.deepEqual(upstream!.seen, [{ name: 'www.example.test', from: '10.77.0.2' }]);
    const missing = await nslookup(NS.c1, '-type=a', 'nothing.example.test');
    assert.match(missing.out, /NXDOMAIN/);
  });

  it('answers SERVFAIL for external names on an internal network, at once', async () => {
    const r = await nslookup(NS.c3, '-type=a', 'www.example.test');
    assert.match(r.out, /SERVFAIL/);
    assert.ok(r.ms < 1000, `took ${r.ms} ms`);
  });

  it('answers SERVFAIL within 5 s when the upstream is dead', async () => {
    dns.configure(ID.alpha, { dns: ['10.77.0.99'], internal: false });
    try {
      const r = await nslookup(NS.c1, '-type=a', 'www.example.test');
      assert.match(r.out, /SERVFAIL/);
      assert.ok(r.ms < 5000, `took ${r.ms} ms`);
    } finally {
      dns.configure(ID.alpha, { dns: [], internal: false });
    }
  });

  it('attaches at once to a namespace prepared ahead of time', async () => {
    dns.prepare(path(NS.c4));
    await new Promise((r) => setTimeout(r, 1000));
    const epsilon = 'e5'.repeat(32);
    dns.addEndpoint({ containerId: epsilon, networkId: 'n1', networkName: 'net1', name: 'epsilon', aliases: [], links: [], ipv4: '10.1.0.6' });
    const t0 = performance.now();
    await dns.attach(epsilon, path(NS.c4), { dns: [], internal: false });
    const ms = performance.now() - t0;
    assert.ok(ms < 20, `attach took ${ms} ms`);
    assert.deepEqual((await nslookup(NS.c4, '-type=a', 'alpha')).addresses, ['10.1.0.2']);
    dns.detach(epsilon);
  });

  it('reports a namespace whose 127.0.0.11:53 is taken, and leaks nothing when detached while opening', async () => {
    const other = 'f6'.repeat(32);
    await assert.rejects(dns.attach(other, path(NS.c1), { dns: [], internal: false }), /cannot open udp4 127\.0\.0\.11:53 .*EADDRINUSE/);
    assert.equal(dns.isAttached(other), false);
    await assert.rejects(dns.attach(other, '/run/netns/does-not-exist', { dns: [], internal: false }), /No such file/);
    // Detach while the sockets are being opened: they are closed once they arrive.
    const opening = dns.attach(other, path(NS.c4), { dns: [], internal: false });
    dns.detach(other);
    await opening;
    assert.equal(dns.isAttached(other), false);
    await dns.attach(other, path(NS.c4), { dns: [], internal: false });
    assert.equal(dns.isAttached(other), true);
    dns.detach(other);
  });

  it('withdraws names as containers disconnect and stop', async () => {
    dns.removeEndpoint(ID.beta, 'n1');
    const gone = await nslookup(NS.c1, '-type=a', 'beta');
    assert.deepEqual(gone.addresses, []);
    assert.match(gone.out, /NXDOMAIN/);
    assert.deepEqual((await nslookup(NS.c1, '-type=a', 'svc')).addresses.sort(), ['10.1.0.2', '10.1.0.5']);
    dns.detach(ID.beta);
    assert.equal(dns.isAttached(ID.beta), false);
    const down = await nslookup(NS.c2, '-timeout=1', '-type=a', 'alpha');
    assert.ok(down.out.includes('timed out') || down.out.includes('refused'), down.out);
    assert.deepEqual(down.addresses, []);
  });
});
