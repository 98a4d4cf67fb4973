/**
 * --data-path-addr as berth reads it: an address of the host (or an interface's) keeps
 * Docker's meaning, VXLAN from that address; a free address of one of the host's subnets
 * gets a namespace of its own on that interface; anything else is refused, with Docker's
 * words where Docker has them. The namespace is born closed (its guard before its
 * address), made once, and goes whole.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { resolveDataPathAddr } from '../../src/cluster/addresses.js';
import { DATA_PATH_LINK, ensureDataPath, removeDataPath } from '../../src/cluster/data-path.js';
import type { LinkInfo } from '../../src/kernel/links.js';
import { FakeKernel } from '../lib/fake-kernel.js';

const link = (name: string, addresses: string[], more: Partial<LinkInfo> = {}): LinkInfo => ({ name, kind: undefined, mtu: 1500, up: true, ownedByBerth: false, addresses, master: undefined, ...more });
const LINKS = [
  link('lo', ['127.0.0.1/8']),
  link('eth0', ['10.99.0.11/24', 'fd00::11/64']),
  link('eth1', ['192.168.7.2/30']),
  link('docker_gwbridge', ['172.18.0.1/16'], { kind: 'bridge', ownedByBerth: true }),
  link('eth2', ['10.50.0.2/24'], { up: false }),
];

describe('--data-path-addr', () => {
  it('is none when not given', () => {
    assert.equal(resolveDataPathAddr('', LINKS), undefined);
  });

  it('keeps Docker’s meaning for an address of the host or an interface’s name', () => {
    assert.deepEqual(resolveDataPathAddr('10.99.0.11', LINKS), { kind: 'host', addr: '10.99.0.11' });
    assert.deepEqual(resolveDataPathAddr('eth1', LINKS), { kind: 'host', addr: '192.168.7.2' });
  });

  it('gives a free address of a host subnet a namespace on that interface', () => {
    assert.deepEqual(resolveDataPathAddr('10.99.0.111', LINKS), { kind: 'namespace', addr: '10.99.0.111', parent: 'eth0', prefixLength: 24 });
  });

  it('refuses the subnet’s network and broadcast addresses, berth’s own and down links’ subnets, and addresses on no subnet', () => {
    const nowhere = /data path address \S+ is neither an address of this host nor a free address of one of its interfaces' subnets/;
    for (const a of ['10.99.0.0', '10.99.0.255', '172.18.0.9', '10.50.0.9', '192.0.2.7', '192.168.7.3']) assert.throws(() => resolveDataPathAddr(a, LINKS), nowhere, a);
  });

  it('refuses what is no address with Docker’s words', () => {
    const bad = /: data path address must be a non-zero IP address or network interface \(without a port number\)$/;
    for (const a of ['10.99.0.111:4789', '0.0.0.0', 'nosuchif', 'fd00::99']) assert.throws(() => resolveDataPathAddr(a, LINKS), bad, a);
  });
});

describe('the data path’s namespace', () => {
  it('is born closed, holds a macvlan of the underlay with the address, is made once and goes whole', async () => {
    const kernel = new FakeKernel();
    await kernel.links.batch(['link add eth0 type veth peer name ul0', 'route add default via 10.99.0.1 dev eth0', 'route add 10.77.0.0/16 via 10.50.0.1 dev eth0']);
    const dp = { kind: 'namespace' as const, addr: '10.99.0.111', parent: 'eth0', prefixLength: 24 };
    const made = await ensureDataPath(kernel, '/run/dp', dp, 4789);
    assert.equal(kernel.nsNftScripts.length, 1);
    assert.match(kernel.nsNftScripts[0]!.script, /policy drop;/);
    assert.doesNotMatch(kernel.nsNftScripts[0]!.script, /elements/, 'no node is let in before the firewall names them');
    const guardAt = kernel.faults.log.findIndex((l) => l.startsWith('nft in /run/dp'));
    const addrAt = kernel.faults.log.findIndex((l) => l.includes(`addr add 10.99.0.111/24 dev ${DATA_PATH_LINK}`));
    assert.ok(guardAt >= 0 && guardAt < addrAt, kernel.faults.log.join('\n'));
    assert.deepEqual(kernel.namespaces.get('/run/dp')?.get(DATA_PATH_LINK)?.addresses, ['10.99.0.111/24']);
    assert.ok(kernel.faults.log.includes(`host: link add ${DATA_PATH_LINK} link eth0 address 0a:b3:0a:63:00:6f netns /run/dp type macvlan mode bridge`), 'its MAC comes from its address');
    assert.deepEqual([...kernel.routeTable.get('/run/dp')!], ['default via 10.99.0.1'], 'the gateway on its subnet comes along; one beyond it does not');
    const first = made.identity;
    assert.equal(kernel.namespaces.get('/run/dp')?.get(DATA_PATH_LINK)?.alias, first, 'its identity is kept in the kernel, for the next start');
    const steps = kernel.faults.log.length;
    assert.deepEqual(await ensureDataPath(kernel, '/run/dp', dp, 4789), { path: '/run/dp', identity: first });
    assert.equal(kernel.faults.log.length, steps, 'a restart finds it made');
    // Another address (a join after a leave whose clean-up failed): made again from nothing, another namespace.
    const again = await ensureDataPath(kernel, '/run/dp', { ...dp, addr: '10.99.0.112' }, 4789);
    assert.notEqual(again.identity, first);
    assert.deepEqual(kernel.namespaces.get('/run/dp')?.get(DATA_PATH_LINK)?.addresses, ['10.99.0.112/24']);
    await removeDataPath(kernel, '/run/dp');
    assert.equal(kernel.namespaces.has('/run/dp'), false);
  });
});
