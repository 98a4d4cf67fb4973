/**
 * Service discovery wired to the container lifecycle: a container's endpoints on
 * user-defined networks are published in the embedded DNS, and its resolver at
 * 127.0.0.11 is served from the daemon while it runs. The default bridge has none.
 */
import { GWBRIDGE, type NetworkController } from '../../network/controller.js';
import type { EndpointRecord } from '../../network/model.js';
import type { EmbeddedDns } from '../../network/dns/index.js';
import type { ContainerEngine } from './engine.js';
import type { LifecycleHooks } from './lifecycle.js';
import type { ContainerRecord } from './model.js';
import { parseLink } from './networking.js';

export function dnsHooks(dns: EmbeddedDns, networks: NetworkController, engine: ContainerEngine): LifecycleHooks {
  // A swarm's network is unknown until the node reaches its swarm (after a daemon
  // restart): its endpoints are published then (connections.sharedAttached). An endpoint on
  // docker_gwbridge is anonymous, as Docker makes it: no name resolves to it.
  const userNetwork = (ep: EndpointRecord) => {
    const id = safeId(networks, ep.networkId);
    const net = id === undefined ? undefined : networks.find(id);
    return net?.record.predefined || net?.record.name === GWBRIDGE ? undefined : net;
  };
  const configFor = (c: ContainerRecord, networkName: string) =>
    Object.entries(c.spec.networks).find(([k]) => k === networkName || safeId(networks, k) === safeId(networks, networkName))?.[1];
  /** Publish the container's endpoints on user networks (again: addEndpoint replaces); whether there was one. */
  const publish = (c: ContainerRecord, endpoints: EndpointRecord[]): boolean => {
    let published = false;
    for (const ep of endpoints) {
      const net = userNetwork(ep);
      if (!net) continue;
      dns.addEndpoint({
        containerId: c.id,
        networkId: ep.networkId,
        networkName: net.record.name,
        name: c.spec.name,
        hostname: engine.facts.hostnameOf(c),
        aliases: ep.aliases,
        // An endpoint made before links were kept on it: its container's config has them.
        links: ep.links ?? (configFor(c, net.record.name)?.links ?? []).map(parseLink),
        ...(ep.ipv4 ? { ipv4: ep.ipv4.address } : {}),
        ...(ep.ipv6 ? { ipv6: ep.ipv6.address } : {}),
      });
      published = true;
    }
    return published;
  };
  return {
    async started(c, endpoints) {
      const own = c.spec.networkMode.kind !== 'host' && c.spec.networkMode.kind !== 'container';
      const published = publish(c, endpoints);
      if (!published || !own) return;
      const all = networks.endpointsOf(c.id);
      const opts = { dns: c.spec.dns, internal: !all.some((e) => e.gateway) };
      if (dns.isAttached(c.id)) dns.configure(c.id, opts);
      else await dns.attach(c.id, networks.sandboxPath(c.id), opts);
    },
    async stopped(c) {
      dns.detach(c.id);
    },
    async left(c, ep) {
      dns.removeEndpoint(c.id, ep.networkId);
    },
    async renamed(c, endpoints) {
      publish(c, endpoints);
    },
  };
}

function safeId(networks: NetworkController, idOrName: string): string | undefined {
  try {
    return networks.find(idOrName).record.id;
  } catch {
    return undefined;
  }
}
