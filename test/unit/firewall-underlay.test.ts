/**
 * The swarm's VXLAN guard through Traffic: each change is the elements that differ, it
 * is kept in the store, and a restarted daemon's first ruleset already has it (the
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
  it('changes the elements that differ, keeps the guard for the next start, and drops it when the node leaves', async () => {
    const store = new MemoryStore();
    const kernel = new FakeKernel();
    const t = traffic(store, kernel);
    await t.start(() => false);
    await t.setUnderlay(GUARD);
    assert.equal(kernel.nftScripts.at(-1), 'add element inet berth vxlan_ports { 4789 }\nadd element inet berth swarm_nodes4 { 10.99.0.11, 10.99.0.12 }\n');
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
    assert.equal(kernel.nftScripts.at(-1), 'delete element inet berth vxlan_ports { 4789 }\ndelete element inet berth swarm_nodes4 { 10.99.0.11, 10.99.0.12, 10.99.0.13 }\n');
    const third = traffic(store, kernel);
    await third.start(() => false);
    assert.doesNotMatch(kernel.nftScripts.at(-1) ?? '', /elements = \{ 4789 \}/);
  });
});
