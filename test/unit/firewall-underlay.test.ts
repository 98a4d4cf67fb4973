/**
 * The swarm's VXLAN guard through Traffic: joining and leaving render the ruleset with or
 * without its rules, each other change is the elements that differ, it is kept in the store, and a restarted daemon's first ruleset already has it (the
 * swarm's nodes are never cut off while the daemon reaches its cluster again, nor
 * anyone else let in); leaving the swarm takes it away.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { firewallBackend } from '../../src/network/firewall/backend.js';
import { Traffic } from '../../src/network/traffic.js';
import { FakeKernel } from '../lib/fake-kernel.js';
import { MemoryStore } from '../lib/memory-store.js';

function traffic(store: MemoryStore, kernel: FakeKernel): Traffic {
  const backend = firewallBackend({ enabled: true, userlandProxy: false, nft: kernel.nft, log: () => undefined });
  return new Traffic(store, { networks: () => [], endpoints: () => [] }, backend, { kernel, brNetfilter: false, log: () => undefined });
}

const GUARD = { vxlanPorts: [4789], members: ['10.99.0.11', '10.99.0.12'], encryptedVnis: [] };

describe("Traffic and the swarm's VXLAN guard", () => {
  it('comes with the ruleset, changes the elements that differ, keeps the guard for the next start, and goes when the node leaves', async () => {
    const store = new MemoryStore();
    const kernel = new FakeKernel();
    const t = traffic(store, kernel);
    await t.start(() => false);
    await t.setUnderlay(GUARD);
    assert.match(kernel.nftScripts.at(-1) ?? '', /^add table inet berth\n[^]*elements = \{ 10\.99\.0\.11, 10\.99\.0\.12 \}[^]*\t\tudp dport 4789 jump vxlan_in\n/);
    await t.setUnderlay({ ...GUARD, members: ['10.99.0.11', '10.99.0.12', '10.99.0.13'] });
    assert.equal(kernel.nftScripts.at(-1), 'add element inet berth swarm_nodes4 { 10.99.0.13 }\n');
    const scripts = kernel.nftScripts.length;
    await t.setUnderlay({ ...GUARD, members: ['10.99.0.11', '10.99.0.12', '10.99.0.13'] });
    assert.equal(kernel.nftScripts.length, scripts, 'no change, no transaction');

    // A restarted daemon: its first full ruleset already holds the nodes.
    const again = traffic(store, kernel);
    await again.start(() => false);
    assert.match(kernel.nftScripts.at(-1) ?? '', /set swarm_nodes4 \{\n\t\ttype ipv4_addr\n\t\tcomment "[^"]*"\n\t\telements = \{ 10\.99\.0\.11, 10\.99\.0\.12, 10\.99\.0\.13 \}/);

    await again.setUnderlay(undefined);
    assert.match(kernel.nftScripts.at(-1) ?? '', /^add table inet berth\n/);
    assert.doesNotMatch(kernel.nftScripts.at(-1) ?? '', /vxlan_in|udp dport 4789|10\.99\.0\.11/);
    const third = traffic(store, kernel);
    await third.start(() => false);
    assert.doesNotMatch(kernel.nftScripts.at(-1) ?? '', /vxlan_in|udp dport 4789/);
  });

  it('guards VXLAN that arrives in a namespace of its own there: the host has no VXLAN rules or nodes, the namespace its guard, rendered whole as nodes come', async () => {
    const store = new MemoryStore();
    const kernel = new FakeKernel();
    const t = traffic(store, kernel);
    await t.start(() => false);
    const netns = { path: '/run/berth/data-path.netns', identity: '4026532001' };
    await t.setUnderlay({ ...GUARD, netns });
    assert.doesNotMatch(kernel.nftScripts.at(-1) ?? '', /vxlan_in|udp dport 4789|10\.99\.0\.11/, 'the host has VXLAN rules');
    const guard = kernel.nsNftScripts.at(-1);
    assert.equal(guard?.netns, netns.path);
    assert.match(guard?.script ?? '', /^add table inet berth\ndelete table inet berth\n/);
    assert.match(guard?.script ?? '', /elements = \{ 10\.99\.0\.11, 10\.99\.0\.12 \}/);
    assert.match(guard?.script ?? '', /type filter hook input priority filter; policy drop;\n\t\tudp dport 4789 ip saddr @swarm_nodes4 accept\n/);
    const hostScripts = kernel.nftScripts.length;
    await t.setUnderlay({ ...GUARD, members: [...GUARD.members, '10.99.0.13'], netns });
    assert.equal(kernel.nftScripts.length, hostScripts, 'a node coming changes nothing on the host');
    assert.match(kernel.nsNftScripts.at(-1)?.script ?? '', /elements = \{ 10\.99\.0\.11, 10\.99\.0\.12, 10\.99\.0\.13 \}/);
    // A restarted daemon puts the namespace's guard back with its first ruleset.
    const guards = kernel.nsNftScripts.length;
    const again = traffic(store, kernel);
    await again.start(() => false);
    assert.equal(kernel.nsNftScripts.length, guards + 1);
    assert.match(kernel.nsNftScripts.at(-1)?.script ?? '', /10\.99\.0\.13/);
    await again.setUnderlay({ ...GUARD, members: [...GUARD.members, '10.99.0.13'], netns });
    assert.equal(kernel.nsNftScripts.length, guards + 1, 'the same namespace, nothing changed: nothing done (a manager says so at every lease renewal)');
    // After a reboot that start found no namespace; the node makes it again, another one: its guard goes in, the host's table is left alone.
    const hostNow = kernel.nftScripts.length;
    await again.setUnderlay({ ...GUARD, members: [...GUARD.members, '10.99.0.13'], netns: { ...netns, identity: '4026532777' } });
    assert.equal(kernel.nsNftScripts.length, guards + 2);
    assert.equal(kernel.nftScripts.length, hostNow);
  });

  it('with --firewall=false opens a data path namespace (born closed) and writes nothing on the host', async () => {
    const kernel = new FakeKernel();
    const backend = firewallBackend({ enabled: false, userlandProxy: false, nft: kernel.nft, log: () => undefined });
    const t = new Traffic(new MemoryStore(), { networks: () => [], endpoints: () => [] }, backend, { kernel, brNetfilter: false, log: () => undefined });
    await t.start(() => false);
    const host = kernel.nftScripts.length;
    await t.setUnderlay({ ...GUARD, netns: { path: '/run/dp', identity: '1' } });
    assert.deepEqual(kernel.nsNftScripts.at(-1), { netns: '/run/dp', script: 'add table inet berth\ndelete table inet berth\n' });
    assert.equal(kernel.nftScripts.length, host);
  });
});
