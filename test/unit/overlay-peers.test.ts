/**
 * A VXLAN link's FDB and neighbour tables against the cluster's remote endpoints: the
 * kernel's JSON read back, the commands that make the tables exact, and a restarted
 * driver (empty memory, the kernel's tables kept) converging without duplicates or
 * leftovers.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseFdb, parseNeighbours } from '../../src/kernel/fdb.js';
import { overlayDriver } from '../../src/network/drivers/overlay/index.js';
import { reconcileTables } from '../../src/network/drivers/overlay/peers.js';
import type { RemoteEndpoint } from '../../src/network/shared.js';
import { FakeKernel } from '../lib/fake-kernel.js';
import { networkRecord } from '../lib/records.js';

const peer = (id: string, node: string, ip: string): RemoteEndpoint => ({ networkId: 'n', endpointId: id, containerId: `c${id}`, name: id, aliases: [], ipv4: ip, mac: `02:42:0a:00:01:${id.padStart(2, '0')}`, node });
const A = peer('5', '10.99.0.12', '10.0.1.5');
const B = peer('6', '10.99.0.12', '10.0.1.6');
const C = peer('7', '10.99.0.13', '10.0.1.7');

describe("a VXLAN link's tables", () => {
  it('reads the kernel’s own entries, not the bridge’s', () => {
    // bridge -j fdb show dev vx-… and ip -j neigh show dev vx-… on this kernel.
    const fdb = parseFdb([
      { mac: 'b6:a0:47:5c:8f:7b', flags: [], master: 'ov-001001', state: 'permanent' },
      { mac: '02:42:0A:00:01:05', dst: '10.99.0.12', flags: ['self'], state: 'permanent' },
      { mac: '00:00:00:00:00:00', dst: '10.99.0.12', flags: ['self'], state: 'permanent' },
    ]);
    assert.deepEqual(fdb, [
      { mac: '02:42:0a:00:01:05', dst: '10.99.0.12', permanent: true },
      { mac: '00:00:00:00:00:00', dst: '10.99.0.12', permanent: true },
    ]);
    assert.deepEqual(parseNeighbours([{ dst: '10.0.1.5', lladdr: '02:42:0a:00:01:05', state: ['PERMANENT'] }, { dst: '10.0.1.9', state: ['FAILED'] }]), [{ ip: '10.0.1.5', mac: '02:42:0a:00:01:05', permanent: true }]);
  });

  it('from empty: one broadcast entry per host, an FDB and a neighbour entry per endpoint', () => {
    assert.deepEqual(reconcileTables('vx-001001', [A, B, C], { fdb: [], neigh: [] }), {
      fdb: [
        'fdb append 00:00:00:00:00:00 dev vx-001001 dst 10.99.0.12 self permanent',
        'fdb replace 02:42:0a:00:01:05 dev vx-001001 dst 10.99.0.12 self permanent',
        'fdb replace 02:42:0a:00:01:06 dev vx-001001 dst 10.99.0.12 self permanent',
        'fdb append 00:00:00:00:00:00 dev vx-001001 dst 10.99.0.13 self permanent',
        'fdb replace 02:42:0a:00:01:07 dev vx-001001 dst 10.99.0.13 self permanent',
      ],
      neigh: [
        'neigh replace 10.0.1.5 lladdr 02:42:0a:00:01:05 dev vx-001001 nud permanent',
        'neigh replace 10.0.1.6 lladdr 02:42:0a:00:01:06 dev vx-001001 nud permanent',
        'neigh replace 10.0.1.7 lladdr 02:42:0a:00:01:07 dev vx-001001 nud permanent',
      ],
    });
  });

  it('after a restart: what is right stays, what went while the daemon was down goes, nothing is added twice', () => {
    const kernel = {
      fdb: [
        { mac: '00:00:00:00:00:00', dst: '10.99.0.12', permanent: true },
        { mac: '02:42:0a:00:01:05', dst: '10.99.0.12', permanent: true },
        // C's host had only C, which went.
        { mac: '00:00:00:00:00:00', dst: '10.99.0.13', permanent: true },
        { mac: '02:42:0a:00:01:07', dst: '10.99.0.13', permanent: true },
      ],
      neigh: [
        { ip: '10.0.1.5', mac: '02:42:0a:00:01:05', permanent: true },
        { ip: '10.0.1.7', mac: '02:42:0a:00:01:07', permanent: true },
        // B's address, once another endpoint's: the MAC is wrong.
        { ip: '10.0.1.6', mac: '02:42:0a:00:01:99', permanent: true },
      ],
    };
    assert.deepEqual(reconcileTables('vx-001001', [A, B], kernel), {
      fdb: [
        'fdb del 00:00:00:00:00:00 dev vx-001001 dst 10.99.0.13 self',
        'fdb del 02:42:0a:00:01:07 dev vx-001001 dst 10.99.0.13 self',
        'fdb replace 02:42:0a:00:01:06 dev vx-001001 dst 10.99.0.12 self permanent',
      ],
      neigh: ['neigh del 10.0.1.7 dev vx-001001', 'neigh replace 10.0.1.6 lladdr 02:42:0a:00:01:06 dev vx-001001 nud permanent'],
    });
    assert.deepEqual(reconcileTables('vx-001001', [A], { fdb: kernel.fdb.slice(0, 2), neigh: kernel.neigh.slice(0, 1) }), { fdb: [], neigh: [] });
  });

  it('an endpoint that moved to another host: its old entry goes, the new one comes', () => {
    const moved = { ...A, node: '10.99.0.13' };
    const cmds = reconcileTables('vx-001001', [moved], { fdb: [{ mac: '00:00:00:00:00:00', dst: '10.99.0.12', permanent: true }, { mac: A.mac, dst: '10.99.0.12', permanent: true }], neigh: [] });
    assert.deepEqual(cmds.fdb, [
      'fdb del 00:00:00:00:00:00 dev vx-001001 dst 10.99.0.12 self',
      `fdb del ${A.mac} dev vx-001001 dst 10.99.0.12 self`,
      'fdb append 00:00:00:00:00:00 dev vx-001001 dst 10.99.0.13 self permanent',
      `fdb replace ${A.mac} dev vx-001001 dst 10.99.0.13 self permanent`,
    ]);
  });
});

describe('a restarted overlay driver', () => {
  const place = { addr: '10.99.0.11', dataPathPort: 4789, underlayMtu: 1500, networkKeys: [] };
  const make = (kernel: FakeKernel) =>
    overlayDriver({ kernel, defaultBridge: { name: 'berth0', external: false }, defaultMtu: 1500, log: () => undefined, swarm: () => place }).validate(
      networkRecord({ name: 'ov', driver: 'overlay', options: { 'com.docker.network.driver.overlay.vxlanid_list': '4097' } }),
    );

  it('converges on the cluster’s endpoints from the tables the kernel kept', async () => {
    const kernel = new FakeKernel();
    const before = make(kernel);
    await before.ensure();
    await before.setPeers!([A, C], true);
    await before.setPeers!([B]);
    // The daemon dies; meanwhile C goes and B is still there. The new daemon knows nothing.
    const after = make(kernel);
    await after.ensure();
    await after.setPeers!([A, B], true);
    assert.deepEqual(
      (await kernel.links.fdb('vx-001001')).map((e) => `${e.mac} ${e.dst}`).sort(),
      ['00:00:00:00:00:00 10.99.0.12', `${A.mac} 10.99.0.12`, `${B.mac} 10.99.0.12`].sort(),
    );
    assert.deepEqual((await kernel.links.neighbours('vx-001001')).map((e) => e.ip).sort(), ['10.0.1.5', '10.0.1.6']);
    // It now knows them: B's departure takes its entries, and the host's broadcast entry stays for A.
    await after.dropPeers!([B]);
    assert.deepEqual((await kernel.links.fdb('vx-001001')).map((e) => `${e.mac} ${e.dst}`).sort(), ['00:00:00:00:00:00 10.99.0.12', `${A.mac} 10.99.0.12`].sort());
  });

  it('keeps the entries of an address a replacement took on another host before the old endpoint’s went', async () => {
    const kernel = new FakeKernel();
    const n = make(kernel);
    await n.ensure();
    await n.setPeers!([A, C], true);
    // A's node died; its address went to a new task on C's host, told before A's removal is.
    const again = { ...A, endpointId: '15', node: C.node };
    await n.setPeers!([again]);
    await n.dropPeers!([A]);
    assert.deepEqual((await kernel.links.neighbours('vx-001001')).map((e) => `${e.ip} ${e.mac}`).sort(), [`${A.ipv4} ${A.mac}`, `${C.ipv4} ${C.mac}`]);
    assert.deepEqual((await kernel.links.fdb('vx-001001')).map((e) => `${e.mac} ${e.dst}`).sort(), ['00:00:00:00:00:00 10.99.0.13', `${A.mac} 10.99.0.13`, `${C.mac} 10.99.0.13`].sort());
    // Its new holder's departure takes them.
    await n.dropPeers!([again]);
    assert.deepEqual((await kernel.links.neighbours('vx-001001')).map((e) => e.ip), [C.ipv4]);
  });
});

describe('direct routing', () => {
  const place = { addr: '10.99.0.11', dataPathPort: 4789, underlayMtu: 1500, underlayLink: 'eth0', underlaySubnet: '10.99.0.11/24', networkKeys: [] };
  const pool = { subnet: '10.0.1.0/24', gateway: '10.0.1.1', auxAddresses: {}, allocated: [] };
  const record = (subnet = pool.subnet, direct = true) =>
    networkRecord({
      name: 'ov',
      driver: 'overlay',
      ipam: { driver: 'default', options: null, pools: [{ ...pool, subnet }] },
      options: { 'com.docker.network.driver.overlay.vxlanid_list': '4097', ...(direct ? { 'com.berth.network.driver.overlay.direct_routing': 'true' } : {}) },
    });
  let inSwarm = true;
  const driver = (kernel: FakeKernel, local: { sandbox: string; ifName: string }[] = []) => overlayDriver({ kernel, defaultBridge: { name: 'berth0', external: false }, defaultMtu: 1500, log: () => undefined, swarm: () => (inSwarm ? place : undefined), localEndpoints: () => local });
  const make = (kernel: FakeKernel, local: { sandbox: string; ifName: string }[] = [], direct = true) => driver(kernel, local).validate(record(pool.subnet, direct));
  /** A kernel with the host's underlay link. */
  const host = async (): Promise<FakeKernel> => {
    const kernel = new FakeKernel();
    await kernel.links.batch(['link add eth0 type dummy']);
    return kernel;
  };
  /** A host beyond this host's segment: still VXLAN. */
  const FAR = peer('9', '10.98.0.5', '10.0.1.9');
  /** The VXLAN link's sending filters: the addresses it redirects, and where. */
  const sending = async (kernel: FakeKernel): Promise<string[]> =>
    (await kernel.tc.filters('vx-001001', 'egress')).flatMap((f) => (f.redirect ? [`${f.handle} ${f.matches.map((m) => `${m.value}/${m.mask}@${m.at}`).join(' ')} > ${f.redirect.side} ${f.redirect.dev ?? '*'}`] : []));
  const receiving = async (kernel: FakeKernel): Promise<string[]> =>
    (await kernel.tc.filters('eth0', 'ingress')).filter((f) => f.redirect).map((f) => `${f.matches.map((m) => `${m.value}/${m.mask}@${m.at}`).join(' ')} > ${f.redirect?.side ?? '-'} ${f.redirect?.dev ?? '*'}`);

  it('sends a peer on the same segment out of the underlay link as it is (a filter instead of an FDB entry, its own MAC), and tunnels one beyond it', async () => {
    const kernel = await host();
    const n = make(kernel);
    await n.ensure();
    await n.setPeers!([A, FAR], true);
    assert.deepEqual((await kernel.links.fdb('vx-001001')).map((e) => `${e.mac} ${e.dst}`).sort(), ['00:00:00:00:00:00 10.98.0.5', `${FAR.mac} 10.98.0.5`].sort());
    assert.deepEqual((await kernel.links.neighbours('vx-001001')).map((e) => `${e.ip} ${e.mac}`).sort(), [`10.0.1.5 ${A.mac}`, `10.0.1.9 ${FAR.mac}`]);
    // Bucket 5 (the last byte), node 2 (the bits above it, plus one).
    assert.deepEqual(await sending(kernel), ['1:5:2 0a000105/ffffffff@16 > egress eth0']);
    assert.deepEqual(await receiving(kernel), ['0a000100/ffffff00@12 0a000100/ffffff00@16 > ingress vx-001001']);
    assert.equal(n.directRouted, true);
    // Only the network's own endpoints are let in through its VXLAN link: a routed one by MAC . address, a tunnelled one by MAC.
    const admission = kernel.nftScripts.at(-1)!;
    assert.match(admission, /type filter hook ingress device "vx-001001" priority filter; policy accept;\n\t\tmeta protocol ip ether saddr != @tunnelled ether saddr \. ip saddr != @routed drop/);
    assert.match(admission, new RegExp(`set routed \\{\n\t\ttype ether_addr \\. ipv4_addr\n.*\n\t\telements = \\{ ${A.mac} \\. 10\\.0\\.1\\.5 \\}`));
    assert.match(admission, new RegExp(`set tunnelled \\{\n\t\ttype ether_addr\n.*\n\t\telements = \\{ ${FAR.mac} \\}`));
    await n.setPeers!([B]);
    assert.equal(kernel.nftScripts.at(-1), `add element netdev berth_dr_001001 routed { ${B.mac} . 10.0.1.6 }\n`);
    await n.dropPeers!([A]);
    assert.equal(kernel.nftScripts.at(-1), `delete element netdev berth_dr_001001 routed { ${A.mac} . 10.0.1.5 }\n`);
    // Flushed behind berthd's back (nft flush ruleset): the next peer makes it whole again instead of failing.
    kernel.tables.delete('netdev berth_dr_001001');
    (kernel.nft as { apply: (s: string) => Promise<void> }).apply = (async (apply: (s: string) => Promise<void>, script: string) => {
      if (script.startsWith('add element') && !kernel.tables.has('netdev berth_dr_001001')) throw new Error('No such file or directory');
      await apply(script);
    }).bind(undefined, kernel.nft.apply.bind(kernel.nft));
    const C2 = peer('8', '10.99.0.12', '10.0.1.8');
    await n.setPeers!([C2]);
    assert.ok(kernel.tables.has('netdev berth_dr_001001'));
    assert.ok(kernel.nftScripts.at(-1)!.includes(`elements = { ${B.mac} . 10.0.1.6, ${C2.mac} . 10.0.1.8 }`), kernel.nftScripts.at(-1));
    // The same endpoint under another MAC: its old element goes.
    await n.setPeers!([{ ...C2, mac: '02:42:0a:00:01:88' }]);
    assert.equal(kernel.nftScripts.at(-1), `delete element netdev berth_dr_001001 routed { ${C2.mac} . 10.0.1.8 }\n`);
    await n.dropPeers!([C2]);
    assert.equal(kernel.nftScripts.at(-1), `delete element netdev berth_dr_001001 routed { 02:42:0a:00:01:88 . 10.0.1.8 }\n`, 'the element it has now');
    assert.deepEqual(await sending(kernel), ['1:6:2 0a000106/ffffffff@16 > egress eth0']);
    assert.deepEqual((await kernel.links.fdb('vx-001001')).length, 2, 'still only the far host’s entries');
    // A's address given to a task beyond the segment: its filter goes before its neighbour entry says the new MAC.
    const moved = { ...FAR, endpointId: '10', ipv4: B.ipv4, mac: '02:42:0a:00:01:10' };
    await n.setPeers!([moved]);
    assert.deepEqual(await sending(kernel), []);
    const log = kernel.faults.log.join('\n');
    assert.ok(log.indexOf('tc filter del dev vx-001001 egress prio 1 handle 1:6:2') < log.lastIndexOf(`neigh replace 10.0.1.6 lladdr ${moved.mac}`), log);
    // Removed after the node left its swarm (as leaving does): nothing of it left on the underlay link, not even the qdisc.
    inSwarm = false;
    await n.remove();
    inSwarm = true;
    assert.deepEqual(await kernel.tc.filters('eth0', 'ingress'), []);
    assert.deepEqual([...kernel.tcState.qdiscs], []);
    assert.deepEqual([...kernel.tables], []);
  });

  it('changes the underlay link for one network at a time: one removed while another comes keeps the other’s filter and the qdisc', async () => {
    const kernel = await host();
    const d = driver(kernel);
    const other = (vni: string, subnet: string) => d.validate(networkRecord({ ...record(subnet), name: `ov${vni}`, options: { ...record().options, 'com.docker.network.driver.overlay.vxlanid_list': vni } }));
    const one = other('4097', '10.0.1.0/24');
    await one.ensure();
    const two = other('4098', '10.0.2.0/24');
    // Reading the underlay link's filters takes a while, as spawning tc does: the two would interleave there.
    const later = async (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
    const read = kernel.tc.filters;
    (kernel.tc as { filters: typeof read }).filters = async (dev, side) => {
      await later(5);
      return read(dev, side);
    };
    // The second network comes while the first one's removal looks whether anything is left on the link.
    await Promise.all([one.remove(), later(7).then(async () => two.ensure())]);
    assert.deepEqual(await receiving(kernel), ['0a000200/ffffff00@12 0a000200/ffffff00@16 > ingress vx-001002']);
    assert.deepEqual([...kernel.tcState.qdiscs].sort(), ['eth0', 'vx-001002']);
  });

  it('refuses a subnet wider than its filters’ handles tell apart', () => {
    assert.throws(() => driver(new FakeKernel()).validate(record('10.0.0.0/12')), /direct_routing needs subnets of \/13 or smaller: 10\.0\.0\.0\/12 is wider/);
    assert.doesNotThrow(() => driver(new FakeKernel()).validate(record('10.0.0.0/13')));
    assert.doesNotThrow(() => driver(new FakeKernel()).validate(record('10.0.0.0/8', false)));
  });

  it('gives its links the underlay’s MTU, and each container a route of its own to each routed peer (its subnet’s at VXLAN’s MTU) that follows the peers; a restart makes them exact', async () => {
    const kernel = await host();
    const local = [{ sandbox: '/run/c1', ifName: 'eth0' }];
    const n = make(kernel, local);
    await n.ensure();
    assert.equal((await kernel.links.get('vx-001001'))?.mtu, 1500, 'routed packets carry no VXLAN');
    await n.setPeers!([A, FAR], true);
    const ep = { ifName: 'eth0', mac: '02:42:0a:00:01:02', ipv4: { address: '10.0.1.2', prefixLen: 24, gateway: '10.0.1.1' }, gateway: false } as unknown as Parameters<NonNullable<typeof n.planJoin>>[0];
    const plan = n.planJoin!(ep, '/run/c1');
    assert.deepEqual(plan.steps.slice(-2), [
      { in: 'sandbox', commands: ['route replace 10.0.1.0/24 dev eth0 proto kernel scope link src 10.0.1.2 mtu 1450', 'route replace 10.0.1.5/32 dev eth0 scope link'] },
      { in: 'host-fdb', commands: ['fdb replace 02:42:0a:00:01:02 dev eth0 self permanent'] },
    ]);
    await kernel.sandboxes.apply(plan.steps, '/run/c1');
    // Routed peers' frames come addressed to the container's MAC: the underlay link takes it while the container is there.
    const taken = async (): Promise<string[]> => (await kernel.links.fdb('eth0')).map((e) => e.mac);
    assert.deepEqual(await taken(), ['02:42:0a:00:01:02']);
    assert.deepEqual(await kernel.sandboxes.undo(n.planLeave!(ep).steps, '/run/gone'), []);
    assert.deepEqual(await taken(), []);
    await kernel.sandboxes.apply(plan.steps.slice(-1), '/run/c1');
    const routes = (): string[] => [...kernel.routeTable.get('/run/c1')!].filter((r) => r.includes('/32')).sort();
    await n.setPeers!([B]);
    await n.dropPeers!([A]);
    assert.deepEqual(routes(), ['10.0.1.6/32 dev eth0 scope link'], 'the far host’s peer is reached over VXLAN, at the subnet route’s MTU');
    // A peer beyond the segment touches no container: their subnet route already gives it VXLAN's MTU.
    const touched = (): number => kernel.faults.log.filter((l) => l.startsWith('sandbox /run/c1')).length;
    const before = touched();
    await n.setPeers!([{ ...FAR, endpointId: '11', ipv4: '10.0.1.11', mac: '02:42:0a:00:01:11' }]);
    assert.equal(touched(), before);
    // B's address given to a task beyond the segment (B not yet dropped): reached over VXLAN, so no longer routed full size.
    const moved = { ...FAR, endpointId: '10', ipv4: B.ipv4, mac: '02:42:0a:00:01:10' };
    await n.setPeers!([moved]);
    assert.deepEqual(routes(), []);
    await n.dropPeers!([B, moved]);
    await n.setPeers!([B]);
    // A route the kernel lists without a prefix or an address (a default route through the link) is not the network's.
    await kernel.sandboxes.amend('/run/c1', ['route replace default dev eth0']);
    // A restart: B went meanwhile, A came back; a sandbox gone meanwhile is skipped, never made.
    const after = make(kernel, [...local, { sandbox: '/run/gone', ifName: 'eth0' }]);
    await after.ensure();
    await after.setPeers!([A, FAR], true);
    assert.deepEqual(routes(), ['10.0.1.5/32 dev eth0 scope link']);
    assert.equal(kernel.namespaces.has('/run/gone'), false);
    // Without direct routing, nothing of it: VXLAN's MTU, the container's routes as the kernel makes them, no filters.
    const plain = await host();
    const ov = make(plain, local, false);
    await ov.ensure();
    await ov.setPeers!([A, FAR], true);
    assert.equal((await plain.links.get('vx-001001'))?.mtu, 1450);
    assert.equal(ov.planJoin!(ep, '/run/c1').steps.length, 3);
    assert.equal(ov.planLeave!(ep).steps.length, 1);
    assert.deepEqual([...plain.tcState.qdiscs], []);
  });

  it('after a restart: the filters of peers that went are removed, lost ones made again; a sweep removes the receiving filters of a network gone meanwhile', async () => {
    const kernel = await host();
    await make(kernel).ensure();
    await make(kernel).setPeers!([A, B], true);
    // Lost in a crash: the receiving filter (say), and the sending table of a VXLAN link made again.
    await kernel.tc.batch((await kernel.tc.filters('eth0', 'ingress')).filter((f) => f.redirect).map((f) => `filter del dev eth0 ingress prio ${f.prio} handle ${f.handle} protocol ip u32`));
    const after = make(kernel);
    await after.ensure();
    await after.setPeers!([B], true);
    assert.deepEqual(await sending(kernel), ['1:6:2 0a000106/ffffffff@16 > egress eth0']);
    assert.deepEqual(await receiving(kernel), ['0a000100/ffffff00@12 0a000100/ffffff00@16 > ingress vx-001001']);
    assert.deepEqual((await kernel.links.neighbours('vx-001001')).map((e) => e.ip), ['10.0.1.6']);
    await kernel.links.batch(['link del dev ov-001001', 'link del dev vx-001001']);
    const fresh = make(kernel);
    await fresh.ensure();
    await fresh.setPeers!([A], true);
    assert.deepEqual(await sending(kernel), ['1:5:2 0a000105/ffffffff@16 > egress eth0']);
    // The old link's receiving filter (redirecting to nothing: it would drop the network's frames) gave way to the new link's.
    assert.deepEqual(await receiving(kernel), ['0a000100/ffffff00@12 0a000100/ffffff00@16 > ingress vx-001001']);
    await kernel.links.batch(['link del dev ov-001001', 'link del dev vx-001001']);
    assert.deepEqual(await receiving(kernel), ['0a000100/ffffff00@12 0a000100/ffffff00@16 > ingress *']);
    // The network removed while the daemon was down (its link gone, its filter left): the sweep removes the filter.
    assert.deepEqual([...kernel.tables], ['netdev berth_dr_001001']);
    await driver(kernel).removeOrphans!([], () => false);
    assert.deepEqual(await receiving(kernel), []);
    assert.deepEqual([...kernel.tables], [], 'its admission table swept too');
    assert.deepEqual([...kernel.tcState.qdiscs], []);
  });
});

describe("the overlay's links on a host", () => {
  const place = { addr: '10.99.0.11', dataPathPort: 4789, underlayMtu: 1500, underlaySubnet: '10.99.0.11/24', networkKeys: [] };
  const pool = { subnet: '10.0.1.0/24', gateway: '10.0.1.1', auxAddresses: {}, allocated: [] };
  const make = (kernel: FakeKernel) =>
    overlayDriver({ kernel, defaultBridge: { name: 'berth0', external: false }, defaultMtu: 1500, log: () => undefined, swarm: () => place }).validate(
      networkRecord({ name: 'ov', driver: 'overlay', ipam: { driver: 'default', options: null, pools: [pool] }, options: { 'com.docker.network.driver.overlay.vxlanid_list': '4097' } }),
    );
  const shape = async (kernel: FakeKernel): Promise<string[]> =>
    (await kernel.links.list()).filter((l) => /^(ov|vx)-/.test(l.name)).map((l) => `${l.name} ${l.kind ?? '?'} ${l.master ?? '-'}`).sort();

  it('is a VXLAN link and the host’s macvlan of it, no bridge; a container’s interface is a macvlan of it made into its sandbox', async () => {
    const kernel = new FakeKernel();
    const n = make(kernel);
    await n.ensure();
    assert.deepEqual(await shape(kernel), ['ov-001001 macvlan -', 'vx-001001 vxlan -']);
    const ep = { ifName: 'eth0', mac: '02:42:0a:00:01:02', ipv4: { address: '10.0.1.2', prefixLen: 24, gateway: '10.0.1.1' }, gateway: false } as unknown as Parameters<NonNullable<typeof n.planJoin>>[0];
    assert.deepEqual(n.planJoin!(ep, '/run/x').steps, [
      { in: 'sandbox', commands: [] },
      { in: 'host', commands: ['link add eth0 link vx-001001 address 02:42:0a:00:01:02 netns /run/x type macvlan mode bridge'] },
      { in: 'sandbox', commands: ['addr add 10.0.1.2/24 dev eth0', 'link set eth0 up'] },
    ]);
  });

  it('with the data path in a namespace of its own, makes the VXLAN link there (its socket stays) and brings it to the host; routes nothing directly; refuses encryption', async () => {
    const kernel = new FakeKernel();
    const dp = { ...place, addr: '10.99.0.111', dataPathNetns: { path: '/run/dp', identity: 'ns1' } };
    await kernel.sandboxes.ensure('/run/dp');
    // A link a failed move left in the namespace: in the way, it goes.
    await kernel.sandboxes.apply([{ in: 'sandbox', commands: ['link add vx-001001 mtu 1450 type vxlan id 4097'] }], '/run/dp');
    const record = (options: Record<string, string>) =>
      networkRecord({ name: 'ov', driver: 'overlay', ipam: { driver: 'default', options: null, pools: [pool] }, options: { 'com.docker.network.driver.overlay.vxlanid_list': '4097', ...options } });
    const driver = overlayDriver({ kernel, defaultBridge: { name: 'berth0', external: false }, defaultMtu: 1500, log: () => undefined, swarm: () => dp });
    const n = driver.validate(record({ 'com.berth.network.driver.overlay.direct_routing': 'true' }));
    await n.ensure();
    assert.deepEqual(await shape(kernel), ['ov-001001 macvlan -', 'vx-001001 vxlan -']);
    assert.deepEqual(
      kernel.faults.log.filter((l) => l.includes('vx-001001') && l.startsWith('sandbox /run/dp')).slice(1),
      [
        'sandbox /run/dp: link add vx-001001 mtu 1450 type vxlan id 4097 local 10.99.0.111 dstport 4789 nolearning proxy',
        'sandbox /run/dp: link del dev vx-001001',
        'sandbox /run/dp: link add vx-001001 mtu 1450 type vxlan id 4097 local 10.99.0.111 dstport 4789 nolearning proxy',
        `sandbox /run/dp: link set dev vx-001001 netns /proc/${process.pid}/ns/net`,
      ],
    );
    assert.deepEqual([...kernel.namespaces.get('/run/dp')!.keys()].filter((l) => l !== 'lo'), [], 'the link stays in the namespace');
    // A peer on this host's segment: still VXLAN, as from a host whose data path is in a namespace (tunnelOnly).
    const near = { networkId: 'n', endpointId: 'e1', containerId: 'c1', name: 'a', aliases: [], ipv4: '10.0.1.5', mac: '02:42:0a:00:01:05', node: '10.99.0.112' };
    await n.setPeers!([near], true);
    assert.deepEqual((await kernel.links.fdb('vx-001001')).map((e) => `${e.mac} ${e.dst}`).sort(), ['00:00:00:00:00:00 10.99.0.112', '02:42:0a:00:01:05 10.99.0.112']);
    await assert.rejects(driver.validate(record({ encrypted: '' })).ensure(), /VXLAN is in a namespace of its own/);
  });

  it('replaces the bridge an older berth made, freeing the VXLAN link it held', async () => {
    const kernel = new FakeKernel();
    await kernel.links.batch(['link add name ov-001001 type bridge', 'link add vx-001001 mtu 1450 type vxlan id 4097', 'link set dev vx-001001 master ov-001001 up']);
    await make(kernel).ensure();
    assert.deepEqual(await shape(kernel), ['ov-001001 macvlan -', 'vx-001001 vxlan -']);
  });
});
