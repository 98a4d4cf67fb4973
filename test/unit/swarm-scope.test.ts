import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Network } from '../../src/network/controller.js';
import { LOCAL_NETWORK, type DriverNetwork } from '../../src/network/drivers/driver.js';
import type { NetworkId, NetworkRecord } from '../../src/network/model.js';
import type { RemoteChange, RemoteEndpoint, SharedNetworks } from '../../src/network/shared.js';
import { SwarmScope } from '../../src/network/swarm-scope.js';

const tick = async (): Promise<void> => new Promise((r) => setImmediate(r));

const RECORD: NetworkRecord = {
  id: 'ovnet' as NetworkId,
  name: 'ov',
  driver: 'overlay',
  created: '2026-01-01T00:00:00Z',
  internal: false,
  attachable: true,
  ingress: false,
  enableIPv6: false,
  ipam: { driver: 'default', options: null, pools: [] },
  options: {},
  labels: {},
  predefined: false,
};

function remote(n: number): RemoteEndpoint {
  return { networkId: RECORD.id, endpointId: `ep${n}`, containerId: `c${n}`, name: `c${n}`, aliases: [], ipv4: `10.0.1.${n}`, mac: `02:42:0a:00:01:0${n}`, node: '10.99.0.12' };
}

/** A cluster's remote endpoints that the test changes, telling the listener as the store's watch would. */
function fakeShared(): { shared: SharedNetworks; add(e: RemoteEndpoint): void; drop(e: RemoteEndpoint): void } {
  const eps = new Map<string, RemoteEndpoint>();
  let listener: { remoteChanged(c: RemoteChange): void } | undefined;
  const shared = {
    local: { addr: '10.99.0.11', dataPathPort: 4789, underlayMtu: 1500 },
    manager: true,
    networks: () => [RECORD],
    watch: (l: { networksChanged(): void; remoteChanged(c: RemoteChange): void }) => ((listener = l), () => (listener = undefined)),
    remoteEndpoints: () => [...eps.values()],
  } as unknown as SharedNetworks;
  return {
    shared,
    add: (e) => (eps.set(e.endpointId, e), listener?.remoteChanged({ kind: 'added', endpoint: e })),
    drop: (e) => (eps.delete(e.endpointId), listener?.remoteChanged({ kind: 'removed', endpoint: e })),
  };
}

/** An overlay handle whose ensure() waits for the test, and which keeps the peers it was given. */
function slowDriver(): { driver: DriverNetwork; peers: Set<string>; release: () => void } {
  const peers = new Set<string>();
  let release = (): void => undefined;
  const made = new Promise<void>((r) => (release = r));
  const driver: DriverNetwork = {
    displayOptions: {},
    kernelNames: [],
    ensure: async () => made,
    remove: async () => peers.clear(),
    setPeers: async (all, replace) => {
      if (replace) peers.clear();
      for (const p of all) peers.add(p.endpointId);
    },
    dropPeers: async (gone) => {
      for (const p of gone) peers.delete(p.endpointId);
    },
  };
  return { driver, peers, release };
}

describe('SwarmScope', () => {
  it('applies the remote endpoints that come and go while this host makes its instance of a network', async () => {
    const cluster = fakeShared();
    const slow = slowDriver();
    const net: Network = { record: RECORD, driver: slow.driver, capabilities: { ...LOCAL_NETWORK, scope: 'swarm', routesOut: false, gatewayBridge: true } };
    const scope = new SwarmScope(cluster.shared, { validate: () => net, localEndpoints: () => [], sweep: async () => undefined, underlayChanged: () => undefined, log: () => undefined });
    cluster.add(remote(1));
    cluster.add(remote(2));
    const making = scope.instantiate(net);
    await tick();
    // Started elsewhere while the links were being made: after the listing, not lost.
    cluster.add(remote(3));
    slow.release();
    await making;
    // Made, but the local endpoint that asked for it is not on record yet (its address is
    // being claimed): what changes now counts too.
    cluster.add(remote(5));
    cluster.drop(remote(1));
    await tick();
    assert.deepEqual([...slow.peers].sort(), ['ep2', 'ep3', 'ep5']);
    await scope.release(net);
    cluster.add(remote(4));
    await tick();
    assert.deepEqual([...slow.peers], [], 'a released instance hears no more');
    scope.close();
  });
});
