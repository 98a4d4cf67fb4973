/**
 * A service's virtual IP in the kernel, without berthd: namespaces made by hand. A "lan"
 * namespace holds a bridge; a client and three backends hang on it by veth (10.77.0.0/24).
 * The ServiceBalancer programs the client's namespace through the real Kernel port (nft
 * and conntrack inside it) as it does for a container; the backends serve HTTP (busybox
 * httpd, a CGI printing which backend answered and whom it saw) and UDP (a Node echo
 * that answers with its name). Everything made here is removed in `after`.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { linuxKernel } from '../../src/kernel/linux.js';
import { ServiceBalancer } from '../../src/network/services/balancer.js';
import type { ServiceView, SharedServices } from '../../src/network/services/model.js';
import type { EndpointId, EndpointRecord, NetworkId } from '../../src/network/model.js';
import type { RemoteEndpoint, SharedListener, SharedNetworks } from '../../src/network/shared.js';
import { must, RUN_TAG, sh } from '../lib/world.js';

const canRun = process.getuid?.() === 0 && fs.existsSync('/usr/sbin/nft') && fs.existsSync('/bin/busybox');
const P = `${RUN_TAG}svcvip-${randomBytes(2).toString('hex')}`;
const nsName = (n: string): string => `${P}-${n}`;
const nsPath = (n: string): string => `/run/netns/${nsName(n)}`;
const NET = 'ov'.padEnd(25, '0');
const VIP = '10.77.0.200';
const CLIENT = '10.77.0.10';
const BACKENDS = [
  { name: 'b1', ip: '10.77.0.5' },
  { name: 'b2', ip: '10.77.0.6' },
  { name: 'b3', ip: '10.77.0.7' },
];
const SERVICE: ServiceView = { id: 'websvc', name: 'web', endpointMode: 'vip', vips: [{ networkId: NET, addr: VIP }], networks: [{ networkId: NET, aliases: [] }], ports: [] };

const backendEndpoint = (b: (typeof BACKENDS)[number]): RemoteEndpoint => ({
  networkId: NET,
  endpointId: `ep-${b.name}`,
  containerId: `c-${b.name}`,
  name: `web.1.${b.name}`,
  aliases: [],
  ipv4: b.ip,
  mac: '02:42:0a:4d:00:01',
  node: '192.0.2.9',
  service: { id: SERVICE.id, name: SERVICE.name },
});

const clientEndpoint: EndpointRecord = {
  id: 'ep-client' as EndpointId,
  networkId: NET as NetworkId,
  containerId: 'client',
  name: 'client',
  ifName: 'eth0',
  hostIfName: undefined,
  mac: undefined,
  ipv4: { address: CLIENT, prefixLen: 24, gateway: '' },
  ipv6: undefined,
  aliases: [],
  gateway: false,
};

/** The cluster as the balancer sees it: the service, and its backends as remote endpoints. */
function fakeCluster(): { shared: SharedNetworks; remove(ip: string): void } {
  const listeners = new Set<SharedListener>();
  let remotes = BACKENDS.map(backendEndpoint);
  const services: SharedServices = { services: () => [SERVICE], taskServing: () => true, watch: () => () => undefined };
  const shared = {
    services,
    remoteEndpoints: () => remotes,
    watch: (l: SharedListener) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
  } as unknown as SharedNetworks;
  return {
    shared,
    remove(ip) {
      const gone = remotes.find((r) => r.ipv4 === ip)!;
      remotes = remotes.filter((r) => r !== gone);
      for (const l of listeners) l.remoteChanged({ kind: 'removed', endpoint: gone });
    },
  };
}

/** Fetch the VIP `n` times from the client in one shell; the backend names that answered (or "fail"). */
async function fetchMany(n: number): Promise<string[]> {
  const script = `i=0; while [ $i -lt ${n} ]; do timeout 3 /bin/busybox wget -q -O - http://${VIP}/cgi-bin/who || echo fail; i=$((i+1)); done`;
  const out = await must('ip', ['netns', 'exec', nsName('client'), '/bin/sh', '-c', script], { timeoutMs: 120_000 });
  return out.trim().split('\n').map((l) => l.split(' ')[0]!);
}

const count = (xs: readonly string[]): Record<string, number> => xs.reduce<Record<string, number>>((m, x) => ({ ...m, [x]: (m[x] ?? 0) + 1 }), {});

/** A UDP exchange from the client: `n` datagrams from one source port, each answered by a backend's name. */
async function udpFromOnePort(port: number, n: number): Promise<string[]> {
  const js = `const s=require('dgram').createSocket('udp4');const out=[];s.bind(${port},()=>{let i=0;const next=()=>{if(i++>=${n}){console.log(out.join(' '));s.close();return;}const t=setTimeout(()=>{out.push('timeout');next();},1500);s.once('message',(m)=>{clearTimeout(t);out.push(String(m));next();});s.send('hi',7,'${VIP}');};next();});`;
  const out = await must('ip', ['netns', 'exec', nsName('client'), process.execPath, '-e', js], { timeoutMs: 60_000 });
  return out.trim().split(' ');
}

describe('service VIP in the kernel (namespaces, no berthd)', { skip: !canRun && 'needs root, nft and /bin/busybox' }, () => {
  const children: ChildProcess[] = [];
  const made: string[] = [];
  let www = '';
  const cluster = fakeCluster();
  const balancer = new ServiceBalancer({
    kernel: linuxKernel,
    localEndpoints: () => [clientEndpoint],
    sandboxPath: () => nsPath('client'),
    log: (m) => assert.fail(m),
  });

  before(async () => {
    www = fs.mkdtempSync(path.join(os.tmpdir(), `${P}-www-`));
    await must('ip', ['netns', 'add', nsName('lan')]);
    made.push('lan');
    await must('ip', ['-n', nsName('lan'), '-batch', '-'], { input: 'link set lo up\nlink add br0 type bridge\nlink set br0 up\n' });
    const hosts = [{ name: 'client', ip: CLIENT }, ...BACKENDS];
    for (const [i, h] of hosts.entries()) {
      await must('ip', ['netns', 'add', nsName(h.name)]);
      made.push(h.name);
      await must('ip', ['-n', nsName('lan'), '-batch', '-'], {
        input: [`link add p${i} type veth peer name eth0 netns ${nsName(h.name)}`, `link set p${i} master br0`, `link set p${i} up`].join('\n') + '\n',
      });
      await must('ip', ['-n', nsName(h.name), '-batch', '-'], { input: ['link set lo up', 'link set eth0 up', `addr add ${h.ip}/24 dev eth0`].join('\n') + '\n' });
    }
    for (const b of BACKENDS) {
      const dir = path.join(www, b.name, 'cgi-bin');
      fs.mkdirSync(dir, { recursive: true });
      fs.writeFileSync(path.join(dir, 'who'), `#!/bin/sh\necho 'Content-Type: text/plain'\necho\necho "${b.name} $REMOTE_ADDR"\n`, { mode: 0o755 });
      children.push(spawn('ip', ['netns', 'exec', nsName(b.name), '/bin/busybox', 'httpd', '-f', '-p', '80', '-h', path.join(www, b.name)], { stdio: 'ignore' }));
      const echo = `const s=require('dgram').createSocket('udp4');s.on('message',(m,r)=>s.send('${b.name}',r.port,r.address));s.bind(7);`;
      children.push(spawn('ip', ['netns', 'exec', nsName(b.name), process.execPath, '-e', echo], { stdio: 'ignore' }));
    }
    await new Promise((r) => setTimeout(r, 500));
    await balancer.attach(cluster.shared);
  });

  after(async () => {
    balancer.detach();
    for (const c of children) if (c.pid !== undefined) c.kill('SIGKILL');
    await Promise.all(children.map(async (c) => (c.exitCode === null && c.signalCode === null ? new Promise((r) => c.once('close', r)) : undefined)));
    for (const n of made.reverse()) await sh('ip', ['netns', 'del', nsName(n)]);
    if (www) fs.rmSync(www, { recursive: true, force: true });
  });

  it('spreads 300 new TCP connections over 3 backends, 100±30 each, and each backend sees the client’s own address', async () => {
    const got = await fetchMany(300);
    const byBackend = count(got);
    assert.equal(byBackend['fail'], undefined, `no failures: ${JSON.stringify(byBackend)}`);
    for (const b of BACKENDS) assert.ok(Math.abs((byBackend[b.name] ?? 0) - 100) <= 30, `${b.name}: ${JSON.stringify(byBackend)}`);
    const seen = await must('ip', ['netns', 'exec', nsName('client'), '/bin/busybox', 'wget', '-q', '-O', '-', `http://${VIP}/cgi-bin/who`]);
    assert.equal(seen.trim().split(' ')[1]?.replace(/^\[(::ffff:)?|\]$/g, ''), CLIENT);
  });

  it('UDP goes through the VIP, a flow stays on its backend, and a removed backend’s flow is balanced again at once', async () => {
    const first = await udpFromOnePort(40007, 5);
    assert.equal(new Set(first).size, 1, `one flow, one backend: ${first.join(' ')}`);
    const chosen = BACKENDS.find((b) => b.name === first[0]);
    assert.ok(chosen, `answered by a backend: ${first.join(' ')}`);
    cluster.remove(chosen.ip);
    await balancer.sync();
    const next = await udpFromOnePort(40007, 5);
    assert.ok(next.every((n) => n !== chosen.name && n !== 'timeout'), `after ${chosen.name} left: ${next.join(' ')}`);
    assert.equal(new Set(next).size, 1);
  });

  it('a removed backend gets no new connection; the others take all, with no failure', async () => {
    const left = BACKENDS.filter((b) => (cluster.shared.remoteEndpoints() as RemoteEndpoint[]).some((r) => r.ipv4 === b.ip));
    assert.equal(left.length, 2);
    const got = count(await fetchMany(100));
    assert.equal(got['fail'], undefined, JSON.stringify(got));
    assert.deepEqual(Object.keys(got).sort(), left.map((b) => b.name).sort());
  });

  it('a service with no backend refuses at once (a reset, not a black hole)', async () => {
    for (const r of [...cluster.shared.remoteEndpoints()]) cluster.remove(r.ipv4);
    await balancer.sync();
    const t0 = Date.now();
    const r = await sh('ip', ['netns', 'exec', nsName('client'), 'timeout', '5', '/bin/busybox', 'wget', '-q', '-O', '-', `http://${VIP}/cgi-bin/who`]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /refused/i, await must('ip', ['netns', 'exec', nsName('client'), 'nft', 'list', 'ruleset']));
    assert.ok(Date.now() - t0 < 2000, `refused in ${Date.now() - t0} ms`);
  });
});
