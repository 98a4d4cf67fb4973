/**
 * macvlan and ipvlan networks on a real LAN. The world's host namespace (where berthd
 * runs) is joined to a "lan" namespace, standing for the other machines, by a veth
 * pair: the host end `lan0` (192.168.111.2/24, the host's own address on the LAN) is
 * the macvlan parent, the lan end has 192.168.111.1/24 (the LAN's router). Tests that
 * need a kernel feature this machine lacks (802.1Q, ipvlan) check the clear refusal
 * instead, and skip the rest naming the feature.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FEATURES, kernelFeatures, type KernelFeatures } from '../../src/kernel/features.js';
import { settled } from '../lib/async.js';
import { must, sh, World, type Result } from '../lib/world.js';

interface LinkJson {
  ifname: string;
  ifalias?: string;
  operstate?: string;
  /** How many holders keep it promiscuous (a macvlan link on it is one). */
  promiscuity?: number;
  linkinfo?: { info_kind?: string };
}

// Probed before the tests are declared: their skip options depend on it.
const kernel: KernelFeatures = await kernelFeatures();

describe('macvlan networks', () => {
  let w: World;
  let lan: string;
  const lanCreated: string[] = [];

  /** Run a command in the lan namespace (the "other machines"). */
  const inLan = (...args: string[]): Promise<Result> => sh('nsenter', [`--net=/run/netns/${lan}`, '--', ...args], { timeoutMs: 15_000 });
  /** Run a command in the host namespace, as a process of the host (not a container). */
  const onHost = (...args: string[]): Promise<Result> => sh('nsenter', [`--net=${w.nsPath}`, '--', ...args], { timeoutMs: 15_000 });
  const hostLinks = async (): Promise<LinkJson[]> => JSON.parse(await w.ip('-j', '-d', 'link', 'show')) as LinkJson[];
  const networks = async (): Promise<string[]> => (await w.dockerOk('network', 'ls', '--format', '{{.Name}}')).split('\n');
  /** iproute2 inside a container's namespace, seen from the host (busybox's ip has no -d). */
  const inContainer = async (name: string, ...args: string[]): Promise<string> => {
    const sandbox = await w.dockerOk('inspect', '-f', '{{.NetworkSettings.SandboxKey}}', name);
    return must('nsenter', [`--net=${sandbox}`, '--', 'ip', ...args]);
  };
  // busybox wget -T crashes (SIGSEGV) once a transfer succeeds: no -T where one must.

  before(async () => {
    w = await World.create();
    lan = `${w.ns}-mvl`;
    await must('ip', ['netns', 'add', lan]);
    lanCreated.push(lan);
    await w.ip('link', 'add', 'lan0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', lan);
    await w.ip('addr', 'add', '192.168.111.2/24', 'dev', 'lan0');
    await w.ip('link', 'set', 'lan0', 'up');
    await must('ip', ['-n', lan, 'addr', 'add', '192.168.111.1/24', 'dev', 'eth0']);
    await must('ip', ['-n', lan, 'link', 'set', 'eth0', 'up']);
    await must('ip', ['-n', lan, 'link', 'set', 'lo', 'up']);
    await w.dockerOk('network', 'create', '-d', 'macvlan', '--subnet', '192.168.111.0/24', '--gateway', '192.168.111.1',
      '--ip-range', '192.168.111.64/26', '--aux-address', 'printer=192.168.111.64', '-o', 'parent=lan0', 'mv');
    await w.dockerOk('run', '-d', '--name', 'web', '--network', 'mv', '--ip', '192.168.111.10', 'busybox', 'httpd', '-f', '-p', '80', '-h', '/www');
  });

  after(async () => {
    try {
      await w?.dispose();
    } finally {
      for (const ns of lanCreated) await sh('ip', ['netns', 'del', ns]);
    }
  });

  it('gives the container a macvlan link of the parent, its address, a derived MAC and a route via the gateway', async () => {
    assert.equal(await w.dockerOk('network', 'inspect', 'mv', '-f', '{{.Driver}} {{index .Options "parent"}}'), 'macvlan lan0');
    const link = await inContainer('web', '-d', 'link', 'show', 'eth0');
    assert.match(link, /macvlan mode bridge/);
    assert.match(link, /02:42:c0:a8:6f:0a/);
    assert.match(await w.dockerOk('exec', 'web', 'ip', '-4', 'addr', 'show', 'eth0'), /inet 192\.168\.111\.10\/24/);
    assert.match(await w.dockerOk('exec', 'web', 'ip', 'route'), /default via 192\.168\.111\.1 dev eth0/);
    // Nothing of the container is left in the host namespace: no veth, no bridge.
    assert.deepEqual((await hostLinks()).filter((l) => l.linkinfo?.info_kind === 'macvlan'), []);
  });

  it('is reachable from the LAN and reaches the LAN', async () => {
    const page = await inLan('busybox', 'wget', '-qO-', 'http://192.168.111.10/');
    assert.equal(page.code, 0, page.stderr);
    assert.match(page.stdout, /berth/);
    await w.dockerOk('exec', 'web', 'ping', '-c', '1', '-W', '2', '192.168.111.1');
  });

  it('a daemon restart leaves a running container’s macvlan link as it is (not made again)', async () => {
    const ifindex = async (): Promise<string> => w.dockerOk('exec', 'web', 'cat', '/sys/class/net/eth0/ifindex');
    const before = await ifindex();
    await w.restart('SIGKILL');
    assert.equal(await ifindex(), before, 'the link was deleted and made again');
    await w.dockerOk('exec', 'web', 'ping', '-c', '1', '-W', '2', '192.168.111.1');
  });

  it('allocates from the --ip-range, skipping aux addresses; containers of one parent reach each other by name', async () => {
    const out = await w.dockerOk('run', '--rm', '--network', 'mv', 'busybox', 'sh', '-c',
      "ip -4 -o addr show eth0 | awk '{print $4}'; wget -qO- http://web/");
    const [addr, ...page] = out.split('\n');
    assert.equal(addr, '192.168.111.65/24');
    assert.match(page.join('\n'), /berth/);
  });

  it('the host cannot reach its own macvlan child through the parent; a macvlan shim lifts that', async () => {
    const direct = await onHost('busybox', 'ping', '-c', '1', '-W', '2', '192.168.111.10');
    assert.equal(direct.code, 1, 'a macvlan parent does not hand frames to its own children');
    await w.ip('link', 'add', 'mvshim', 'link', 'lan0', 'type', 'macvlan', 'mode', 'bridge');
    try {
      await w.ip('addr', 'add', '192.168.111.254/32', 'dev', 'mvshim');
      await w.ip('link', 'set', 'mvshim', 'up');
      await w.ip('route', 'add', '192.168.111.10/32', 'dev', 'mvshim');
      const viaShim = await onHost('busybox', 'wget', '-qO-', 'http://192.168.111.10/');
      assert.equal(viaShim.code, 0, viaShim.stderr);
      assert.match(viaShim.stdout, /berth/);
    } finally {
      await w.ip('link', 'del', 'mvshim');
    }
  });

  it('refuses a parent that does not exist, naming it, and leaves nothing', async () => {
    const before = await hostLinks();
    const r = await w.docker('network', 'create', '-d', 'macvlan', '--subnet', '10.99.0.0/24', '-o', 'parent=nosuch', 'bad');
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /the requested parent interface nosuch was not found on the Docker host/);
    const mode = await w.docker('network', 'create', '-d', 'macvlan', '--subnet', '10.99.0.0/24', '-o', 'parent=lan0', '-o', 'macvlan_mode=hub', 'bad');
    assert.match(mode.stderr, /requested macvlan mode 'hub' is not valid, 'bridge' mode is the macvlan driver default/);
    assert.ok(!(await networks()).includes('bad'));
    assert.deepEqual((await hostLinks()).map((l) => l.ifname), before.map((l) => l.ifname));
  });

  it('refuses a second network whose subnet overlaps, naming the network it overlaps', async () => {
    const r = await w.docker('network', 'create', '-d', 'macvlan', '--subnet', '192.168.111.128/25', '-o', 'parent=lan0', 'mv2');
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /Pool overlaps with other one on this address space.*network mv/);
    assert.ok(!(await networks()).includes('mv2'));
  });

  it('with no parent, makes an isolated network on a link of its own, removed with it', async () => {
    const id = await w.dockerOk('network', 'create', '-d', 'macvlan', '--subnet', '10.97.0.0/24', 'iso');
    const own = `dm-${id.slice(0, 12)}`;
    const link = (await hostLinks()).find((l) => l.ifname === own);
    assert.ok(link, `${own} exists`);
    assert.equal(link.ifalias, 'berth');
    await w.dockerOk('run', '-d', '--name', 'iso1', '--network', 'iso', '--ip', '10.97.0.10', 'busybox', 'sleep', '1000');
    const routes = await w.dockerOk('run', '--rm', '--network', 'iso', 'busybox', 'sh', '-c', 'ping -c 1 -W 2 10.97.0.10 >/dev/null && ip route');
    assert.doesNotMatch(routes, /default/, 'no way out of a network without a parent');
    // Berth's own parent link survives a daemon crash and restart (it is no orphan).
    await w.restart('SIGKILL');
    assert.ok((await hostLinks()).some((l) => l.ifname === own));
    await w.dockerOk('run', '--rm', '--network', 'iso', 'busybox', 'ping', '-c', '1', '-W', '2', '10.97.0.10');
    await w.dockerOk('rm', '-f', 'iso1');
    await w.dockerOk('network', 'rm', 'iso');
    assert.ok(!(await hostLinks()).some((l) => l.ifname === own));
  });

  it('--internal keeps the parent’s LAN but gives no default route (as Docker)', async () => {
    await w.dockerOk('network', 'create', '-d', 'macvlan', '--internal', '--subnet', '10.98.0.0/24', '--gateway', '10.98.0.1', '-o', 'parent=lan0', 'mvint');
    await must('ip', ['-n', lan, 'addr', 'add', '10.98.0.1/24', 'dev', 'eth0']);
    try {
      const out = await w.dockerOk('run', '--rm', '--network', 'mvint', 'busybox', 'sh', '-c', 'ping -c 1 -W 2 10.98.0.1 >/dev/null && ip route');
      assert.doesNotMatch(out, /default/);
      assert.match(out, /10\.98\.0\.0\/24 dev eth0/);
    } finally {
      await must('ip', ['-n', lan, 'addr', 'del', '10.98.0.1/24', 'dev', 'eth0']);
      await w.dockerOk('network', 'rm', 'mvint');
    }
  });

  it('passthru: one container at a time, a second one refused clearly', async () => {
    await w.ip('link', 'add', 'pt0', 'type', 'veth', 'peer', 'name', 'pt0peer');
    try {
      await w.dockerOk('network', 'create', '-d', 'macvlan', '--subnet', '10.94.0.0/24', '-o', 'parent=pt0', '-o', 'macvlan_mode=passthru', 'mvpt');
      await w.dockerOk('run', '-d', '--name', 'pt1', '--network', 'mvpt', 'busybox', 'sleep', '1000');
      const second = await w.docker('run', '--rm', '--network', 'mvpt', 'busybox', 'true');
      assert.notEqual(second.code, 0);
      assert.match(second.stderr, /macvlan network mvpt is in passthru mode: its parent pt0 serves one container at a time/);
      await w.dockerOk('rm', '-f', 'pt1');
      await w.dockerOk('run', '--rm', '--network', 'mvpt', 'busybox', 'true');
      await w.dockerOk('network', 'rm', 'mvpt');
    } finally {
      await w.ip('link', 'del', 'pt0').catch(() => undefined);
    }
  });

  it('802.1Q: a dotted parent is refused clearly on a kernel without it', { skip: kernel.vlan !== false && 'the kernel has 802.1Q' }, async () => {
    const before = await hostLinks();
    const r = await w.docker('network', 'create', '-d', 'macvlan', '--subnet', '10.96.0.0/24', '-o', 'parent=lan0.100', 'v100');
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /kernel lacks 802\.1Q VLAN support \(8021q\): cannot create lan0\.100/);
    assert.ok(!(await networks()).includes('v100'));
    assert.deepEqual((await hostLinks()).map((l) => l.ifname), before.map((l) => l.ifname));
  });

  it('802.1Q: dotted parents make VLAN sub-interfaces, several coexist, removed only when berth made them', async (t) => {
    if (kernel.vlan === false) return t.skip(`kernel lacks ${FEATURES.vlan.label}`);
    await w.ip('link', 'add', 'link', 'lan0', 'name', 'lan0.300', 'type', 'vlan', 'id', '300'); // the user's own
    try {
      await w.dockerOk('network', 'create', '-d', 'macvlan', '--subnet', '10.96.100.0/24', '-o', 'parent=lan0.100', 'v100');
      await w.dockerOk('network', 'create', '-d', 'macvlan', '--subnet', '10.96.200.0/24', '-o', 'parent=lan0.200', 'v200');
      await w.dockerOk('network', 'create', '-d', 'macvlan', '--subnet', '10.96.201.0/24', '-o', 'parent=lan0.200', 'v200b');
      await w.dockerOk('network', 'create', '-d', 'macvlan', '--subnet', '10.96.250.0/24', '-o', 'parent=lan0.300', 'v300');
      const vlans = (await hostLinks()).filter((l) => l.linkinfo?.info_kind === 'vlan');
      assert.deepEqual(vlans.map((l) => [l.ifname, l.ifalias]).sort(), [['lan0.100', 'berth'], ['lan0.200', 'berth'], ['lan0.300', undefined]]);
      assert.match(await w.dockerOk('run', '--rm', '--network', 'v100', 'busybox', 'ip', '-d', 'link', 'show', 'eth0'), /macvlan/);
      await w.dockerOk('network', 'rm', 'v100', 'v200');
      let names = (await hostLinks()).map((l) => l.ifname);
      assert.ok(!names.includes('lan0.100'));
      assert.ok(names.includes('lan0.200'), 'still used by v200b');
      await w.dockerOk('network', 'rm', 'v200b', 'v300');
      names = (await hostLinks()).map((l) => l.ifname);
      assert.ok(!names.includes('lan0.200'));
      assert.ok(names.includes('lan0.300'), "the user's VLAN link is never deleted");
    } finally {
      await w.ip('link', 'del', 'lan0.300').catch(() => undefined);
    }
  });

  it('ipvlan: refused clearly on a kernel without it, leaving nothing', { skip: kernel.ipvlan !== false && 'the kernel has ipvlan' }, async () => {
    const before = await hostLinks();
    const r = await w.docker('network', 'create', '-d', 'ipvlan', '--subnet', '10.95.0.0/24', '-o', 'parent=lan0', '-o', 'ipvlan_mode=l3', 'iv');
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /kernel lacks ipvlan support \(ipvlan module\): cannot create ipvlan network iv/);
    assert.ok(!(await networks()).includes('iv'));
    assert.deepEqual((await hostLinks()).map((l) => l.ifname), before.map((l) => l.ifname));
  });

  it('ipvlan l2: on the parent’s LAN with the parent’s MAC, default via the gateway, the flag applied', async (t) => {
    if (kernel.ipvlan === false) return t.skip(`kernel lacks ${FEATURES.ipvlan.label}`);
    await w.ip('link', 'add', 'ivl0', 'type', 'veth', 'peer', 'name', 'ivl1', 'netns', lan);
    try {
      await w.ip('link', 'set', 'ivl0', 'up');
      await must('ip', ['-n', lan, 'addr', 'add', '10.93.0.1/24', 'dev', 'ivl1']);
      await must('ip', ['-n', lan, 'link', 'set', 'ivl1', 'up']);
      await w.dockerOk('network', 'create', '-d', 'ipvlan', '--subnet', '10.93.0.0/24', '--gateway', '10.93.0.1',
        '-o', 'parent=ivl0', '-o', 'ipvlan_flag=private', 'iv2');
      await w.dockerOk('run', '-d', '--name', 'iv-l2', '--network', 'iv2', '--ip', '10.93.0.10', 'busybox', 'sleep', '1000');
      assert.match(await inContainer('iv-l2', '-d', 'link', 'show', 'eth0'), /ipvlan\s+mode l2 private/);
      const out = await w.dockerOk('exec', 'iv-l2', 'sh', '-c', 'ping -c 1 -W 2 10.93.0.1 >/dev/null && ip route | grep default && cat /sys/class/net/eth0/address');
      const [route, mac] = out.split('\n');
      assert.match(route ?? '', /^default via 10\.93\.0\.1 dev eth0/);
      assert.equal(mac, (await w.ip('-j', 'link', 'show', 'ivl0')).match(/"address":"([^"]+)"/)?.[1]);
      await w.dockerOk('rm', '-f', 'iv-l2');
      await w.dockerOk('network', 'rm', 'iv2');
    } finally {
      await w.ip('link', 'del', 'ivl0').catch(() => undefined);
    }
  });

  it('ipvlan l3: containers on two subnets of one network reach each other, default dev eth0', async (t) => {
    if (kernel.ipvlan === false) return t.skip(`kernel lacks ${FEATURES.ipvlan.label}`);
    await w.ip('link', 'add', 'ivp0', 'type', 'veth', 'peer', 'name', 'ivp1');
    try {
      await w.ip('link', 'set', 'ivp0', 'up');
      await w.dockerOk('network', 'create', '-d', 'ipvlan', '--subnet', '10.95.1.0/24', '--subnet', '10.95.2.0/24',
        '-o', 'parent=ivp0', '-o', 'ipvlan_mode=l3', 'iv3');
      await w.dockerOk('run', '-d', '--name', 'iv-a', '--network', 'iv3', '--ip', '10.95.1.10', 'busybox', 'sleep', '1000');
      const out = await w.dockerOk('run', '--rm', '--network', 'iv3', '--ip', '10.95.2.10', 'busybox', 'sh', '-c',
        'ping -c 1 -W 2 10.95.1.10 >/dev/null && ip route | grep default && cat /sys/class/net/eth0/address');
      const [route, mac] = out.split('\n');
      assert.match(route ?? '', /^default dev eth0/);
      assert.equal(mac, (await w.ip('-j', 'link', 'show', 'ivp0')).match(/"address":"([^"]+)"/)?.[1]);
      await w.dockerOk('rm', '-f', 'iv-a');
      await w.dockerOk('network', 'rm', 'iv3');
    } finally {
      await w.ip('link', 'del', 'ivp0').catch(() => undefined);
    }
  });

  it('a network whose parent vanished does not keep the daemon from starting', async () => {
    await w.ip('link', 'add', 'tmp0', 'type', 'veth', 'peer', 'name', 'tmp1');
    await w.dockerOk('network', 'create', '-d', 'macvlan', '--subnet', '10.90.0.0/24', '-o', 'parent=tmp0', 'gone');
    await w.ip('link', 'del', 'tmp0');
    await w.restart('SIGKILL');
    assert.match(w.log, /network gone: the requested parent interface tmp0 was not found on the Docker host/);
    const r = await w.docker('run', '--rm', '--network', 'gone', 'busybox', 'true');
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /tmp0/);
    await w.dockerOk('network', 'rm', 'gone');
    await w.dockerOk('exec', 'web', 'ping', '-c', '1', '-W', '2', '192.168.111.1'); // the others were restored
  });

  it('removing the network removes nothing of the parent', async () => {
    await w.dockerOk('rm', '-f', 'web');
    // The kernel frees a removed container's namespace, and the macvlan link in it that holds
    // the parent promiscuous, a moment later: the parent as it is once that is done.
    const before = await settled(async () => (await hostLinks()).find((l) => l.ifname === 'lan0'), (l) => l?.promiscuity === 0, 5000, 100);
    await w.dockerOk('network', 'rm', 'mv');
    const links = await hostLinks();
    const lan0 = links.find((l) => l.ifname === 'lan0');
    assert.ok(lan0, 'lan0 is still there');
    assert.deepEqual(lan0, before);
    assert.match(await w.ip('-4', 'addr', 'show', 'lan0'), /192\.168\.111\.2\/24/);
    assert.deepEqual(links.filter((l) => ['macvlan', 'vlan', 'dummy', 'ifb'].includes(l.linkinfo?.info_kind ?? '')), []);
  });
});
