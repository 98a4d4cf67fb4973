/**
 * Names of the other hosts' containers on shared networks: the embedded DNS answers
 * them as it answers local ones (containers on the network resolve them by name and
 * alias), kept in step with the cluster store's endpoints.
 */
import type { RemoteEndpoint, SharedNetworks } from '../shared.js';
import type { DnsEndpoint } from './directory.js';

export interface DnsRecords {
  addEndpoint(ep: DnsEndpoint): void;
  removeEndpoint(containerId: string, networkId: string): void;
}

/** Follow `shared`'s remote endpoints into `dns`; returns the way to stop (which removes them). */
export function followRemoteNames(dns: DnsRecords, shared: Pick<SharedNetworks, 'networks' | 'remoteEndpoints' | 'watch'>): () => void {
  const known = new Map<string, RemoteEndpoint>();
  const add = (e: RemoteEndpoint): void => {
    const net = shared.networks().find((n) => n.id === e.networkId);
    if (!net) return;
    known.set(e.endpointId, e);
    dns.addEndpoint({ containerId: e.containerId, networkId: e.networkId, networkName: net.name, name: e.name, aliases: e.aliases, links: [], ipv4: e.ipv4 });
  };
  const remove = (e: RemoteEndpoint): void => {
    if (known.delete(e.endpointId)) dns.removeEndpoint(e.containerId, e.networkId);
  };
  for (const e of shared.remoteEndpoints()) add(e);
  const stop = shared.watch({ networksChanged: () => undefined, remoteChanged: (c) => (c.kind === 'added' ? add(c.endpoint) : remove(c.endpoint)) });
  return () => {
    stop();
    for (const e of [...known.values()]) remove(e);
  };
}
