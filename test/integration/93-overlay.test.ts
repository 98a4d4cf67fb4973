/**
 * Overlay networks across three hosts (namespaces on an underlay), driven by the docker
 * CLI with busybox containers: ingress and docker_gwbridge after init and join, an
 * attachable overlay and its options as Docker shows them (and Docker's refusals),
 * containers on two hosts reaching each other by IP and by name over ping and TCP, the
 * MTU from the underlay, egress masqueraded through docker_gwbridge, VXLAN with the
 * network's VNI on the underlay, concurrent starts on every host, live connect and
 * disconnect, berth's direct routing between hosts of one segment, and removal everywhere down to no links, no nft state and no etcd.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { settled } from '../lib/async.js';
import { ClusterWorld, CLIENT_IP } from '../lib/cluster.js';
import { containerOn, inNetns } from '../lib/overlay.js';
import { started } from '../lib/proc.js';
import type { World } from '../lib/world.js';
import type { Topology } from '../../src/insight/topology.js';

const haveEtcd = fs.existsSync('/usr/bin/etcd');
const haveTcpdump = fs.existsSync('/usr/bin/tcpdump');
const VNI_OPTION = 'com.docker.network.driver.overlay.vxlanid_list';
const DIRECT_ROUTING = 'com.berth.network.driver.overlay.direct_routing';
/** 30 UDP frames written raw on eth0: to the MAC argv[1], from the address argv[2] to argv[3] (a forger on the segment). */
const FORGE = `
import socket, struct, sys, time
dst, src, to = bytes.fromhex(sys.argv[1].replace(':', '')), socket.inet_aton(sys.argv[2]), socket.inet_aton(sys.argv[3])
udp = struct.pack('!HHHH', 9999, 9999, 9, 0) + b'x'
head = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(udp), 0, 0x4000, 64, 17, 0, src, to)
words = sum(struct.unpack('!10H', head))
while words >> 16: words = (words & 0xffff) + (words >> 16)
head = head[:10] + struct.pack('!H', ~words & 0xffff) + head[12:]
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind(('eth0', 0))
for _ in range(30):
    s.send(dst + bytes.fromhex('02b3deadbeef') + b'\\x08\\x00' + head + udp)
    time.sleep(0.005)
`;
const NOT_MANAGER = 'This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" to connect this node to swarm and try again.';
/** Host 3's underlay MTU: its containers' overlay links get this less VXLAN's 50 bytes. */
const H3_UNDERLAY_MTU = 1400;

/** A container's interfaces: MTU and IPv4 addresses, read from busybox's `ip -o link` and `ip -o -4 addr`. */
async function ifaces(w: World, container: string): Promise<Map<string, { mtu: number; inet: string[] }>> {
  const links = await w.dockerOk('exec', container, 'ip', '-o', 'link');
  const addrs = await w.dockerOk('exec', container, 'ip', '-o', '-4', 'addr');
  const out = new Map<string, { mtu: number; inet: string[] }>();
  for (const l of links.split('\n')) {
    const m = /^\d+: ([^:@]+)[^:]*:.* mtu (\d+)/.exec(l);
    if (m) out.set(m[1]!, { mtu: Number(m[2]), inet: [] });
  }
  for (const l of addrs.split('\n')) {
    const m = /^\d+: (\S+)\s+inet (\S+)/.exec(l);
    if (m) out.get(m[1]!)?.inet.push(m[2]!);
  }
  return out;
}

/** The container's address on a network, from inspect. */
async function ipOn(w: World, container: string, network: string): Promise<string> {
  return w.dockerOk('inspect', container, '--format', `{{(index .NetworkSettings.Networks "${network}").IPAddress}}`);
}

/** Whether `ping -c1` from the container reaches `target` (an address or a name). */
async function pings(w: World, container: string, target: string): Promise<boolean> {
  return (await w.docker('exec', container, 'ping', '-c1', '-W2', target)).code === 0;
}

/** A TCP exchange: a one-shot busybox nc server in `server` answering `word`, `client` connecting to `target`. */
async function tcp(server: { w: World; name: string }, client: { w: World; name: string }, target: string, word: string): Promise<string> {
  await server.w.dockerOk('exec', '-d', server.name, 'nc', '-l', '-p', '7000', '-e', 'echo', word);
  return settled(
    async () => (await client.w.docker('exec', client.name, 'sh', '-c', `nc -w 3 ${target} 7000 </dev/null`)).stdout.trim(),
    (got) => got === word,
    3000,
    100,
  );
}

/** The overlay links (ov-*, vx-*) in a host's namespace. */
async function overlayLinks(w: World): Promise<string[]> {
  return (await w.links()).filter((n) => /^(ov|vx)-/.test(n)).sort();
}

/** The remote MACs a host's VXLAN link sends to (its static FDB entries, broadcast left out). */
async function fdbMacs(w: World, vxlan: string): Promise<string[]> {
  const r = await w.inNs(w.ns, ['bridge', 'fdb', 'show', 'dev', vxlan]);
  return r.stdout.split('\n').filter((l) => l.includes(' self ') && !l.startsWith('00:00:00:00:00:00')).map((l) => l.split(' ')[0]!);
}

describe('overlay networks across three hosts', { skip: (!haveEtcd && 'etcd-server is not installed') || (!haveTcpdump && 'tcpdump is not installed') }, () => {
  let c: ClusterWorld;
  let h1: World, h2: World, h3: World;
  before(async () => {
    c = await ClusterWorld.create(3);
    [h1, h2, h3] = c.hosts as [World, World, World];
  });
  after(async () => {
    await c.dispose();
  });

  it('refuses an overlay outside a swarm and on a worker, with Docker’s words', async () => {
    const outside = await h1.docker('network', 'create', '-d', 'overlay', 'early');
    assert.match(outside.stderr, new RegExp(NOT_MANAGER.replace(/[.()"]/g, '\\$&')));
    await h1.dockerOk('swarm', 'init', '--advertise-addr', c.hostIp(0));
    const token = await h1.dockerOk('swarm', 'join-token', '-q', 'worker');
    await h2.dockerOk('swarm', 'join', '--token', token, `${c.hostIp(0)}:2377`);
    // Host 3's underlay is narrower: its overlay links must follow it.
    await h3.ip('link', 'set', 'eth0', 'mtu', String(H3_UNDERLAY_MTU));
    await h3.dockerOk('swarm', 'join', '--token', token, `${c.hostIp(0)}:2377`);
    const worker = await h2.docker('network', 'create', '-d', 'overlay', 'early');
    assert.match(worker.stderr, new RegExp(NOT_MANAGER.replace(/[.()"]/g, '\\$&')));
  });

  it('shows ingress and docker_gwbridge on every node after init and join', async () => {
    for (const h of [h1, h2, h3]) {
      const ls = (await h.dockerOk('network', 'ls', '--format', '{{.Name}} {{.Driver}} {{.Scope}}')).split('\n');
      assert.ok(ls.includes('ingress overlay swarm'), `${h.ns}: ${ls.join(', ')}`);
      assert.ok(ls.includes('docker_gwbridge bridge local'), `${h.ns}: ${ls.join(', ')}`);
      const ingress = JSON.parse(await h.dockerOk('network', 'inspect', 'ingress', '--format', '{{json .}}')) as Record<string, unknown>;
      assert.equal(ingress.Ingress, true);
      assert.equal(ingress.Attachable, false);
      assert.deepEqual(ingress.Options, { [VNI_OPTION]: '4096' });
      assert.deepEqual((ingress.IPAM as { Config: unknown[] }).Config, [{ Subnet: '10.0.0.0/24', Gateway: '10.0.0.1' }]);
      const gw = JSON.parse(await h.dockerOk('network', 'inspect', 'docker_gwbridge', '--format', '{{json .Options}}')) as Record<string, string>;
      assert.deepEqual(gw, {
        'com.docker.network.bridge.name': 'docker_gwbridge',
        'com.docker.network.bridge.enable_icc': 'false',
        'com.docker.network.bridge.enable_ip_masquerade': 'true',
      });
    }
  });

  it('creates an attachable overlay with Docker’s shape; a worker lists it once it has a container on it', async () => {
    const id = await h1.dockerOk('network', 'create', '-d', 'overlay', '--attachable', 'ov');
    assert.match(id, /^[0-9a-z]{25}$/);
    const again = await h1.docker('network', 'create', '-d', 'overlay', 'ov');
    assert.match(again.stderr, /network with name ov already exists/);
    const local = await h1.docker('network', 'create', 'ov');
    assert.match(local.stderr, /network with name ov already exists/, 'a local network cannot take a swarm network’s name');
    const net = JSON.parse(await h1.dockerOk('network', 'inspect', 'ov', '--format', '{{json .}}')) as Record<string, unknown>;
    assert.equal(net.Id, id);
    assert.equal(net.Scope, 'swarm');
    assert.equal(net.Driver, 'overlay');
    assert.equal(net.Attachable, true);
    assert.equal(net.Internal, false);
    assert.deepEqual(net.Options, { [VNI_OPTION]: '4097' });
    assert.deepEqual((net.IPAM as { Config: unknown[] }).Config, [{ Subnet: '10.0.1.0/24', Gateway: '10.0.1.1' }]);
    assert.ok((await h1.dockerOk('network', 'ls', '--format', '{{.Name}}')).split('\n').includes('ov'), 'a manager lists every swarm network');
    assert.deepEqual((await h1.dockerOk('network', 'ls', '--filter', 'scope=swarm', '--format', '{{.Name}}')).split('\n').sort(), ['ingress', 'ov']);
    assert.ok(!(await h1.dockerOk('network', 'ls', '--filter', 'scope=local', '--format', '{{.Name}}')).split('\n').includes('ov'));
    assert.equal((await h1.api('GET', '/networks/ov?scope=swarm')).status, 200);
    assert.equal((await h1.api('GET', '/networks/ov?scope=local')).status, 404);
    assert.ok(!(await h2.dockerOk('network', 'ls', '--format', '{{.Name}}')).split('\n').includes('ov'), 'a worker lists only what it uses');
  });

  it('refuses a container on an overlay that is not attachable, with Docker’s words, leaving nothing', async () => {
    await h1.dockerOk('network', 'create', '-d', 'overlay', 'noatt');
    const r = await h2.docker('run', '-d', '--name', 'refused', '--network', 'noatt', 'busybox', 'sleep', '3600');
    assert.match(r.stderr, /Could not attach to network noatt: rpc error: code = PermissionDenied desc = network noatt not manually attachable/);
    await h2.dockerOk('run', '-d', '--name', 'plain', 'busybox', 'sleep', '3600');
    const connect = await h2.docker('network', 'connect', 'noatt', 'plain');
    assert.match(connect.stderr, /Could not attach to network noatt: rpc error: code = PermissionDenied desc = network noatt not manually attachable/);
    assert.deepEqual(await overlayLinks(h2), []);
    await h2.dockerOk('rm', '-f', 'refused', 'plain');
    await h1.dockerOk('network', 'rm', 'noatt');
  });

  it('reaches across hosts by IP and by name, ping and TCP, with eth0 on the overlay and eth1 on docker_gwbridge', async () => {
    await Promise.all([h1.dockerOk('run', '-d', '--name', 'c1', '--network', 'ov', 'busybox', 'sleep', '3600'), h2.dockerOk('run', '-d', '--name', 'c2', '--network', 'ov', '--network-alias', 'web', 'busybox', 'sleep', '3600')]);
    for (const [h, name] of [[h1, 'c1'], [h2, 'c2']] as const) {
      const i = await ifaces(h, name);
      assert.equal(i.get('eth0')?.mtu, 1500 - 50, `${name}: eth0 has the underlay's MTU less VXLAN's 50 bytes`);
      assert.match(i.get('eth0')?.inet[0] ?? '', /^10\.0\.1\.\d+\/24$/);
      assert.match(i.get('eth1')?.inet[0] ?? '', /^172\.18\.\d+\.\d+\/16$/, `${name}: eth1 on docker_gwbridge`);
      assert.match(await h.dockerOk('exec', name, 'ip', 'route'), /default via 172\.18\.0\.1 dev eth1/);
      // The worker now has the network, as Docker's does once a container uses it.
      const seen = JSON.parse(await h.dockerOk('network', 'inspect', 'ov', '--format', '{{json .}}')) as { Scope: string; Options: Record<string, string>; Containers: Record<string, { Name: string }> };
      assert.equal(seen.Scope, 'swarm');
      assert.deepEqual(seen.Options, { [VNI_OPTION]: '4097' });
      assert.deepEqual(Object.values(seen.Containers).map((x) => x.Name), [name]);
    }
    assert.ok((await h2.dockerOk('network', 'ls', '--format', '{{.Name}}')).split('\n').includes('ov'));
    const ip1 = await ipOn(h1, 'c1', 'ov');
    const ip2 = await ipOn(h2, 'c2', 'ov');
    assert.ok(await pings(h1, 'c1', ip2), 'c1 pings c2 by IP');
    assert.ok(await pings(h2, 'c2', ip1), 'c2 pings c1 by IP');
    assert.ok(await pings(h1, 'c1', 'c2'), 'c1 pings c2 by name');
    assert.ok(await pings(h2, 'c2', 'c1.ov'), 'c2 pings c1 by name.network');
    assert.ok(await pings(h1, 'c1', 'web'), 'c1 pings c2 by its alias');
    assert.match(await h1.dockerOk('exec', 'c1', 'nslookup', 'c2'), new RegExp(`Address: ${ip2.replace(/\./g, '\\.')}`));
    assert.equal(await tcp({ w: h2, name: 'c2' }, { w: h1, name: 'c1' }, 'c2', 'hello-from-c2'), 'hello-from-c2');
    assert.equal(await tcp({ w: h1, name: 'c1' }, { w: h2, name: 'c2' }, ip1, 'hello-from-c1'), 'hello-from-c1');
    // berth topology on host 1 names the VXLAN link's remote entry: c2, at host 2.
    const topo = JSON.parse((await h1.berth('topology', '--format', 'json', '--network', 'ov')).stdout) as Topology;
    const tunnel = topo.tunnels.find((t) => t.link === 'vx-001001');
    assert.equal(tunnel?.vni, 4097);
    assert.deepEqual(tunnel?.peers.map((p) => [p.vtep, p.endpoint, p.ip]), [[c.hostIp(1), 'c2', ip2]]);
    assert.deepEqual(topo.drift, []);
    // berth trace names the path across hosts: straight into the VXLAN link, the outer packet to c2's host.
    const traced = await h1.berth('trace', 'c1', 'c2:7000');
    assert.match(traced.stdout, new RegExp(`^trace c1 ${ip1.replace(/\./g, '\\.')} → c2 \\(on ${c.hostIp(1).replace(/\./g, '\\.')}\\) ${ip2.replace(/\./g, '\\.')}:7000/tcp`), traced.stdout + traced.stderr);
    assert.match(traced.stdout, new RegExp(`straight into the VXLAN link, no bridge and no hook of the host's on the way, carried over VXLAN out of eth0 to host ${c.hostIp(1).replace(/\./g, '\\.')}, where c2 runs\\.`));
    // berth doctor compares the nodes' clocks over their node endpoints (one machine here: they agree).
    const report = JSON.parse((await h1.berth('doctor', '--format', 'json')).stdout) as { checks: { id: string; verdict: string; summary: string }[] };
    const clock = report.checks.find((x) => x.id === 'swarm:clock');
    assert.equal(clock?.verdict, 'ok', JSON.stringify(clock));
    assert.match(clock!.summary, /host2 [+-]0\.0\d\d s/);
  });

  it('carries the traffic as VXLAN with the network’s VNI on the underlay (tcpdump)', async () => {
    const capture = started(['nsenter', `--net=${h1.nsPath}`, '--', 'tcpdump', '-nn', '-l', '-i', 'eth0', '-c', '100', 'udp', 'port', '4789'], /listening on/);
    await capture.ready;
    await h1.dockerOk('exec', 'c1', 'ping', '-c2', '-W2', 'c2');
    // Other frames may cross too (IPv6 neighbour discovery): the echo and its reply are among them.
    capture.stop();
    const out = await capture.done;
    assert.match(out, /IP 10\.0\.1\.\d+ > 10\.0\.1\.\d+: ICMP echo request/, out);
    assert.match(out, /IP 10\.0\.1\.\d+ > 10\.0\.1\.\d+: ICMP echo reply/, out);
    assert.match(out, new RegExp(`IP ${c.hostIp(0).replace(/\./g, '\\.')}\\.\\d+ > ${c.hostIp(1).replace(/\./g, '\\.')}\\.4789: VXLAN, flags \\[I\\] \\(0x08\\), vni 4097`), out);
    assert.match(out, new RegExp(`IP ${c.hostIp(1).replace(/\./g, '\\.')}\\.\\d+ > ${c.hostIp(0).replace(/\./g, '\\.')}\\.4789: VXLAN, flags \\[I\\] \\(0x08\\), vni 4097`), out);
  });

  it('masquerades egress through docker_gwbridge behind the host’s underlay address', async () => {
    const server = started(
      ['nsenter', `--net=/run/netns/${c.client}`, '--', process.execPath, '-e', "require('net').createServer((s) => { console.log(s.remoteAddress); s.end('hi\\n'); process.exit(0); }).listen(8000, () => console.log('ready'))"],
      /ready/,
    );
    await server.ready;
    assert.equal(await h2.dockerOk('exec', 'c2', 'sh', '-c', `nc -w 3 ${CLIENT_IP} 8000 </dev/null`), 'hi');
    assert.match(await server.done, new RegExp(`^ready\\n(::ffff:)?${c.hostIp(1).replace(/\./g, '\\.')}\\n$`));
  });

  it('refuses bad VNI and MTU options with Docker’s words, keeping nothing of them', async () => {
    for (const [opt, message] of [
      [`${VNI_OPTION}=abc`, /invalid vxlan id value "abc" passed/],
      [`${VNI_OPTION}=4097`, /could not assign vxlan id 4097 to pool 10\.0\.\d+\.0\/24: requested bit is already allocated/],
      [`${VNI_OPTION}=16777216`, /could not assign vxlan id 16777216 to pool 10\.0\.\d+\.0\/24: bit does not belong to the sequence/],
      ['com.docker.network.driver.mtu=abc', /invalid com\.docker\.network\.driver\.mtu value "abc"/],
      ['com.docker.network.driver.mtu=100', /invalid com\.docker\.network\.driver\.mtu value "100"/],
    ] as const) {
      const r = await h1.docker('network', 'create', '-d', 'overlay', '-o', opt, 'opts');
      assert.match(r.stderr, message, opt);
    }
    // None of them took the name, a VNI or a subnet.
    assert.ok(!(await h1.dockerOk('network', 'ls', '--format', '{{.Name}}')).split('\n').includes('opts'));
    await h1.dockerOk('network', 'create', '-d', 'overlay', '-o', `${VNI_OPTION}=5000`, 'opts');
    assert.match(await h1.dockerOk('network', 'inspect', 'opts', '--format', '{{.IPAM.Config}}'), /^\[\{10\.0\.\d+\.0\/24 {2}10\.0\.\d+\.1 map\[\]\}\]$/);
    await h1.dockerOk('network', 'rm', 'opts');
  });

  it('takes subnet, gateway, ip-range, internal, labels, MTU and VNI options', async () => {
    await h1.dockerOk(
      'network', 'create', '-d', 'overlay', '--attachable', '--internal',
      '--subnet', '10.20.0.0/24', '--gateway', '10.20.0.254', '--ip-range', '10.20.0.128/25',
      '--label', 'team=blue', '-o', 'com.docker.network.driver.mtu=1400', '-o', `${VNI_OPTION}=5000`, 'opts',
    );
    // A worker has no network it does not use: dockerd answers its inspect from its own.
    assert.match((await h3.docker('network', 'inspect', 'opts')).stderr, /Error response from daemon: network opts not found/);
    await Promise.all([h1.dockerOk('run', '-d', '--name', 'i1', '--network', 'opts', 'busybox', 'sleep', '3600'), h3.dockerOk('run', '-d', '--name', 'i3', '--network', 'opts', 'busybox', 'sleep', '3600')]);
    for (const h of [h1, h3]) {
      const net = JSON.parse(await h.dockerOk('network', 'inspect', 'opts', '--format', '{{json .}}')) as Record<string, unknown>;
      assert.equal(net.Internal, true);
      assert.deepEqual(net.Labels, { team: 'blue' });
      assert.deepEqual(net.Options, { 'com.docker.network.driver.mtu': '1400', [VNI_OPTION]: '5000' });
      assert.deepEqual((net.IPAM as { Config: unknown[] }).Config, [{ Subnet: '10.20.0.0/24', IPRange: '10.20.0.128/25', Gateway: '10.20.0.254' }]);
    }
    const i = await ifaces(h1, 'i1');
    // Docker reads the MTU option as the underlay's: the links get 50 bytes less.
    assert.equal(i.get('eth0')?.mtu, 1400 - 50);
    assert.match(i.get('eth0')?.inet[0] ?? '', /^10\.20\.0\.(12[89]|1[3-9]\d|2[0-4]\d|25[0-4])\/24$/, 'an address from the range');
    // Internal: no docker_gwbridge leg, no way out.
    assert.deepEqual([...i.keys()].sort(), ['eth0', 'lo']);
    assert.doesNotMatch(await h1.dockerOk('exec', 'i1', 'ip', 'route'), /default/);
    assert.ok(!(await pings(h1, 'i1', CLIENT_IP)), 'an internal overlay does not reach the outside');
    assert.ok(await pings(h1, 'i1', 'i3'), 'but its containers reach each other');
    await h1.dockerOk('rm', '-f', 'i1');
    await h3.dockerOk('rm', '-f', 'i3');
    await h1.dockerOk('network', 'rm', 'opts');
  });

  it('follows each host’s underlay MTU, and replaces the bridge an older berth left for the network', async () => {
    // What a berth before the macvlan endpoints made on host 3: a bridge holding the VXLAN link.
    await h3.ip('link', 'add', 'ov-001001', 'type', 'bridge');
    await h3.ip('link', 'add', 'vx-001001', 'mtu', String(H3_UNDERLAY_MTU - 50), 'type', 'vxlan', 'id', '4097', 'local', c.hostIp(2), 'dstport', '4789', 'nolearning', 'proxy');
    await h3.ip('link', 'set', 'vx-001001', 'master', 'ov-001001');
    for (const l of ['ov-001001', 'vx-001001']) await h3.ip('link', 'set', l, 'alias', 'berth', 'up');
    await h3.dockerOk('run', '-d', '--name', 'c3', '--network', 'ov', 'busybox', 'sleep', '3600');
    assert.equal((await ifaces(h3, 'c3')).get('eth0')?.mtu, H3_UNDERLAY_MTU - 50);
    const kinds = JSON.parse(await h3.ip('-d', '-j', 'link', 'show')) as { ifname: string; master?: string; linkinfo?: { info_kind?: string } }[];
    assert.deepEqual(kinds.filter((l) => /^(ov|vx)-001001$/.test(l.ifname)).map((l) => `${l.ifname} ${l.linkinfo?.info_kind ?? '?'} ${l.master ?? '-'}`).sort(), ['ov-001001 macvlan -', 'vx-001001 vxlan -']);
    assert.ok(await pings(h3, 'c3', 'c1'));
    await h3.dockerOk('rm', '-f', 'c3');
  });

  it('gives distinct addresses to containers started at once on three hosts, each reachable from every host', async () => {
    const names = [1, 2, 3].flatMap((h) => [1, 2, 3, 4, 5].map((i) => ({ h: c.hosts[h - 1]!, name: `p${h}${i}` })));
    await Promise.all(names.map(({ h, name }) => h.dockerOk('run', '-d', '--name', name, '--network', 'ov', 'busybox', 'sleep', '3600')));
    const ips = await Promise.all(names.map(async ({ h, name }) => ipOn(h, name, 'ov')));
    const all = [...ips, await ipOn(h1, 'c1', 'ov'), await ipOn(h2, 'c2', 'ov')];
    assert.equal(new Set(all).size, all.length, `duplicates among ${all.join(' ')}`);
    // From one container on each host, every container on the others, by address.
    for (const from of ['p11', 'p21', 'p31']) {
      const h = c.hosts[Number(from[1]) - 1]!;
      const targets = names.filter((n) => n.h !== h).map((n) => ips[names.indexOf(n)]!);
      const r = await h.dockerOk('exec', from, 'sh', '-c', `for ip in ${targets.join(' ')}; do ping -c1 -W2 $ip >/dev/null || echo unreachable $ip; done; echo done`);
      assert.equal(r, 'done', `from ${from}`);
    }
    assert.ok(await pings(h3, 'p35', 'p14'), 'by name too');
    await Promise.all([1, 2, 3].map((h) => c.hosts[h - 1]!.dockerOk('rm', '-f', ...[1, 2, 3, 4, 5].map((i) => `p${h}${i}`))));
  });

  it('connects and disconnects a running container live: the interface, the traffic and the name follow', async () => {
    await h3.dockerOk('run', '-d', '--name', 'solo', 'busybox', 'sleep', '3600');
    await h3.dockerOk('network', 'connect', 'ov', 'solo');
    const ip = await ipOn(h3, 'solo', 'ov');
    const joined = await ifaces(h3, 'solo');
    assert.equal(joined.get('eth1')?.inet[0], `${ip}/24`, 'eth1 on the overlay (eth0 stays on the default bridge)');
    assert.equal(joined.get('eth1')?.mtu, H3_UNDERLAY_MTU - 50);
    assert.ok(await pings(h3, 'solo', 'c1'), 'solo reaches c1 by name');
    assert.ok(await pings(h1, 'c1', 'solo'), 'c1 reaches solo by name');
    await h3.dockerOk('network', 'disconnect', 'ov', 'solo');
    assert.deepEqual([...(await ifaces(h3, 'solo')).keys()].sort(), ['eth0', 'lo']);
    assert.ok(!(await pings(h1, 'c1', ip)), 'c1 no longer reaches its address');
    assert.notEqual((await h1.docker('exec', 'c1', 'nslookup', 'solo')).code, 0, 'nor its name');

    // A container that is on the overlay only: it loses docker_gwbridge with it, and gets both back.
    await h3.dockerOk('run', '-d', '--name', 'only', '--network', 'ov', 'busybox', 'sleep', '3600');
    await h3.dockerOk('network', 'disconnect', 'ov', 'only');
    assert.deepEqual([...(await ifaces(h3, 'only')).keys()], ['lo']);
    await h3.dockerOk('network', 'connect', 'ov', 'only');
    const back = await ifaces(h3, 'only');
    assert.match(back.get('eth0')?.inet[0] ?? '', /^10\.0\.1\.\d+\/24$/);
    assert.match(back.get('eth1')?.inet[0] ?? '', /^172\.18\./);
    assert.ok(await pings(h3, 'only', 'c2'));
    await h3.dockerOk('rm', '-f', 'solo', 'only');
  });

  it('routes directly to hosts of its own segment with direct routing: the containers’ own frames on the wire, no VXLAN, nothing let in from outside, no filter left', async () => {
    await h1.dockerOk('network', 'create', '-d', 'overlay', '--attachable', '-o', `${DIRECT_ROUTING}=true`, 'direct');
    await Promise.all([h1.dockerOk('run', '-d', '--name', 'd1', '--network', 'direct', 'busybox', 'sleep', '3600'), h2.dockerOk('run', '-d', '--name', 'd2', '--network', 'direct', 'busybox', 'sleep', '3600')]);
    const ip1 = await ipOn(h1, 'd1', 'direct');
    const ip2 = await ipOn(h2, 'd2', 'direct');
    assert.ok(await settled(async () => pings(h1, 'd1', 'd2'), (ok) => ok), 'd1 reaches d2 by name');
    const capture = started(['nsenter', `--net=${h1.nsPath}`, '--', 'tcpdump', '-nn', '-e', '-v', '-l', '-i', 'eth0', '-c', '100', 'icmp', 'or', 'udp', 'port', '4789'], /listening on/);
    await capture.ready;
    await h1.dockerOk('exec', 'd1', 'ping', '-c2', '-W2', 'd2');
    // Full-size: routed packets carry no VXLAN, so the containers have the underlay's MTU for each other.
    await h1.dockerOk('exec', 'd1', 'ping', '-c2', '-W2', '-s', '1472', 'd2');
    capture.stop();
    const out = await capture.done;
    const q = (ip: string): string => ip.replace(/\./g, '\\.');
    assert.match(out, new RegExp(`${q(ip1)} > ${q(ip2)}: ICMP echo request`), out);
    assert.match(out, new RegExp(`${q(ip2)} > ${q(ip1)}: ICMP echo reply`), out);
    // Sent as the container sent it, from its MAC to the peer's: no host routed it (tc moved the frame between the links).
    const mac = async (h: typeof h1, name: string): Promise<string> => h.dockerOk('inspect', name, '--format', '{{(index .NetworkSettings.Networks "direct").MacAddress}}');
    assert.match(out, new RegExp(`^\\S+ ${await mac(h1, 'd1')} > ${await mac(h2, 'd2')}, ethertype IPv4`, 'm'), out);
    assert.match(out, new RegExp(`ttl 64, .*proto ICMP \\(1\\), length 84\\)\\n\\s+${q(ip2)} > ${q(ip1)}: ICMP echo reply`), 'no host on the way: the TTL as the container set it');
    assert.match(out, new RegExp(`offset 0, flags \\[(?:DF|none)\\], proto ICMP \\(1\\), length 1500\\)\\n\\s+${q(ip1)} > ${q(ip2)}: ICMP echo request`), out);
    // Each container: its link at the underlay's MTU, the subnet's route at VXLAN's (what other hosts' peers need), its own route to the routed peer.
    const d1 = await containerOn(h1, 'd1', 'direct');
    const routes = (await inNetns(d1.netns, ['ip', 'route'])).stdout;
    assert.match(routes, /^10\.0\.\d+\.0\/24 dev eth0 .*mtu 1450/m, routes);
    assert.match(routes, new RegExp(`^${q(ip2)} dev eth0 scope link`, 'm'), routes);
    assert.match(await h1.dockerOk('exec', 'd1', 'cat', '/sys/class/net/eth0/mtu'), /^1500$/);
    // Other overlays of this world may still send theirs: none of this network's VNI.
    const vni = await h1.dockerOk('network', 'inspect', '-f', `{{index .Options "${VNI_OPTION}"}}`, 'direct');
    assert.doesNotMatch(out, new RegExp(`vni ${vni}\\b`), 'no encapsulation between hosts of one segment');
    assert.equal(await tcp({ w: h2, name: 'd2' }, { w: h1, name: 'd1' }, 'd2', 'routed-tcp'), 'routed-tcp');
    // A machine outside the swarm that routes d2's address through host 2 gets nothing to it (d2's interface counts no more packets).
    const received = async (): Promise<number> => Number(await h2.dockerOk('exec', 'd2', 'cat', '/sys/class/net/eth0/statistics/rx_packets'));
    await c.fromClient(['ip', 'route', 'add', `${ip2}/32`, 'via', c.hostIp(1)]);
    const before = await received();
    const send30 = `const s = require('dgram').createSocket('udp4'); let n = 0; const t = setInterval(() => { s.send('x', 9999, '${ip2}'); if (++n === 30) { clearInterval(t); setTimeout(() => process.exit(0), 200); } }, 5);`;
    assert.equal((await c.fromClient([process.execPath, '-e', send30])).code, 0);
    assert.ok((await received()) - before < 10, 'the 30 datagrams from outside were dropped at host 2');
    await c.fromClient(['ip', 'route', 'del', `${ip2}/32`]);
    // Nor a container of another network on host 2, which host 2 would route there.
    const before2 = await received();
    assert.notEqual((await h2.docker('run', '--rm', 'busybox', 'ping', '-c', '10', '-i', '0.1', '-W', '1', ip2)).code, 0);
    assert.ok((await received()) - before2 < 5, 'the pings from the default bridge were dropped at host 2');
    // A machine of the segment forging frames from the network's subnet to d2 (its MAC, a source address no endpoint has):
    // handed up by host 2's receiving filter, dropped at its VXLAN link, which lets in the network's own endpoints only.
    const forge = async (): Promise<number> => (await c.fromClient(['python3', '-c', FORGE, await mac(h2, 'd2'), ip2.replace(/\d+$/, '250'), ip2])).code;
    const before3 = await received();
    assert.equal(await forge(), 0);
    assert.ok((await received()) - before3 < 5, 'the forged frames were dropped at host 2');
    // berth doctor sees both sides and the admission table.
    const vx = `vx-${Number(vni).toString(16).padStart(6, '0')}`;
    const doctor = async (h: typeof h1): Promise<{ verdict: string; summary: string } | undefined> =>
      (JSON.parse((await h.berth('doctor', '--format', 'json')).stdout) as { checks: { id: string; verdict: string; summary: string }[] }).checks.find((x) => x.id === 'direct:direct');
    assert.match((await doctor(h2))?.summary ?? '', new RegExp(`^overlay direct routed directly: 1 peer sent by filter from ${vx}, received through eth0$`));
    // That check is what stops them: without it (taken away behind berthd's back: doctor fails it) they reach d2.
    await h2.inNs(h2.ns, ['nft', 'delete', 'table', 'netdev', `berth_dr_${Number(vni).toString(16).padStart(6, '0')}`]);
    assert.match((await doctor(h2))?.summary ?? '', /has no admission table/);
    const before4 = await received();
    assert.equal(await forge(), 0);
    assert.ok((await received()) - before4 >= 25, 'without host 2’s admission table the forged frames reach d2');
    // A restart makes the containers' routes and the VXLAN link's filters exact: d1, removed while host 2's daemon was down, loses d2's route and filter.
    const ip1Key = ip1.split('.').map((b) => Number(b).toString(16).padStart(2, '0')).join('');
    const filtered = async (): Promise<boolean> => (await h2.inNs(h2.ns, ['tc', 'filter', 'show', 'dev', vx, 'egress'])).stdout.includes(`match ${ip1Key}/ffffffff at 16`);
    assert.ok(await filtered(), 'host 2 sends d1’s frames by a filter');
    // Host 2's underlay link takes frames to d2's MAC (its unicast filter) while d2 is there.
    const d2Mac = await mac(h2, 'd2');
    const taken = async (): Promise<boolean> => (await h2.inNs(h2.ns, ['bridge', 'fdb', 'show', 'dev', 'eth0'])).stdout.includes(`${d2Mac} self permanent`);
    assert.ok(await taken(), 'd2’s MAC on host 2’s underlay link');
    const d2 = await containerOn(h2, 'd2', 'direct');
    const routedTo = async (ip: string): Promise<boolean> => new RegExp(`^${q(ip)} dev eth0`, 'm').test((await inNetns(d2.netns, ['ip', 'route'])).stdout);
    assert.ok(await routedTo(ip1), 'd2 routes d1 full size');
    // The receiving filter taken away too: doctor fails it; a restart makes both again.
    await h2.inNs(h2.ns, ['tc', 'filter', 'del', 'dev', 'eth0', 'ingress', 'prio', '179', 'protocol', 'ip', 'u32']);
    assert.match((await doctor(h2))?.summary ?? '', /nothing on eth0 hands its frames/);
    await h2.stop('SIGKILL');
    await h1.dockerOk('rm', '-f', 'd1');
    await h2.start();
    assert.equal(await settled(async () => routedTo(ip1), (r) => !r, 20_000, 300), false, 'a route to a container gone while the daemon was down');
    assert.equal(await filtered(), false, 'a filter of a container gone while the daemon was down');
    assert.equal((await doctor(h2))?.verdict, 'ok', 'the receiving filter made again');
    const before5 = await received();
    assert.equal(await forge(), 0);
    assert.ok((await received()) - before5 < 5, 'the admission table made again: forged frames dropped after the restart');
    await h2.dockerOk('rm', '-f', 'd2');
    assert.equal(await taken(), false, 'd2’s MAC left host 2’s underlay link with it');
    await h1.dockerOk('network', 'rm', 'direct');
    for (const h of [h1, h2]) {
      assert.equal((await h.inNs(h.ns, ['tc', 'filter', 'show', 'dev', 'eth0', 'ingress'])).stdout.trim(), '', `${h.ns}: no receiving filter left on the underlay link`);
      assert.doesNotMatch((await h.inNs(h.ns, ['tc', 'qdisc', 'show', 'dev', 'eth0'])).stdout, /clsact/, `${h.ns}: nor its qdisc`);
    }
  });

  it('removes a container everywhere: its name and FDB entry on the other hosts, the network’s links with its last user', async () => {
    const mac = await h2.dockerOk('inspect', 'c2', '--format', '{{(index .NetworkSettings.Networks "ov").MacAddress}}');
    assert.ok((await fdbMacs(h1, 'vx-001001')).includes(mac), 'host 1 knows c2 before');
    await h2.dockerOk('rm', '-f', 'c2');
    assert.deepEqual(await settled(async () => (await fdbMacs(h1, 'vx-001001')).filter((m) => m === mac), (l) => l.length === 0), []);
    assert.notEqual((await h1.docker('exec', 'c1', 'nslookup', 'c2')).code, 0, 'c2 no longer resolves');
    assert.deepEqual(await overlayLinks(h2), [], 'host 2 had no other container on the overlay');
    assert.deepEqual(await overlayLinks(h1), ['ov-001001', 'vx-001001']);
    const busy = await h1.docker('network', 'rm', 'ov');
    assert.match(busy.stderr, /has active endpoints/);
    await h1.dockerOk('rm', '-f', 'c1');
    await h1.dockerOk('network', 'rm', 'ov');
    for (const h of [h1, h2, h3]) {
      assert.deepEqual(await overlayLinks(h), [], `${h.ns}: no overlay links`);
      assert.match((await h.docker('network', 'inspect', 'ov')).stderr, /network ov not found/);
    }
  });

  it('leaves nothing behind after swarm leave: containers disconnected, no overlay links, no filters, no nft state, no swarm state', async () => {
    // Directly routed, so leaving takes its filters and the container's MAC off the underlay link too.
    await h1.dockerOk('network', 'create', '-d', 'overlay', '--attachable', '-o', `${DIRECT_ROUTING}=true`, 'last');
    await h2.dockerOk('run', '-d', '--name', 'stay', '--network', 'last', 'busybox', 'sleep', '3600');
    const stayMac = await h2.dockerOk('inspect', 'stay', '--format', '{{(index .NetworkSettings.Networks "last").MacAddress}}');
    const underlay = async (h: typeof h1): Promise<string> => ['tc qdisc show dev eth0', 'tc filter show dev eth0 ingress', 'bridge fdb show dev eth0'].map(async (cmd) => (await h.inNs(h.ns, cmd.split(' '))).stdout).reduce(async (a, b) => (await a) + (await b));
    assert.match(await underlay(h2), /clsact/);
    assert.ok((await underlay(h2)).includes(stayMac));
    assert.equal(await h2.dockerOk('swarm', 'leave'), 'Node left the swarm.');
    // As dockerd, a node that leaves disconnects its containers from the swarm's networks; they keep running.
    assert.equal(await h2.dockerOk('inspect', 'stay', '--format', '{{.State.Running}} {{len .NetworkSettings.Networks}}'), 'true 0');
    assert.deepEqual([...(await ifaces(h2, 'stay')).keys()], ['lo']);
    await h2.dockerOk('rm', '-f', 'stay');
    assert.equal(await h3.dockerOk('swarm', 'leave'), 'Node left the swarm.');
    assert.equal(await h1.dockerOk('swarm', 'leave', '--force'), 'Node left the swarm.');
    for (const h of [h1, h2, h3]) {
      const names = (await h.dockerOk('network', 'ls', '--format', '{{.Name}}')).split('\n').sort();
      assert.deepEqual(names, ['bridge', 'host', 'none'], h.ns);
      assert.deepEqual(await overlayLinks(h), [], h.ns);
      assert.ok(!(await h.links()).includes('docker_gwbridge'), `${h.ns}: docker_gwbridge removed`);
      const leftover = /docker_gwbridge|172\.18\.|ov-|vx-|4789/;
      const ruleset = await settled(async () => (await h.inNs(h.ns, ['nft', 'list', 'ruleset'])).stdout, (r) => !leftover.test(r));
      assert.doesNotMatch(ruleset, leftover, `${h.ns}: nft state left`);
      assert.ok(!fs.existsSync(`${h.dataRoot}/cluster`), `${h.ns}: swarm state left`);
      const left = await underlay(h);
      assert.doesNotMatch(left, /clsact|mirred/, `${h.ns}: direct routing's filters left`);
      assert.ok(!left.includes(stayMac), `${h.ns}: a container's MAC left on the underlay link`);
    }
  });
});
