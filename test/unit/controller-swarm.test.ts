/**
 * The network controller with a swarm's shared networks (a fake SharedNetworks on the
 * fake kernel): a restart's orphan sweep spares the overlay's links, the firewall's VXLAN
 * guard follows the swarm's nodes and goes only when the node leaves, an encrypted
 * network is refused before anything is stored where the kernel has no ESP.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { CreateNetworkRequest, EndpointAddress, NetworkId, NetworkRecord } from '../../src/network/model.js';
import type { RemoteEndpoint, SharedListener, SharedNetworks } from '../../src/network/shared.js';
import { FakeHost } from '../lib/fake-host.js';

class FakeShared implements SharedNetworks {
  readonly local = { addr: '10.99.0.11', dataPathPort: 4789, underlayMtu: 1500, networkKeys: [] };
  readonly manager = true;
  nodes = ['10.99.0.11', '10.99.0.12'];
  readonly created: CreateNetworkRequest[] = [];
  private readonly listeners = new Set<SharedListener>();

  networks(): NetworkRecord[] {
    return [];
  }
  watch(l: SharedListener): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }
  async create(req: CreateNetworkRequest): Promise<NetworkRecord> {
    this.created.push(req);
    return { id: 'x' as NetworkId, name: req.name, driver: req.driver, created: '', internal: false, attachable: true, ingress: false, enableIPv6: false, ipam: { driver: 'default', options: null, pools: [] }, options: { 'com.docker.network.driver.overlay.vxlanid_list': '4097', ...req.options }, labels: {}, predefined: false };
  }
  async remove(): Promise<void> {}
  async claimAddress(): Promise<EndpointAddress> {
    throw new Error('not in this test');
  }
  async releaseAddress(): Promise<void> {}
  async publish(): Promise<void> {}
  async withdraw(): Promise<void> {}
  members(): string[] {
    return this.nodes;
  }
  remoteEndpoints(): RemoteEndpoint[] {
    return [];
  }
  async releaseStale(): Promise<void> {}
  /** A node joined or was removed. */
  membersNow(nodes: string[]): void {
    this.nodes = nodes;
    for (const l of this.listeners) l.membersChanged?.();
  }
}

const request = (options: Record<string, string>): CreateNetworkRequest => ({
  name: 'secret',
  driver: 'overlay',
  internal: false,
  attachable: true,
  ingress: false,
  enableIPv6: false,
  ipamDriver: 'default',
  ipamOptions: null,
  subnets: [],
  options,
  labels: {},
});

describe('the controller in a swarm', () => {
  it('keeps the overlay’s links across a restart (the bridge sweep spared nothing berth marked before)', async () => {
    const host = await FakeHost.start();
    await host.kernel.links.batch([
      'link add vx-001001 mtu 1450 type vxlan id 4097',
      'link set dev vx-001001 alias berth up',
      'link add ov-001001 link vx-001001 type macvlan mode bridge',
      'link set dev ov-001001 alias berth up',
      'link add name br-0123456789ab type bridge',
      'link set dev br-0123456789ab alias berth up',
    ]);
    await host.restart();
    const names = [...host.kernel.host.keys()];
    assert.ok(names.includes('ov-001001') && names.includes('vx-001001'), names.join(' '));
    assert.ok(!names.includes('br-0123456789ab'), 'a bridge orphan of a bridge network still goes');
  });

  it('guards VXLAN with the swarm’s nodes, follows them, keeps the guard over a shutdown and drops it when the node leaves', async () => {
    const host = await FakeHost.start();
    await host.networks.reconcileSandboxes(new Set());
    const shared = new FakeShared();
    await host.networks.attachShared(shared);
    assert.match(host.kernel.nftScripts.join('\n'), /set swarm_nodes4 \{\n[^}]*elements = \{ 10\.99\.0\.11, 10\.99\.0\.12 \}/);
    shared.membersNow(['10.99.0.11', '10.99.0.12', '10.99.0.13']);
    await new Promise((r) => setTimeout(r, 10));
    assert.equal(host.kernel.nftScripts.at(-1), 'add element inet berth swarm_nodes4 { 10.99.0.13 }\n');
    const scripts = host.kernel.nftScripts.length;
    await host.networks.detachShared();
    assert.doesNotMatch(host.kernel.nftScripts.slice(scripts).join('\n'), /swarm_nodes4|vxlan_in/, 'a daemon going down keeps the guard for its restart');
    const again = await host.restart();
    await again.networks.reconcileSandboxes(new Set());
    assert.match(again.kernel.nftScripts.at(-1) ?? '', /elements = \{ 10\.99\.0\.11, 10\.99\.0\.12, 10\.99\.0\.13 \}/);
    await again.networks.attachShared(shared);
    const before = again.kernel.nftScripts.length;
    await again.networks.detachShared({ left: true });
    await again.networks.close();
    const left = again.kernel.nftScripts.slice(before).find((s) => s.startsWith('add table inet berth\n')) ?? '';
    assert.match(left, /^add table inet berth\n/, 'leaving renders the ruleset again');
    assert.doesNotMatch(left, /vxlan_in|10\.99\.0\.13/, 'without the guard');
  });

  it('refuses an encrypted overlay network where the kernel has no ESP, before the cluster is asked', async () => {
    const host = await FakeHost.start();
    host.kernel.featureSet = { ...host.kernel.featureSet, esp: false };
    const shared = new FakeShared();
    await host.networks.attachShared(shared);
    await assert.rejects(host.networks.create(request({ encrypted: '' })), /kernel lacks IPsec ESP support .*: cannot create encrypted overlay network secret/);
    assert.deepEqual(shared.created, []);
    await host.networks.create(request({}));
    assert.equal(shared.created.length, 1);
  });
});
