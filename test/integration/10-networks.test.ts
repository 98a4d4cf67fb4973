/** Networks through the docker CLI against berthd, checked in the kernel. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { must, World } from '../lib/world.js';

interface InspectJson {
  Id: string;
  Name: string;
  Driver: string;
  IPAM: { Config: { Subnet: string; Gateway: string; IPRange?: string; AuxiliaryAddresses?: Record<string, string> }[] };
  Options: Record<string, string>;
  Labels: Record<string, string>;
  Internal: boolean;
  EnableIPv6: boolean;
}

async function inspect(w: World, name: string): Promise<InspectJson> {
  const [net] = JSON.parse(await w.dockerOk('network', 'inspect', name)) as InspectJson[];
  assert.ok(net);
  return net;
}

interface LinkJson {
  ifname: string;
  mtu: number;
  operstate: string;
  flags: string[];
  linkinfo?: { info_kind: string };
  addr_info: { local: string; prefixlen: number; family: string; tentative?: boolean }[];
}

async function link(w: World, name: string): Promise<LinkJson | undefined> {
  const rows = JSON.parse(await w.ip('-j', '-d', 'addr', 'show')) as LinkJson[];
  return rows.find((r) => r.ifname === name);
}

describe('networks', () => {
  let w: World;
  before(async () => {
    w = await World.create();
  });
  after(async () => {
    await w.dispose();
  });

  it('has the predefined networks and the default bridge in the kernel', async () => {
    const names = (await w.dockerOk('network', 'ls', '--format', '{{.Name}} {{.Driver}}')).split('\n');
    assert.deepEqual(names.sort(), ['bridge bridge', 'host host', 'none null']);
    const bridge = await inspect(w, 'bridge');
    assert.equal(bridge.Options['com.docker.network.bridge.name'], 'berth0');
    assert.equal(bridge.Options['com.docker.network.bridge.default_bridge'], 'true');
    const k = await link(w, 'berth0');
    assert.ok(k, 'berth0 exists');
    assert.equal(k.linkinfo?.info_kind, 'bridge');
    assert.ok(k.flags.includes('UP'));
    const gw = bridge.IPAM.Config[0]!;
    assert.equal(gw.Subnet, '172.17.0.0/16');
    assert.ok(k.addr_info.some((a) => `${a.local}/${a.prefixlen}` === `${gw.Gateway}/16`));
  });

  it('creates a user bridge from the default pools and removes it', async () => {
    const id = await w.dockerOk('network', 'create', 'front');
    assert.match(id, /^[0-9a-f]{64}$/);
    const net = await inspect(w, 'front');
    assert.equal(net.Id, id);
    assert.equal(net.IPAM.Config[0]!.Subnet, '172.18.0.0/16');
    assert.equal(net.IPAM.Config[0]!.Gateway, '172.18.0.1');
    const br = `br-${id.slice(0, 12)}`;
    assert.equal(net.Options['com.docker.network.bridge.name'], br);
    const k = await link(w, br);
    assert.ok(k, `${br} exists`);
    assert.equal(k.mtu, 1500);
    assert.ok(k.addr_info.some((a) => a.local === '172.18.0.1' && a.prefixlen === 16));
    assert.equal(await w.dockerOk('network', 'rm', 'front'), 'front');
    assert.equal(await link(w, br), undefined);
    // The kernel deletes the bridge in the background, but its name, address and subnet
    // are free at once: the next network takes the same subnet on a working bridge.
    const again = await w.dockerOk('network', 'create', 'again');
    assert.equal((await inspect(w, 'again')).IPAM.Config[0]!.Subnet, '172.18.0.0/16');
    assert.ok((await link(w, `br-${again.slice(0, 12)}`))?.addr_info.some((a) => a.local === '172.18.0.1'));
    await w.dockerOk('network', 'rm', 'again');
    assert.deepEqual((await w.links()).filter((l) => l.startsWith('berthrm-')), [], 'retired bridges are deleted');
  });

  it('takes every documented option', async () => {
    await w.dockerOk(
      'network', 'create', '--subnet', '10.5.0.0/16', '--gateway', '10.5.0.254', '--ip-range', '10.5.1.0/24',
      '--aux-address', 'db=10.5.0.9', '--label', 'tier=back', '--internal', '--attachable',
      '-o', 'com.docker.network.bridge.name=backbr', '-o', 'com.docker.network.driver.mtu=1400',
      '-o', 'com.docker.network.bridge.enable_icc=false', 'back',
    );
    const net = await inspect(w, 'back');
    assert.deepEqual(net.IPAM.Config, [{ Subnet: '10.5.0.0/16', IPRange: '10.5.1.0/24', Gateway: '10.5.0.254', AuxiliaryAddresses: { db: '10.5.0.9' } }]);
    assert.deepEqual(net.Labels, { tier: 'back' });
    assert.equal(net.Internal, true);
    assert.equal(net.Options['com.docker.network.bridge.enable_icc'], 'false');
    const k = await link(w, 'backbr');
    assert.ok(k);
    assert.equal(k.mtu, 1400);
    assert.ok(k.addr_info.some((a) => a.local === '10.5.0.254' && a.prefixlen === 16));
    assert.equal(await w.dockerOk('network', 'inspect', '-f', '{{.Name}} {{index .Labels "tier"}}', 'back'), 'back back');
    await w.dockerOk('network', 'rm', 'back');
    assert.equal(await link(w, 'backbr'), undefined);
  });

  it('supports IPv6 subnets', async () => {
    await w.dockerOk('network', 'create', '--ipv6', '--subnet', '10.6.0.0/24', '--subnet', 'fd12:3456::/64', 'six');
    const net = await inspect(w, 'six');
    assert.equal(net.EnableIPv6, true);
    assert.deepEqual(net.IPAM.Config.map((c) => c.Gateway), ['10.6.0.1', 'fd12:3456::1']);
    const k = await link(w, `br-${net.Id.slice(0, 12)}`);
    const gateway = k?.addr_info.find((a) => a.local === 'fd12:3456::1' && a.prefixlen === 64);
    assert.ok(gateway);
    // Without DAD: a tentative gateway stalls the first connection to a container ~2 s.
    assert.equal(gateway.tentative, undefined, 'the IPv6 gateway is usable at once');
    await w.dockerOk('network', 'rm', 'six');
  });

  it('rejects bad input with Docker wording and leaves nothing behind', async () => {
    await w.dockerOk('network', 'create', '--subnet', '10.7.0.0/16', 'taken');
    const linksBefore = (await w.links()).sort();
    const netsBefore = await w.dockerOk('network', 'ls', '-q');
    const cases: [string[], RegExp][] = [
      [['network', 'create', 'taken'], /network with name taken already exists/],
      [['network', 'create', '--subnet', '10.7.1.0/24', 'x1'], /invalid pool request: Pool overlaps with other one on this address space/],
      [['network', 'create', '--subnet', '10.8.0.0/16', '--gateway', '10.9.0.1', 'x2'], /no matching subnet for gateway 10\.9\.0\.1/], // the CLI's own check
      [['network', 'create', '--subnet', '10.8.0.0/16', '--ip-range', '10.9.0.0/24', 'x3'], /range/],
      [['network', 'create', '--subnet', '10.8.0.0/33', 'x4'], /invalid network config:\ninvalid subnet 10\.8\.0\.0\/33: invalid CIDR block notation/],
      [['network', 'create', '-d', 'nosuch', 'x5'], /plugin "nosuch" not found/],
      [['network', 'create', '--subnet', 'fd00:8::/64', 'x9'], /invalid network config:\ninvalid subnet fd00:8::\/64: IPv6 has not been enabled for this network/],
      [['network', 'create', '-o', 'com.docker.network.bridge.enable_icc=maybe', 'x6'], /enable_icc/],
      [['network', 'create', '-o', 'com.docker.network.driver.mtu=12', 'x7'], /mtu/],
      [['network', 'create', '--subnet', '10.8.0.0/16', '--aux-address', 'a=10.9.0.1', 'x8'], /aux/],
      [['network', 'rm', 'bridge'], /bridge is a pre-defined network and cannot be removed/],
      [['network', 'rm', 'nosuch'], /network nosuch not found/],
      [['network', 'inspect', 'nosuch'], /network nosuch not found/],
    ];
    for (const [args, re] of cases) {
      const r = await w.docker(...args);
      assert.notEqual(r.code, 0, `${args.join(' ')} should fail`);
      assert.match(r.stderr, re, `${args.join(' ')}: ${r.stderr}`);
    }
    // The CLI checks some of these itself; the daemon must refuse them too.
    const apiCases: [unknown, number, RegExp][] = [
      [{ Name: 'y1', IPAM: { Config: [{ Subnet: '10.8.0.0/16', Gateway: '10.9.0.1' }] } }, 400, /^invalid network config:\ninvalid gateway 10\.9\.0\.1: parent subnet 10\.8\.0\.0\/16 doesn't contain this address$/],
      [{ Name: 'y2', IPAM: { Config: [{ Subnet: '10.8.0.0/16', IPRange: '10.9.0.0/24' }] } }, 400, /invalid ip-range/],
      [{ Name: 'y3', IPAM: { Config: [{ Subnet: '10.8.0.0/16', AuxiliaryAddresses: { a: '10.9.0.1' } }] } }, 400, /invalid auxiliary address a/],
      [{ Name: 'y4', IPAM: { Config: [{ Subnet: 'nonsense' }] } }, 400, /^invalid network config:\ninvalid subnet nonsense: invalid CIDR block notation$/],
      [{ Name: 'y5', IPAM: { Config: [{ Subnet: '10.8.0.0/16' }, { Subnet: '10.8.1.0/24' }] } }, 403, /Pool overlaps/],
      [{ Name: 42 }, 400, /cannot unmarshal number into field Name/],
      [{ Name: '' }, 400, /name/],
      [{ Name: 'y6', Options: { 'com.docker.network.bridge.name': 'a/b' } }, 400, /interface name/],
    ];
    for (const [body, status, re] of apiCases) {
      const r = await w.api('POST', '/v1.44/networks/create', body);
      assert.equal(r.status, status, JSON.stringify(body) + ' ' + JSON.stringify(r.body));
      assert.match((r.body as { message: string }).message, re);
    }
    const bad = await w.api('POST', '/v1.44/networks/create', undefined);
    assert.equal(bad.status, 400);
    assert.deepEqual((await w.links()).sort(), linksBefore);
    assert.equal(await w.dockerOk('network', 'ls', '-q'), netsBefore);
    await w.dockerOk('network', 'rm', 'taken');
  });

  it('never takes a user’s link for its own: a named existing bridge is used and kept, a veth is refused and kept', async () => {
    await w.ip('link', 'add', 'uveth', 'type', 'veth', 'peer', 'name', 'uveth2');
    await w.ip('link', 'add', 'ubr', 'type', 'bridge');
    try {
      const r = await w.docker('network', 'create', '-o', 'com.docker.network.bridge.name=uveth', '--subnet', '10.98.0.0/24', 'onveth');
      assert.match(r.stderr, /cannot use uveth as a bridge: a veth link has that name/);
      assert.ok((await w.links()).includes('uveth') && (await w.links()).includes('uveth2'), 'the failed create left the veth pair alone');
      await w.dockerOk('network', 'create', '-o', 'com.docker.network.bridge.name=ubr', '--subnet', '10.98.1.0/24', 'onubr');
      assert.ok((await link(w, 'ubr'))?.addr_info.some((a) => a.local === '10.98.1.1'));
      assert.doesNotMatch(await w.ip('-d', 'link', 'show', 'ubr'), /alias berth/);
      const localnet = async (): Promise<string> => (await must('nsenter', [`--net=${w.nsPath}`, '--', 'cat', '/proc/sys/net/ipv4/conf/ubr/route_localnet'])).trim();
      assert.equal(await localnet(), '1', 'lent for 127.0.0.1 publishing');
      await w.restart('SIGKILL'); // ownership is the kernel's fact, not the daemon's memory
      await w.dockerOk('network', 'rm', 'onubr');
      const kept = await link(w, 'ubr');
      assert.ok(kept, 'network rm keeps a bridge berth did not make');
      assert.ok(!kept.addr_info.some((a) => a.local === '10.98.1.1'), 'but takes its gateway address back');
      assert.equal(await localnet(), '0', 'and route_localnet');
    } finally {
      await w.ip('link', 'del', 'uveth').catch(() => undefined);
      await w.ip('link', 'del', 'ubr').catch(() => undefined);
    }
  });

  it('filters, formats and prunes', async () => {
    await w.dockerOk('network', 'create', '--label', 'env=test', 'alpha');
    await w.dockerOk('network', 'create', 'beta');
    assert.equal(await w.dockerOk('network', 'ls', '-f', 'name=alp', '--format', '{{.Name}}'), 'alpha');
    assert.equal(await w.dockerOk('network', 'ls', '-f', 'label=env=test', '--format', '{{.Name}}'), 'alpha');
    assert.equal(await w.dockerOk('network', 'ls', '-f', 'driver=null', '--format', '{{.Name}}'), 'none');
    const builtin = (await w.dockerOk('network', 'ls', '-f', 'type=builtin', '--format', '{{.Name}}')).split('\n').sort();
    assert.deepEqual(builtin, ['bridge', 'host', 'none']);
    const id = await w.dockerOk('network', 'ls', '-q', '-f', 'name=beta');
    assert.match(id, /^[0-9a-f]{12}$/);
    assert.equal(await w.dockerOk('network', 'inspect', '-f', '{{.Name}}', id), 'beta');
    const pruned = await w.dockerOk('network', 'prune', '-f', '--filter', 'label=env=test');
    assert.match(pruned, /alpha/);
    assert.doesNotMatch(pruned, /beta/);
    const rest = await w.dockerOk('network', 'prune', '-f');
    assert.match(rest, /beta/);
    assert.deepEqual((await w.dockerOk('network', 'ls', '--format', '{{.Name}}')).split('\n').sort(), ['bridge', 'host', 'none']);
  });

  it('answers version and info', async () => {
    assert.equal(await w.dockerOk('version', '--format', '{{.Server.APIVersion}}'), '1.44');
    assert.match(await w.dockerOk('info', '--format', '{{.ServerVersion}} {{.Driver}}'), /^\d+\.\d+\.\d+ overlay2$/);
  });
});

describe('state across restarts', () => {
  let w: World;
  before(async () => {
    w = await World.create();
  });
  after(async () => {
    await w.dispose();
  });

  it('keeps networks and IDs after kill -9 and reconciles the kernel', async () => {
    await w.dockerOk('network', 'create', '--subnet', '10.20.0.0/24', '--ip-range', '10.20.0.128/25', 'keep');
    const before = await w.dockerOk('network', 'inspect', 'bridge', 'host', 'none', 'keep');
    const keep = await inspect(w, 'keep');
    const br = `br-${keep.Id.slice(0, 12)}`;
    await w.stop('SIGKILL');
    // Meanwhile the kernel drifts: our bridge vanishes, an orphan of ours appears, a user's bridge appears.
    await w.ip('link', 'del', br);
    await w.ip('link', 'add', 'br-0123456789ab', 'type', 'bridge');
    await w.ip('link', 'set', 'br-0123456789ab', 'alias', 'berth');
    // ...and one retired by a network rm whose background deletion the crash cut short.
    await w.ip('link', 'add', 'berthrm-abcdef', 'type', 'bridge');
    await w.ip('link', 'set', 'berthrm-abcdef', 'alias', 'berth');
    await w.ip('link', 'add', 'userbr', 'type', 'bridge');
    await w.start();
    assert.equal(await w.dockerOk('network', 'inspect', 'bridge', 'host', 'none', 'keep'), before);
    const links = await w.links();
    assert.ok(links.includes(br), 'missing bridge recreated');
    assert.ok(!links.includes('br-0123456789ab'), 'orphan removed');
    assert.ok(!links.includes('berthrm-abcdef'), 'retired orphan removed');
    assert.ok(links.includes('userbr'), "the user's bridge is left alone");
    const k = await link(w, br);
    assert.ok(k?.addr_info.some((a) => a.local === keep.IPAM.Config[0]!.Gateway));
    await w.dockerOk('network', 'rm', 'keep');
    await w.ip('link', 'del', 'userbr');
  });
});

describe('daemon flags', () => {
  it('takes --bip for the default bridge', async () => {
    const w = await World.create({ daemonArgs: ['--bip', '10.99.0.1/24'] });
    try {
      const net = await inspect(w, 'bridge');
      assert.deepEqual(net.IPAM.Config, [{ Subnet: '10.99.0.0/24', Gateway: '10.99.0.1' }]);
      assert.ok((await link(w, 'berth0'))?.addr_info.some((a) => a.local === '10.99.0.1' && a.prefixlen === 24));
    } finally {
      await w.dispose();
    }
  });

  it('applies --bip and -b at every start while no container holds the default bridge, keeping its ID', async () => {
    const w = await World.create();
    const bridgeOf = async (): Promise<string> => (await inspect(w, 'bridge')).Options['com.docker.network.bridge.name']!;
    try {
      const first = await inspect(w, 'bridge');
      await w.restart('SIGTERM', ['--bip', '10.55.0.1/24']);
      const moved = await inspect(w, 'bridge');
      assert.equal(moved.Id, first.Id);
      assert.deepEqual(moved.IPAM.Config, [{ Subnet: '10.55.0.0/24', Gateway: '10.55.0.1' }]);
      assert.deepEqual((await link(w, 'berth0'))?.addr_info.filter((a) => a.family === 'inet').map((a) => a.local), ['10.55.0.1']);
      await w.dockerOk('run', '-d', '--name', 'holder', 'busybox', 'sleep', '1000');
      // A container outlives the daemon: while it is attached, bridge and subnet stay.
      await w.ip('link', 'add', 'ubr0', 'type', 'bridge');
      await w.ip('addr', 'add', '10.44.0.1/24', 'dev', 'ubr0');
      await w.restart('SIGTERM', ['-b', 'ubr0']);
      assert.deepEqual((await inspect(w, 'bridge')).IPAM.Config, [{ Subnet: '10.55.0.0/24', Gateway: '10.55.0.1' }]);
      assert.equal(await bridgeOf(), 'berth0');
      await w.dockerOk('run', '--rm', 'busybox', 'ping', '-c', '1', '-W', '2', '10.55.0.2');
      await w.dockerOk('rm', '-f', 'holder');
      // Free now: -b gives the user's bridge and its address.
      await w.restart('SIGTERM', ['-b', 'ubr0']);
      assert.deepEqual((await inspect(w, 'bridge')).IPAM.Config, [{ Subnet: '10.44.0.0/24', Gateway: '10.44.0.1' }]);
      assert.equal(await bridgeOf(), 'ubr0');
      // Without -b: berth0 again, on a free default pool (ubr0 still routes 10.44.0.0/24), kept at the next start.
      await w.restart('SIGTERM');
      await w.restart('SIGTERM');
      const back = await inspect(w, 'bridge');
      assert.equal(back.Id, first.Id);
      assert.deepEqual(back.IPAM.Config, first.IPAM.Config);
      assert.equal(await bridgeOf(), 'berth0');
      assert.ok((await link(w, 'ubr0'))?.addr_info.some((a) => a.local === '10.44.0.1'), 'the user’s bridge keeps its address');
      assert.match(await w.dockerOk('run', '--rm', 'busybox', 'ip', '-4', 'addr', 'show', 'eth0'), new RegExp(`inet ${first.IPAM.Config[0]!.Gateway.replace(/\.1$/, '.2').replaceAll('.', '\\.')}/`));
      await w.ip('link', 'del', 'ubr0');
    } finally {
      await w.dispose();
    }
  });

  it('--firewall=false writes no rules, removes an earlier run’s, and still forwards', async () => {
    const w = await World.create();
    try {
      const tables = async (): Promise<string> => must('nsenter', [`--net=${w.nsPath}`, '--', 'nft', 'list', 'tables']);
      const forwarding = async (): Promise<string> => (await must('nsenter', [`--net=${w.nsPath}`, '--', 'cat', '/proc/sys/net/ipv4/ip_forward'])).trim();
      await w.dockerOk('run', '-d', '--name', 'pub', '-p', '8080:80', 'busybox', 'httpd', '-f', '-p', '80', '-h', '/www');
      assert.match(await tables(), /table inet berth/);
      await w.restart('SIGTERM', ['--firewall=false']);
      assert.doesNotMatch(await tables(), /berth/, 'no rule of the earlier run outlives its objects');
      const localnet = (await must('nsenter', [`--net=${w.nsPath}`, '--', 'cat', '/proc/sys/net/ipv4/conf/berth0/route_localnet'])).trim();
      assert.equal(localnet, '0', 'without the guard chain, containers must not reach the host’s loopback');
      await w.dockerOk('rm', '-f', 'pub');
      await w.stop();
      await must('nsenter', [`--net=${w.nsPath}`, '--', 'sh', '-c', 'echo 0 > /proc/sys/net/ipv4/ip_forward']);
      await w.start(['--firewall=false']);
      assert.equal(await forwarding(), '1');
      assert.doesNotMatch(await tables(), /berth/);
      // No DNAT: berth's relay serves published ports, as docker-proxy does under --iptables=false.
      await w.dockerOk('run', '-d', '--name', 'pub', '-p', '8080:80', 'busybox', 'httpd', '-f', '-p', '80', '-h', '/www');
      assert.match((await w.inNs(w.ns, ['curl', '-sf', '-m', '3', 'http://127.0.0.1:8080/'])).stdout, /berth/);
      await w.dockerOk('rm', '-f', 'pub');
    } finally {
      await w.dispose();
    }
  });

  it('uses a -b bridge with its own address and never deletes it', async () => {
    const w = await World.create({
      daemonArgs: ['-b', 'mybr'],
      prepare: async (x) => {
        await x.ip('link', 'add', 'mybr', 'type', 'bridge');
        await x.ip('addr', 'add', '10.77.0.1/24', 'dev', 'mybr');
      },
    });
    try {
      const net = await inspect(w, 'bridge');
      assert.deepEqual(net.IPAM.Config, [{ Subnet: '10.77.0.0/24', Gateway: '10.77.0.1' }]);
      assert.equal(net.Options['com.docker.network.bridge.name'], 'mybr');
      assert.ok(!(await w.links()).includes('berth0'));
      await w.restart('SIGKILL');
      assert.ok((await w.links()).includes('mybr'));
      assert.ok((await link(w, 'mybr'))?.flags.includes('UP'));
    } finally {
      await w.dispose();
    }
  });

  it('takes --default-address-pool and two daemons do not collide', async () => {
    const a = await World.create({ daemonArgs: ['--default-address-pool', 'base=10.123.0.0/16,size=24'] });
    // A second daemon that fails to start must not leave the first one running.
    const b = await World.create().catch(async (e: unknown) => {
      await a.dispose();
      throw e;
    });
    try {
      assert.equal(await a.dockerOk('info', '--format', '{{json .DefaultAddressPools}}'), '[{"Base":"10.123.0.0/16","Size":24}]');
      assert.equal(await b.dockerOk('info', '--format', '{{json .DefaultAddressPools}}'), 'null', 'none shown when the flag is not used, as Docker');
      await a.dockerOk('network', 'create', 'p1');
      await a.dockerOk('network', 'create', 'p2');
      assert.equal(await a.dockerOk('network', 'inspect', '-f', '{{(index .IPAM.Config 0).Subnet}}', 'p2'), '10.123.2.0/24');
      await b.dockerOk('network', 'create', 'p1');
      assert.equal(await b.dockerOk('network', 'inspect', '-f', '{{(index .IPAM.Config 0).Subnet}}', 'p1'), '172.18.0.0/16');
      await a.dockerOk('network', 'rm', 'p1', 'p2');
      await b.dockerOk('network', 'rm', 'p1');
    } finally {
      // Both go, whatever either says; a leak either finds still fails the test.
      const left = (await Promise.allSettled([a.dispose(), b.dispose()])).find((r) => r.status === 'rejected');
      if (left) throw left.reason;
    }
  });
});
