/** The Firewall service with a fake nft: incremental changes, fallback to a full render, requirements. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  Firewall,
  globalSysctls,
  networkSysctls,
  portLinkCommands,
  publicationsFor,
  renderFull,
  type FirewallModel,
  type FwNetwork,
} from '../../src/network/firewall/index.js';
import type { KernelNft } from '../../src/kernel/port.js';

const NET: FwNetwork = { id: 'n1', bridge: 'br0', subnets: ['10.88.0.0/24'], internal: false, icc: true, masquerade: true };

/** A KernelNft whose transactions go to `apply`. */
function nftPort(apply: (s: string) => Promise<void>): KernelNft {
  return { apply, listTable: async () => undefined, listTables: async () => [], deleteTable: async () => undefined, applyIn: async () => undefined, listTableIn: async () => undefined };
}

function fakeNft(failFirst = 0): { scripts: string[]; apply: (s: string) => Promise<void> } {
  const scripts: string[] = [];
  let failures = failFirst;
  return {
    scripts,
    apply: async (s: string) => {
      scripts.push(s);
      if (failures > 0) {
        failures--;
        throw new Error('Error: Could not process rule: No such file or directory');
      }
    },
  };
}

describe('Firewall', () => {
  it('applies a change as one transaction', async () => {
    const nft = fakeNft();
    const fw = new Firewall({ nft: nftPort(nft.apply) });
    const model: FirewallModel = { networks: [NET], endpoints: [], publications: [] };
    assert.equal(await fw.addNetwork(NET, () => model), 'incremental');
    assert.equal(nft.scripts.length, 1);
    assert.match(nft.scripts[0] ?? '', /^add element inet berth bridges \{ "br0" \}\n/);
  });

  it('falls back to rendering the current model when nft refuses the change', async () => {
    const nft = fakeNft(1);
    const logs: string[] = [];
    const fw = new Firewall({ nft: nftPort(nft.apply), log: (m) => logs.push(m) });
    const pubs = publicationsFor('n1', 'c1', [{ proto: 'tcp', hostIp: '', hostPorts: { start: 8080, end: 8080 }, containerPorts: { start: 80, end: 80 } }], { ipv4: '10.88.0.2' });
    const model: FirewallModel = { networks: [NET], endpoints: [], publications: pubs };
    assert.equal(await fw.removePublications(pubs, () => model), 'full');
    assert.equal(nft.scripts.length, 2);
    assert.equal(nft.scripts[1], renderFull(model));
    assert.match(logs[0] ?? '', /restoring the full ruleset/);
  });

  it('does nothing for an empty change and throws when even the full render fails', async () => {
    const nft = fakeNft(2);
    const fw = new Firewall({ nft: nftPort(nft.apply) });
    assert.equal(await fw.addEndpoint({ networkId: 'n1', containerId: 'c', hostIfName: 'v1' }, NET, () => ({ networks: [], endpoints: [], publications: [] })), 'none');
    await assert.rejects(fw.addNetwork(NET, () => ({ networks: [NET], endpoints: [], publications: [] })), /No such file/);
  });
});

describe('the bridge table’s chains', () => {
  it('come with the first ICC-off endpoint and go with the last, in the same transactions', async () => {
    const nft = fakeNft();
    const fw = new Firewall({ nft: nftPort(nft.apply) });
    const quiet: FwNetwork = { ...NET, icc: false };
    const a = { networkId: 'n1', containerId: 'a', hostIfName: 'va' };
    const b = { networkId: 'n1', containerId: 'b', hostIfName: 'vb' };
    const model = (eps: (typeof a)[]): FirewallModel => ({ networks: [quiet], endpoints: eps, publications: [] });
    await fw.addEndpoint(a, quiet, () => model([a]));
    await fw.addEndpoint(b, quiet, () => model([a, b]));
    await fw.removeEndpoint(a, quiet, () => model([b]));
    await fw.removeEndpoint(b, quiet, () => model([]));
    const [first, second, third, last] = nft.scripts;
    assert.match(first ?? '', /^table bridge berth \{\n\tchain icc_unicast \{[\s\S]*\}\nadd element bridge berth no_icc_ports \{ "va" \}\n$/);
    assert.equal(second, 'add element bridge berth no_icc_ports { "vb" }\n');
    assert.equal(third, 'delete element bridge berth no_icc_ports { "va" }\n');
    assert.equal(last, 'delete element bridge berth no_icc_ports { "vb" }\ndelete chain bridge berth icc_unicast\ndelete chain bridge berth icc_flood\n');
    // A full render has them exactly when an endpoint has ICC off.
    assert.match(renderFull(model([a])), /chain icc_flood/);
    assert.doesNotMatch(renderFull(model([])), /chain icc_/);
  });
});

describe('requirements', () => {
  it('forwarding for routed networks, route_localnet per IPv4 bridge, hairpin per port', () => {
    const v6: FwNetwork = { ...NET, id: 'n2', bridge: 'br6', subnets: ['fd00::/64'] };
    const internal: FwNetwork = { ...NET, id: 'n3', bridge: 'bri', internal: true };
    const keep = { brNetfilter: true };
    assert.deepEqual(globalSysctls([internal], keep), []);
    assert.deepEqual(globalSysctls([NET, v6], keep), [
      { key: ['net', 'ipv4', 'ip_forward'], value: '1' },
      { key: ['net', 'ipv6', 'conf', 'all', 'forwarding'], value: '1' },
    ]);
    const brOff = [
      { key: ['net', 'bridge', 'bridge-nf-call-iptables'], value: '0', optional: true },
      { key: ['net', 'bridge', 'bridge-nf-call-ip6tables'], value: '0', optional: true },
    ];
    assert.deepEqual(globalSysctls([internal], { brNetfilter: false }), brOff);
    assert.deepEqual(globalSysctls([], { brNetfilter: false }), []);
    assert.deepEqual(networkSysctls(NET), [{ key: ['net', 'ipv4', 'conf', 'br0', 'route_localnet'], value: '1' }]);
    assert.deepEqual(networkSysctls(internal), []);
    assert.deepEqual(networkSysctls(v6), []);
    assert.deepEqual(portLinkCommands('veth0'), ['link set dev veth0 type bridge_slave hairpin on']);
  });
});
