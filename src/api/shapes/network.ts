/** Docker's JSON shapes for networks (GET /networks, GET /networks/{id}). */
import type { Network } from '../../network/controller.js';

export interface NetworkContainerShape {
  Name: string;
  EndpointID: string;
  MacAddress: string;
  IPv4Address: string;
  IPv6Address: string;
}

export function networkShape(net: Network, containers: Record<string, NetworkContainerShape> = {}): Record<string, unknown> {
  const r = net.record;
  return {
    Name: r.name,
    Id: r.id,
    Created: r.created,
    Scope: net.capabilities.scope,
    Driver: r.driver,
    EnableIPv4: r.ipam.pools.length > 0 || net.capabilities.ipv4WithoutSubnets,
    EnableIPv6: r.enableIPv6,
    IPAM: {
      Driver: r.ipam.driver,
      Options: r.predefined ? null : r.ipam.options,
      Config: r.ipam.pools.map((p) => ({
        Subnet: p.subnet,
        ...(p.ipRange ? { IPRange: p.ipRange } : {}),
        Gateway: p.gateway,
        ...(Object.keys(p.auxAddresses).length > 0 ? { AuxiliaryAddresses: p.auxAddresses } : {}),
      })),
    },
    Internal: r.internal,
    Attachable: r.attachable,
    Ingress: r.ingress,
    ConfigFrom: { Network: '' },
    ConfigOnly: false,
    Containers: containers,
    Options: net.driver.displayOptions,
    Labels: r.labels,
  };
}
