/**
 * What the firewall is built from: plain data derived from the network model (networks,
 * endpoints of ICC-off networks, published ports). Nothing here knows nftables syntax.
 */
import type { PortRange, PortSpec, Proto } from '../ports/spec.js';

export interface FwNetwork {
  id: string;
  /** The Linux bridge of the network. */
  bridge: string;
  /** Every subnet of the network, IPv4 and IPv6, CIDR ("172.18.0.0/16", "fd00:1::/64"). */
  subnets: readonly string[];
  /** --internal: no traffic in or out of the bridge except to the host itself. */
  internal: boolean;
  /** com.docker.network.bridge.enable_icc */
  icc: boolean;
  /** com.docker.network.bridge.enable_ip_masquerade (ignored for internal networks). */
  masquerade: boolean;
}

/** A container's attachment; the firewall only needs it on networks with ICC off. */
export interface FwEndpoint {
  networkId: string;
  containerId: string;
  /** Host end of the veth pair: the bridge port. */
  hostIfName: string;
}

/** Published ports of one container on one network (an allocated, exact mapping). */
export interface FwPublication {
  networkId: string;
  containerId: string;
  proto: Proto;
  /** '' = every address of each family the container has; else one address (its family only). */
  hostIp: string;
  hostPorts: PortRange;
  containerPorts: PortRange;
  /** Container addresses; a family without one is not published. */
  ipv4?: string | undefined;
  ipv6?: string | undefined;
}

/**
 * The swarm's underlay as the firewall guards it, while this host is in a swarm: VXLAN
 * arriving on the data-path port is accepted only from the swarm's nodes, and the
 * VXLAN of encrypted networks only through IPsec.
 */
export interface FwUnderlay {
  /** UDP ports VXLAN arrives on (the swarm's data-path port, 4789 by default). */
  vxlanPorts: number[];
  /** The swarm's node addresses (IPv4 or IPv6): the only sources of VXLAN accepted. */
  members: string[];
  /** VNIs of encrypted networks: their VXLAN leaves marked for berth's IPsec policies, and arrives only decrypted. */
  encryptedVnis: number[];
  /**
   * VXLAN arrives in a namespace of its own (cluster/data-path.ts): the guard lives there
   * (data-path.ts), and the host's table has none of these chains.
   */
  netns?: { path: string; identity: string };
}

/** The mark an encrypted network's VXLAN leaves with, which berth's IPsec policies select (Docker's value). */
export const IPSEC_MARK = 0xd0c4e3;

export interface FirewallModel {
  networks: FwNetwork[];
  endpoints: FwEndpoint[];
  publications: FwPublication[];
  /** The swarm's VXLAN guard; undefined outside a swarm (no VXLAN is filtered). */
  underlay?: FwUnderlay | undefined;
  /** --userland-proxy: loopback connections go to the daemon's proxy sockets, not through DNAT. */
  loopbackByProxy?: boolean;
}

export const emptyModel = (): FirewallModel => ({ networks: [], endpoints: [], publications: [] });

/** The publications of a container's allocated mappings on one network. */
export function publicationsFor(
  networkId: string,
  containerId: string,
  mappings: readonly PortSpec[],
  target: { ipv4?: string | undefined; ipv6?: string | undefined },
): FwPublication[] {
  return mappings.map((m) => ({
    networkId,
    containerId,
    proto: m.proto,
    hostIp: m.hostIp,
    hostPorts: { ...m.hostPorts },
    containerPorts: { ...m.containerPorts },
    ipv4: target.ipv4,
    ipv6: target.ipv6,
  }));
}
