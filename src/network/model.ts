/**
 * The network model: plain data, persisted as it is (one store key per object).
 * Kernel state is derived from it; nothing here knows about the kernel or the store.
 */
import type { PoolState } from './ipam/index.js';

export type NetworkId = string & { readonly __brand: 'NetworkId' };

export interface NetworkRecord {
  id: NetworkId;
  name: string;
  driver: string;
  /** RFC 3339 with nanoseconds, as Docker shows it. */
  created: string;
  internal: boolean;
  attachable: boolean;
  ingress: boolean;
  enableIPv6: boolean;
  ipam: {
    driver: string;
    /** As the request gave them; null when it gave none (inspect shows null, as Docker). */
    options: Record<string, string> | null;
    /** One per configured subnet, IPv4 ones first; the allocator's own state. */
    pools: PoolState[];
  };
  /** Driver options as the user gave them (inspect shows these, plus derived ones). */
  options: Record<string, string>;
  labels: Record<string, string>;
  /** bridge, host and none: made by the daemon, never removed by users. */
  predefined: boolean;
}

/** A validated create request, converted from Docker's JSON at the API edge. */
export interface CreateNetworkRequest {
  name: string;
  driver: string;
  internal: boolean;
  attachable: boolean;
  ingress: boolean;
  enableIPv6: boolean;
  ipamDriver: string;
  /** Null when the request had none. */
  ipamOptions: Record<string, string> | null;
  subnets: SubnetRequest[];
  options: Record<string, string>;
  labels: Record<string, string>;
}

export interface SubnetRequest {
  subnet?: string;
  ipRange?: string;
  gateway?: string;
  auxAddresses: Record<string, string>;
}

export const PREDEFINED_NETWORKS = ['bridge', 'host', 'none'] as const;

export type EndpointId = string & { readonly __brand: 'EndpointId' };

/** An address of an endpoint with its prefix length: "172.18.0.2", 16. */
export interface EndpointAddress {
  address: string;
  prefixLen: number;
  gateway: string;
}

/** A container's attachment to one network (persisted as endpoint/<id>). */
export interface EndpointRecord {
  id: EndpointId;
  networkId: NetworkId;
  /** The sandbox (container) the endpoint lives in. */
  containerId: string;
  /** The container's name without the leading '/', for DNS and inspect. */
  name: string;
  /** Interface name inside the sandbox (eth0, eth1, …); none for host/null. */
  ifName: string | undefined;
  /** Host side of the veth pair, for drivers that make one. */
  hostIfName: string | undefined;
  mac: string | undefined;
  ipv4: EndpointAddress | undefined;
  ipv6: EndpointAddress | undefined;
  /** Network-scoped aliases (--network-alias), as given. */
  aliases: string[];
  /**
   * --link on a user network: `alias` names `target` for this endpoint's container only
   * (libnetwork's endpoint aliases). Absent in records written before links were kept here.
   */
  links?: EndpointLink[];
  /** Whether this endpoint carries the sandbox's default route. */
  gateway: boolean;
  /** A swarm task's endpoint: the service it is a backend of (from the container's task labels). */
  service?: EndpointService;
}

/** The service a task's endpoint belongs to. */
export interface EndpointService {
  id: string;
  name: string;
  /** The task the container runs: a task the orchestrator is stopping is no backend any more. */
  taskId?: string;
}

/** A link of an endpoint: `alias` stands for the container named `target` on the network. */
export interface EndpointLink {
  target: string;
  alias: string;
}

/** What the engine asks for when it attaches a container to a network. */
export interface JoinRequest {
  containerId: string;
  name: string;
  /** --ip / --ip6 */
  ipv4?: string;
  ipv6?: string;
  /** --mac-address */
  mac?: string;
  aliases: string[];
  /** --link target:alias on a user network. */
  links?: EndpointLink[];
  /** A swarm task's container (its agent's join): a swarm network need not be attachable for it. */
  task?: boolean;
  /** A swarm task's container: its service (a backend of the service on this network). */
  service?: EndpointService;
}
