/**
 * SwarmScope tells who follows the remote endpoints (the DNS) of an added one only once
 * the overlay driver has written its FDB and neighbour entries on this host, and of a
 * removed one before the kernel forgets it: a name must never resolve before its address
 * answers (the container's first ARP would find no neighbour entry behind the VXLAN
 * link's proxy, and the kernel asks again only a second later).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { overlayDriver } from '../../src/network/drivers/overlay/index.js';
import { VNI_OPTION } from '../../src/network/drivers/overlay/config.js';
import type { EndpointRecord, NetworkId, NetworkRecord } from '../../src/network/model.js';
import type { RemoteChange, RemoteEndpoint, SharedNetworks } from '../../src/network/shared.js';
import { SwarmScope } from '../../src/network/swarm-scope.js';
import { FakeKernel } from '../lib/fake-kernel.js';

const NET: NetworkRecord = {
  id: 'ovnet0000000000000000000001' as NetworkId,
  name: 'ov',
  driver: 'overlay',
  created: '2026-01-01T00:00:00Z',
  internal: false,
  attachable: true,
  ingress: false,
  enableIPv6: false,
  ipam: { driver: 'default', options: null, pools: [{ subnet: '10.0.1.0/24', gateway: '10.0.1.1', auxAddresses: {}, allocated: [] }] },
  options: { [VNI_OPTION]: '4097' },
  labels: {},
  predefined: false,
};

const REMOTE: RemoteEndpoint = { networkId: NET.id, endpointId: 'ep-b', containerId: 'cb'.padEnd(64, '0'), name: 'web', aliases: [], ipv4: '10.0.1.3', mac: '02:42:0a:00:01:03', node: '10.99.0.12' };

/** The cluster's side, as far as SwarmScope reads it: one network; remote changes sent by hand. */
class OneNetwork implements Pick<SharedNetworks, 'local' | 'manager' | 'networks' | 'watch' | 'remoteEndpoints'> {
  readonly local = { addr: '10.99.0.11', dataPathPort: 4789, underlayMtu: 1500, networkKeys: [] };
  readonly manager = true;
  private readonly listeners = new Set<{ networksChanged(): void; remoteChanged(c: RemoteChange): void }>();
  networks(): NetworkRecord[] {
    return [NET];
  }
  remoteEndpoints(): RemoteEndpoint[] {
    return [];
  }
  watch(l: { networksChanged(): void; remoteChanged(c: RemoteChange): void }): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }
  send(c: RemoteChange): void {
    for (const l of this.listeners) l.remoteChanged(c);
  }
}

/** A scope on the fake kernel whose overlay network has a local endpoint (so it programs the kernel). */
async function scopeWithLocalEndpoint(draining?: (c: RemoteChange) => Promise<void>): Promise<{ kernel: FakeKernel; shared: OneNetwork; heard: { change: RemoteChange; steps: number }[] }> {
  const kernel = new FakeKernel();
  const shared = new OneNetwork();
  const driver = overlayDriver({ kernel, swarm: () => shared.local, defaultBridge: { name: 'berth0', external: false }, defaultMtu: 1500, log: () => undefined });
  const local = { networkId: NET.id } as EndpointRecord;
  const heard: { change: RemoteChange; steps: number }[] = [];
  const scope = new SwarmScope(shared as unknown as SharedNetworks, {
    validate: (r) => ({ record: r, driver: driver.validate(r), capabilities: driver.capabilities }),
    localEndpoints: () => [local],
    sweep: async () => undefined,
    // The kernel's steps so far, when the listener heard: what had been written by then.
    underlayChanged: () => undefined,
    reachable: (change) => heard.push({ change, steps: kernel.faults.log.length }),
    ...(draining ? { draining } : {}),
    log: () => undefined,
  });
  await scope.instantiate(scope.get(NET.id)!);
  return { kernel, shared, heard };
}

const settle = async (): Promise<void> => new Promise((r) => setTimeout(r, 10));

/** A draining that ends only when released. */
function gate(): { release: () => void; drained: Promise<void> } {
  let release = (): void => undefined;
  const drained = new Promise<void>((r) => (release = r));
  return { release, drained };
}

describe('SwarmScope and the names of remote endpoints', () => {
  it('tells of an added remote endpoint only after its FDB and neighbour entries are written', async () => {
    const { kernel, shared, heard } = await scopeWithLocalEndpoint();
    let release = (): void => undefined;
    kernel.faults.hold = { match: (w) => w.includes('fdb replace 02:42:0a:00:01:03'), until: new Promise<void>((r) => (release = r)) };
    shared.send({ kind: 'added', endpoint: REMOTE });
    await settle();
    assert.equal(heard.length, 0, 'not heard while the kernel is still being written');
    release();
    await settle();
    assert.equal(heard.length, 1);
    assert.equal(heard[0]!.change.kind, 'added');
    const written = kernel.faults.log.slice(0, heard[0]!.steps);
    assert.ok(written.some((s) => s.includes('fdb replace 02:42:0a:00:01:03 dev vx-001001 dst 10.99.0.12')), written.join('\n'));
    assert.ok(written.some((s) => s.includes('neigh replace 10.0.1.3 lladdr 02:42:0a:00:01:03 dev vx-001001')), written.join('\n'));
  });

  it('tells of a removed remote endpoint before the kernel forgets it', async () => {
    const { kernel, shared, heard } = await scopeWithLocalEndpoint();
    shared.send({ kind: 'added', endpoint: REMOTE });
    await settle();
    shared.send({ kind: 'removed', endpoint: REMOTE });
    await settle();
    assert.deepEqual(heard.map((h) => h.change.kind), ['added', 'removed']);
    const before = kernel.faults.log.slice(0, heard[1]!.steps);
    assert.ok(!before.some((s) => s.includes('fdb del 02:42:0a:00:01:03')), 'the FDB entry was still there when the name went');
    assert.ok(kernel.faults.log.some((s) => s.includes('fdb del 02:42:0a:00:01:03')), 'and is removed after');
  });

  it('tells of an added remote endpoint even when the kernel refused its entries', async () => {
    const { kernel, shared, heard } = await scopeWithLocalEndpoint();
    kernel.faults.failAt = kernel.faults.count + 1;
    shared.send({ kind: 'added', endpoint: REMOTE });
    await settle();
    assert.deepEqual(heard.map((h) => h.change.kind), ['added']);
  });

  it('lets go of a removed remote endpoint in the services first: its FDB entry goes only once draining is done', async () => {
    const { release, drained } = gate();
    const { kernel, shared } = await scopeWithLocalEndpoint(async () => drained);
    shared.send({ kind: 'added', endpoint: REMOTE });
    await settle();
    shared.send({ kind: 'removed', endpoint: REMOTE });
    await settle();
    assert.ok(!kernel.faults.log.some((s) => s.includes('fdb del 02:42:0a:00:01:03')), 'the FDB entry stays while the VIPs still hold the endpoint');
    release();
    await settle();
    assert.ok(kernel.faults.log.some((s) => s.includes('fdb del 02:42:0a:00:01:03')), 'and goes once they let go');
  });

  it("drains outside the network's queue: draining that waits on the queue itself (the ingress endpoint) does not deadlock", async () => {
    const OTHER: RemoteEndpoint = { ...REMOTE, endpointId: 'ep-c', ipv4: '10.0.1.4', mac: '02:42:0a:00:01:04' };
    let shared!: OneNetwork;
    let kernel!: FakeKernel;
    // Draining makes another change go through the network's queue and waits for it.
    const draining = async (): Promise<void> => {
      shared.send({ kind: 'added', endpoint: OTHER });
      while (!kernel.faults.log.some((s) => s.includes('fdb replace 02:42:0a:00:01:04'))) await settle();
    };
    ({ kernel, shared } = await scopeWithLocalEndpoint(draining));
    shared.send({ kind: 'added', endpoint: REMOTE });
    await settle();
    shared.send({ kind: 'removed', endpoint: REMOTE });
    for (let i = 0; i < 100 && !kernel.faults.log.some((s) => s.includes('fdb del 02:42:0a:00:01:03')); i++) await settle();
    assert.ok(kernel.faults.log.some((s) => s.includes('fdb del 02:42:0a:00:01:03')), 'the removal went through');
  });

  it('keeps the entries of an endpoint that came back while its removal drained', async () => {
    const { release, drained } = gate();
    const { kernel, shared } = await scopeWithLocalEndpoint(async () => drained);
    shared.send({ kind: 'added', endpoint: REMOTE });
    await settle();
    shared.send({ kind: 'removed', endpoint: REMOTE });
    shared.send({ kind: 'added', endpoint: REMOTE });
    await settle();
    release();
    await settle();
    assert.ok(!kernel.faults.log.some((s) => s.includes('fdb del 02:42:0a:00:01:03')), kernel.faults.log.join('\n'));
  });
});
